// The initramfs `minipod vm` hands QEMU: the image as it is or decompressed
// (image_expand.h), alone or followed by a small cpio with what the run adds (the command as
// /etc/minipod/argv, the 9p modules and the merged /etc/minipod/modules;
// the kernel unpacks concatenated archives in order, later files replacing
// earlier ones), or for --host-root an initramfs of its own (minipod-init,
// the modules, the command). Parent side; reads the image with libarchive.
#pragma once

#include <stddef.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"
#include "rootfs/staging.h"

namespace vm {

inline constexpr absl::string_view kArgvPath = "/etc/minipod/argv";
inline constexpr size_t kMaxArgvBytes = 4096;
inline constexpr size_t kMaxArgvWords = 64;

// Where an image keeps modules.dep for kernel release.
std::string ModulesDepPath(absl::string_view release);

// What a 9p share needs in Debian's kernel, where all three are modules.
std::vector<std::string> NinePModules();

// The words, each followed by one NUL byte: at most kMaxArgvWords words
// and kMaxArgvBytes bytes; a word may hold any byte but NUL.
absl::StatusOr<std::string> EncodeArgv(const std::vector<std::string>& words);

// The image's list, then each line of added that it does not hold yet
// (for /etc/minipod/modules and modules.dep alike).
std::string MergeModuleList(absl::string_view image_list, absl::string_view added);

// The file at image path (absolute, e.g. /etc/minipod/modules) in the
// image's first archive (cpio or tar; gzip, zstd, xz or none), at most limit
// bytes; NOT_FOUND when the image has no such regular file.
absl::StatusOr<std::string> ReadImageFile(const std::string& image, absl::string_view path,
                                          size_t limit = 64 * 1024);

struct ExtraConfig {
  std::string init_path;  // set: minipod-init and its skeleton too (--host-root)
  bool has_command = false;
  std::vector<std::string> command;
  bool nine_p = false;  // the 9p modules, from modules_root/kernel_release
  std::string kernel_release;
  std::string modules_root = "/lib/modules";
  std::string image_modules;  // the image's own /etc/minipod/modules, kept first
  std::string image_modules_dep;  // its /lib/modules/R/modules.dep, the same way
};

// Writes the archive to out (an uncompressed newc cpio: the guest would
// only spend time inflating it); false when there is nothing to add (no
// command, every module built in).
absl::StatusOr<bool> WriteExtraArchive(const ExtraConfig& config, rootfs::Staging& staging,
                                       const std::string& out);

// A file with no name (O_TMPFILE in dir) holding image (when not empty),
// zero padding to a multiple of 4 bytes, then extra: the initrd QEMU reads
// through /proc/self/fd, so nothing is left on disk whatever happens to the
// run. The image goes in decompressed (ExpandImage) when it expands to at
// most expand_limit bytes (0: never), else as it is.
absl::StatusOr<common::UniqueFd> AssembleInitrd(const std::string& image, const std::string& extra,
                                                const std::string& dir, size_t expand_limit = 0);

// Whether AssembleInitrd could expand image: its first bytes are a gzip,
// zstd or xz magic and it is at most expand_limit bytes long.
bool MayExpand(const std::string& image, size_t expand_limit);

}  // namespace vm
