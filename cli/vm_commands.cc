// `minipod vm`: its options into a vm::VmConfig, the run, and the error
// with the console's last lines when the guest gave no status.
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "common/absl/self_path.h"
#include "common/absl/status_util.h"
#include "common/duration.h"
#include "rootfs/build.h"
#include "vm/runner.h"
#include "vm/vm_plan.h"

namespace minipod {
namespace {

using cli::ArgKind;

absl::StatusOr<vm::VmConfig> VmConfigFromArgs(const cli::ParsedArgs& args) {
  vm::VmConfig c;
  c.host_root = args.Has("host-root");
  std::vector<std::string> operands = args.operands();
  if (!c.host_root) {
    if (operands.empty()) return absl::InvalidArgumentError("missing IMAGE (or --host-root)");
    ASSIGN_OR_RETURN(c.image, rootfs::AbsoluteFromCwd(operands.front()));
    operands.erase(operands.begin());
  } else {
    ASSIGN_OR_RETURN(c.init_path, FindInit("--host-root"));
  }
  c.has_command = !operands.empty();
  c.command = std::move(operands);
  if (args.Has("kernel")) {
    if (args.Value("kernel").empty()) return absl::InvalidArgumentError("--kernel: empty path");
    ASSIGN_OR_RETURN(c.kernel, rootfs::AbsoluteFromCwd(args.Value("kernel")));
  }
  c.no_pvh = args.Has("no-pvh");
  if (args.Has("memory")) {
    ASSIGN_OR_RETURN(c.memory, vm::ParseMemory(args.Value("memory")));
  }
  if (args.Has("cpus")) {
    ASSIGN_OR_RETURN(c.cpus, vm::ParseCpus(args.Value("cpus")));
  }
  if (args.Has("timeout")) {
    c.timeout_text = args.Value("timeout");
    c.timeout_ms = common::ParseDurationMs(c.timeout_text.c_str());
    if (c.timeout_ms < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--timeout '", c.timeout_text, "': want a duration such as 90s, 5m or 1m30s"));
    }
  }
  c.append = args.Value("append");
  for (const std::string& value : args.Values("share")) {
    ASSIGN_OR_RETURN(vm::Share share, vm::ParseShare(value));
    ASSIGN_OR_RETURN(share.host_dir, rootfs::AbsoluteFromCwd(share.host_dir));
    struct stat st;
    if (::stat(share.host_dir.c_str(), &st) != 0) {
      return common::ErrnoStatus(errno, absl::StrCat("--share ", share.host_dir));
    }
    if (!S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat("--share ", share.host_dir, ": not a directory"));
    }
    c.shares.push_back(std::move(share));
  }
  if (c.shares.size() > vm::kMaxShares) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", vm::kMaxShares, " --share"));
  }
  return c;
}

absl::StatusOr<int> RunVm(const cli::ParsedArgs& args) {
  ASSIGN_OR_RETURN(const vm::VmConfig config, VmConfigFromArgs(args));
  ASSIGN_OR_RETURN(const vm::VmResult result, vm::RunVm(config));
  if (!result.error.empty()) {
    fflush(stdout);
    fprintf(stderr, "minipod vm: %s\n", result.error.c_str());
    if (!result.tail.empty()) {
      fprintf(stderr, "minipod vm: the console's last %zu lines:\n", result.tail.size());
      for (const std::string& line : result.tail) fprintf(stderr, "  %s\n", line.c_str());
    }
  }
  return result.status;
}

}  // namespace

std::vector<Command> VmCommands() {
  Command vm{
      {"vm"},
      "[OPTIONS] IMAGE [-- CMD [ARG]...] | --host-root [OPTIONS] [-- CMD [ARG]...]",
      "boot an initramfs under QEMU with the host's kernel and return the command's status",
      "Boots IMAGE (an initramfs with minipod-init as /init, e.g. from\n"
      "`minipod rootfs build --init`) with qemu-system-x86_64: KVM when /dev/kvm\n"
      "is usable, TCG otherwise; the host's newest /boot/vmlinuz-* unless --kernel.\n"
      "The serial console is our terminal. CMD, when given, replaces the image's\n"
      "command (/etc/minipod/argv in a small archive appended to a copy of IMAGE);\n"
      "--share adds the 9p modules of the kernel booted (from /lib/modules/R, R\n"
      "from the name vmlinuz-R) and the init mounts each share. --host-root runs\n"
      "CMD (default /bin/sh) over a read-only view of the host's own root.\n"
      "No time limit unless --timeout. Exit status: the guest command's (taken\n"
      "from the console line `minipod: exit status N`, QEMU's own status giving\n"
      "it only modulo 128), 124 on --timeout, 125 when no status came back (no\n"
      "QEMU, a bad kernel, a kernel that never started the init), 128+N when\n"
      "stopped by signal N.",
      {
          {"kernel", 0, ArgKind::kValue, "PATH", "the kernel (default: the newest /boot/vmlinuz-*)"},
          {"memory", 0, ArgKind::kValue, "SIZE", "guest memory, e.g. 512M or 2G (default 512M)"},
          {"cpus", 0, ArgKind::kValue, "N", "virtual CPUs (default 1)"},
          {"timeout", 0, ArgKind::kValue, "DURATION", "stop QEMU after DURATION (90s, 5m, ...) and exit 124"},
          {"append", 0, ArgKind::kValue, "ARGS", "more kernel command line (after minipod's own)"},
          {"share", 0, ArgKind::kList, "HOSTDIR:GUESTDIR[:rw]", "a host directory in the guest over 9p (read-only unless :rw)"},
          {"host-root", 0, ArgKind::kFlag, "", "no IMAGE: CMD runs over the host's / (read-only, 9p)"},
          {"no-pvh", 0, ArgKind::kFlag, "", "boot the bzImage even when a PVH vmlinux is available"},
      },
      RunVm,
  };
  vm.failure_status = vm::kExitVmFailed;
  return {vm};
}

}  // namespace minipod
