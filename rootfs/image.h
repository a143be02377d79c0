// `minipod image build` as a library function: an initramfs with
// minipod-init as /init, binaries with their closures, kernel modules for
// the kernel the image is meant for, the default command
// (/etc/minipod/argv) and, on request, minipod itself so containers and
// pods run inside. Everything goes through rootfs::Build, so the image is
// reproducible and built without privileges. Runs in the minipod tool.
#pragma once

#include <stdint.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rootfs/build.h"

namespace rootfs {

// Where --with-minipod puts the tool and the programs it finds next to
// itself (common/absl/self_path.h looks in ../lib/minipod/).
inline constexpr absl::string_view kImageMinipod = "/usr/bin/minipod";
inline constexpr absl::string_view kImageLibDir = "/usr/lib/minipod";

struct ImageConfig {
  std::string output;    // OUT: .cpio, .cpio.gz, .cpio.zst, .cpio.xz
  std::string compress;  // empty: from OUT
  bool force = false;
  std::vector<std::string> binaries;
  std::vector<std::string> adds;
  std::vector<std::string> modules;
  // The kernel the image is for: its file name vmlinuz-R gives the release
  // of the modules, unless kernel_release is given. Empty: DefaultKernel().
  std::string kernel;
  std::string kernel_release;
  std::string modules_root = "/lib/modules";  // tests point this at a fixture
  std::vector<std::string> command;  // /etc/minipod/argv; empty: none
  std::string init_path;             // minipod-init (required)
  // --with-minipod: these three are copied in; empty: not.
  std::string minipod_path;
  std::string monitor_path;
  bool nss = false;
  bool strip = false;
  bool allow_missing = false;
  int64_t epoch = 0;
  std::function<void(absl::string_view)> report;
};

absl::StatusOr<BuildResult> BuildImage(const ImageConfig& config);

// What `minipod image inspect` shows: the default command, the modules
// the init loads, and every entry ("path", "dir/", "link -> target"), in
// archive order. Reads the first cpio archive of path (compressed with
// gzip, xz or zstd, or not); an argv or module list over its limit is an
// error.
struct ImageContents {
  bool has_command = false;
  std::vector<std::string> command;
  std::vector<std::string> modules;
  std::vector<std::string> entries;
};
absl::StatusOr<ImageContents> InspectImage(const std::string& path);

// Orders version strings as `sort -V` does for kernel names: runs of digits
// compare as numbers, everything else byte by byte.
bool VersionLess(absl::string_view a, absl::string_view b);

// The newest of names ("vmlinuz-6.1.0-57-amd64", ...) by VersionLess;
// empty when none starts with "vmlinuz-".
std::string NewestVmlinuz(const std::vector<std::string>& names);

// The newest dir/vmlinuz-* by version, the kernel `minipod vm` boots and
// `image build` takes its modules for by default; NOT_FOUND when there is
// none.
absl::StatusOr<std::string> DefaultKernel(const std::string& dir = "/boot");

// R of ".../vmlinuz-R" (or vmlinux-R); empty when the name has another form
// or R could not be a directory name.
std::string KernelReleaseFromPath(absl::string_view path);

}  // namespace rootfs
