// Writes a manifest as a directory tree. The tree is built in a temporary
// sibling of the output and renamed into place, so OUT is either the old
// tree or the complete new one, never something in between.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rootfs/manifest.h"

namespace rootfs {

struct TreeStats {
  size_t files = 0;
  size_t bytes = 0;  // bytes of regular files copied
};

// The temporary sibling is named OUT + kTmpInfix + six random characters.
inline constexpr char kTmpInfix[] = ".tmp-";

struct TreeOptions {
  bool replace = false;
  // Hold an flock on the temporary directory while it is filled, so a
  // reaper (ReapStaleTemporaries in bundle_cache.h) can tell a live build
  // from the leftover of a killed one.
  bool lock_tmp = false;
};

// An existing OUT is an error (ALREADY_EXISTS, also when another process
// creates it while this one builds) unless replace is set; then it is
// swapped out atomically (renameat2 RENAME_EXCHANGE) and removed, and an
// OUT with a mount point inside is refused before anything is written.
// Device nodes need CAP_MKNOD (run as root; archives need no privileges).
absl::StatusOr<TreeStats> WriteTree(const Manifest& manifest, absl::string_view out, const TreeOptions& options);
absl::StatusOr<TreeStats> WriteTree(const Manifest& manifest, absl::string_view out, bool replace);

// rm -rf by fds (openat O_NOFOLLOW, unlinkat): never follows a symlink,
// even one swapped in while it runs, and never crosses into another mount
// (another file system or a bind mount of the same one): such a mount
// point is an error naming it.
absl::Status RemoveTree(const std::string& path);

// OK when no mount point (st_dev, mount id, STATX_ATTR_MOUNT_ROOT) is
// below the directory path; otherwise an error naming the first one.
absl::Status CheckNoMounts(const std::string& path);

}  // namespace rootfs
