// Which kernel `minipod vm` boots: --kernel PATH or the host's newest
// /boot/vmlinuz-*, its release (for /lib/modules/R), and the uncompressed
// vmlinux QEMU can start through the PVH entry when the kernel has one.
// Parent side: open/stat/readdir only.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rootfs/image.h"

namespace vm {

// The pickers `image build` shares (rootfs/image.h).
using rootfs::KernelReleaseFromPath;
using rootfs::NewestVmlinuz;
using rootfs::VersionLess;

struct KernelChoice {
  std::string image;    // the bzImage: --kernel or /boot's newest
  std::string release;  // from image's name; empty when unknown
  std::string boot;     // what QEMU gets: a PVH vmlinux, or image
  bool pvh = false;
};

// kernel empty: the newest boot_dir/vmlinuz-*. The file must be a readable
// regular file (an error names it and the reason). Unless no_pvh, boots the
// PVH vmlinux PvhKernel gives for it, the bzImage when there is none.
absl::StatusOr<KernelChoice> ChooseKernel(const std::string& kernel, bool no_pvh,
                                          const std::string& boot_dir = "/boot");

// The cached uncompressed vmlinux of kernel, for QEMU's PVH entry;
// FAILED_PRECONDITION when the kernel has no PVH note or the cache cannot
// hold one (the bzImage boots then).
absl::StatusOr<std::string> PvhKernel(const std::string& kernel);

}  // namespace vm
