// The kernel `minipod vm` boots: --kernel or the newest /boot/vmlinuz-*,
// checked readable; its release; and the PVH vmlinux to boot instead when
// the kernel has one (rootfs/kernel_image.h). open/stat only here.
#include "vm/kernel_choice.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"
#include "rootfs/image.h"
#include "rootfs/kernel_image.h"

namespace vm {

absl::StatusOr<KernelChoice> ChooseKernel(const std::string& kernel, bool no_pvh,
                                          const std::string& boot_dir) {
  KernelChoice choice;
  choice.image = kernel;
  if (kernel.empty()) {
    absl::StatusOr<std::string> newest = rootfs::DefaultKernel(boot_dir);
    if (!newest.ok()) {
      return absl::Status(newest.status().code(),
                          absl::StrCat("no kernel to boot: ", newest.status().message(),
                                       " (apt install linux-image-amd64, or give --kernel PATH)"));
    }
    choice.image = *std::move(newest);
  }
  common::UniqueFd fd(::open(choice.image.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("kernel ", choice.image));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("kernel ", choice.image));
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("kernel ", choice.image, ": not a regular file"));
  }
  char byte;
  if (::read(fd.get(), &byte, 1) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("kernel ", choice.image, ": cannot be read (empty?)"));
  }
  choice.release = KernelReleaseFromPath(choice.image);
  choice.boot = choice.image;
  if (!no_pvh) {
    absl::StatusOr<std::string> pvh = PvhKernel(choice.image);
    if (pvh.ok()) {
      choice.boot = *pvh;
      choice.pvh = true;
    } else if (!absl::IsFailedPrecondition(pvh.status())) {
      return pvh.status();
    }
  }
  return choice;
}

// rootfs::CachedPvhKernel extracts the vmlinux of a bzImage once and keeps
// it in the caller's private cache. A cache that cannot be used (no home, a
// full disk, a directory that is not ours) costs speed, not the boot: it is
// reported as FAILED_PRECONDITION like a kernel without the PVH note, and
// the bzImage boots.
absl::StatusOr<std::string> PvhKernel(const std::string& kernel) {
  absl::StatusOr<std::string> vmlinux = rootfs::CachedPvhKernel(kernel);
  if (vmlinux.ok() || absl::IsFailedPrecondition(vmlinux.status())) return vmlinux;
  return absl::FailedPreconditionError(
      absl::StrCat("no PVH vmlinux for ", kernel, ": ", vmlinux.status().message()));
}

}  // namespace vm
