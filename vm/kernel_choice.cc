// The kernel `minipod vm` boots: --kernel or the newest /boot/vmlinuz-*,
// checked readable; its release; and the PVH vmlinux to boot instead when
// the kernel has one (rootfs/kernel_image.h). open/stat/readdir only here.
#include "vm/kernel_choice.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "common/absl/dir_stream.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"
#include "rootfs/kernel_image.h"

namespace vm {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool VersionLess(absl::string_view a, absl::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (IsDigit(a[i]) && IsDigit(b[j])) {
      // Numbers: skip leading zeros, then the longer is larger, then bytes.
      while (i < a.size() && a[i] == '0') ++i;
      while (j < b.size() && b[j] == '0') ++j;
      size_t ei = i, ej = j;
      while (ei < a.size() && IsDigit(a[ei])) ++ei;
      while (ej < b.size() && IsDigit(b[ej])) ++ej;
      if (ei - i != ej - j) return ei - i < ej - j;
      const int c = a.substr(i, ei - i).compare(b.substr(j, ej - j));
      if (c != 0) return c < 0;
      i = ei;
      j = ej;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

std::string NewestVmlinuz(const std::vector<std::string>& names) {
  std::string best;
  for (const std::string& n : names) {
    if (!absl::StartsWith(n, "vmlinuz-") || n.size() == 8) continue;
    if (best.empty() || VersionLess(best, n)) best = n;
  }
  return best;
}

std::string KernelReleaseFromPath(absl::string_view path) {
  const size_t slash = path.rfind('/');
  absl::string_view name = slash == absl::string_view::npos ? path : path.substr(slash + 1);
  if (!absl::ConsumePrefix(&name, "vmlinuz-") && !absl::ConsumePrefix(&name, "vmlinux-")) return "";
  if (name.empty() || name == "." || name == ".." || name.size() > 200) return "";
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return "";
  }
  return std::string(name);
}

absl::StatusOr<KernelChoice> ChooseKernel(const std::string& kernel, bool no_pvh,
                                          const std::string& boot_dir) {
  KernelChoice choice;
  choice.image = kernel;
  if (kernel.empty()) {
    common::UniqueFd dir(::open(boot_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) {
      return common::ErrnoStatus(errno, absl::StrCat("no kernel to boot: open(", boot_dir,
                                                     ") (give --kernel PATH)"));
    }
    ASSIGN_OR_RETURN(common::DirStream stream, common::OpenDirStream(dir.get(), boot_dir));
    std::vector<std::string> names;
    while (const struct dirent* e = ::readdir(stream.get())) names.emplace_back(e->d_name);
    const std::string newest = NewestVmlinuz(names);
    if (newest.empty()) {
      return absl::NotFoundError(absl::StrCat("no kernel to boot: no ", boot_dir,
                                              "/vmlinuz-* (apt install linux-image-amd64, or give --kernel PATH)"));
    }
    choice.image = absl::StrCat(boot_dir, "/", newest);
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
