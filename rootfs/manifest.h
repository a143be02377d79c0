// What goes into an image: a map from absolute image paths to entries
// (directories, files copied from the host, symlinks, device nodes),
// sorted, each path once. Every writer (tree, cpio, tar, OCI) consumes the
// same manifest, so they agree byte for byte on what an image holds.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rootfs {

struct Entry {
  enum class Kind { kDir, kFile, kSymlink, kCharDevice };
  Kind kind = Kind::kDir;
  std::string source;  // kFile: the host file to copy
  std::string target;  // kSymlink: the link text, exactly as on the host
  mode_t mode = 0755;  // permission bits
  unsigned major = 0;  // kCharDevice
  unsigned minor = 0;
};

// "/usr//lib/./x" -> "/usr/lib/x". Refuses relative paths, "..", empty
// components after normalizing to "/", and NUL bytes.
absl::StatusOr<std::string> NormalizeImagePath(absl::string_view path);

// Lexically resolves a symlink's text against the directory holding it:
// ("/usr/lib64", "../lib/x") -> "/usr/lib/x"; an absolute text stands as is.
// ".." never climbs above "/", as in the kernel.
std::string ResolveLinkText(absl::string_view link_dir, absl::string_view text);

class Manifest;

// path resolved through the image's own symlinks, as if the image were
// "/": a link's absolute text starts again at the image's root, and ".."
// never climbs above it (RESOLVE_IN_ROOT), so /bin/tool becomes
// /usr/bin/tool once /bin -> usr/bin is in the image. Every component is
// followed, the last one too; more than 40 links is an error.
absl::StatusOr<std::string> ResolveInImage(const Manifest& manifest, absl::string_view path);

class Manifest {
 public:
  // Each Add* creates missing parent directories (0755). Adding a path again
  // with an identical entry is a no-op; with a different one, or below a
  // path that is not a directory, it is an error naming both.
  absl::Status AddDir(absl::string_view path, mode_t mode = 0755);
  absl::Status AddFile(absl::string_view path, absl::string_view source, mode_t mode);
  absl::Status AddSymlink(absl::string_view path, absl::string_view target);
  absl::Status AddCharDevice(absl::string_view path, mode_t mode, unsigned major, unsigned minor);

  // Adds the host path under the same name, mirroring every symlink met on
  // the way, in directories too (on Debian 12, /lib64 -> usr/lib64 and then
  // /usr/lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/...), so the
  // image resolves each name exactly as the host does. Returns the real
  // path that was reached (a file or directory). A directory is added
  // empty: copying a tree is the caller's choice.
  absl::StatusOr<std::string> AddHostPath(absl::string_view host_path);

  // Points the file at path to another host file with the same content
  // after processing (a stripped copy, say); an error if path is no file.
  absl::Status ReplaceSource(absl::string_view path, absl::string_view source);

  bool Contains(absl::string_view path) const { return entries_.contains(std::string(path)); }
  const std::map<std::string, Entry>& entries() const { return entries_; }
  // Number of regular files.
  size_t file_count() const;

 private:
  absl::Status Put(const std::string& path, const Entry& entry);
  absl::Status EnsureParents(const std::string& path);

  std::map<std::string, Entry> entries_;  // sorted: parents before children
};

}  // namespace rootfs
