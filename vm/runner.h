// `minipod vm` below option parsing: picks the kernel, builds the initrd,
// starts QEMU with the plan of vm_plan.h, copies the serial console to our
// stdout while scanning it, bounds the run, and turns how QEMU ended into
// the guest command's status. Parent side: fork/exec of QEMU, pidfd,
// signalfd, poll.
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "vm/vm_plan.h"

namespace vm {

struct VmConfig {
  std::string image;       // the initramfs; empty with host_root
  bool host_root = false;  // the host's / (read-only, 9p) as the command's root
  std::string kernel;      // empty: the newest /boot/vmlinuz-*
  bool no_pvh = false;
  std::string memory = "512M";
  int cpus = 1;
  int64_t timeout_ms = 0;  // 0: no limit
  std::string timeout_text;
  std::string append;
  std::vector<Share> shares;  // host_dir absolute and a directory
  bool has_command = false;
  std::vector<std::string> command;
  std::string init_path;  // minipod-init, for host_root
  std::string modules_root = "/lib/modules";
  std::string boot_dir = "/boot";
};

struct VmResult {
  int status = 0;
  std::string error;              // empty: the guest's own status
  std::vector<std::string> tail;  // the console's last lines, with an error
};

// qemu-system-x86_64 from PATH; NOT_FOUND with the package to install.
absl::StatusOr<std::string> FindQemu();

// A failed Status: nothing ran (no QEMU, a bad kernel or image, a share
// that is no directory); the caller exits 125. Otherwise the run's status,
// with an error and the console's tail when the guest gave none.
absl::StatusOr<VmResult> RunVm(const VmConfig& config);

}  // namespace vm
