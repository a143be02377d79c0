// The sandbox cgroup's device policy: Docker's default allow list as data,
// its v1 form (devices.allow lines) and its v2 form (a hand-assembled
// BPF_PROG_TYPE_CGROUP_DEVICE program), plus loading and attaching that
// program. Parent side only; the syscalls are bpf(2) (PROG_LOAD,
// PROG_ATTACH) and open of the cgroup directory.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace sandbox {

// Access bits, the same values as the kernel's BPF_DEVCG_ACC_* (and the
// letters m, r, w of devices.allow).
inline constexpr uint32_t kDevMknod = BPF_DEVCG_ACC_MKNOD;
inline constexpr uint32_t kDevRead = BPF_DEVCG_ACC_READ;
inline constexpr uint32_t kDevWrite = BPF_DEVCG_ACC_WRITE;
inline constexpr uint32_t kDevAll = kDevMknod | kDevRead | kDevWrite;
inline constexpr int64_t kAnyDev = -1;  // "*" as a major or minor

struct DeviceRule {
  char type;      // 'c', 'b' or 'a' (both)
  int64_t major;  // kAnyDev or 0 .. 2^31-1
  int64_t minor;
  uint32_t access;  // kDev* bits
};

// Docker's default (what its device cgroup allows a container without
// --privileged or --device): mknod of any node, and read/write/mknod of
// null, zero, full, random, urandom, tty, console, ptmx, the pts slaves and
// tun. Everything else is refused (EPERM on open).
std::span<const DeviceRule> DefaultDeviceRules();

// The rule as a devices.allow line: "c 1:3 rwm", "c *:* m", "a *:* rwm".
std::string DeviceRuleLine(const DeviceRule& rule);

// The decision the rules make for one access: allowed when some rule has
// the type (or 'a'), the major and minor (or *) and every requested access
// bit. type is 'c' or 'b'. The reference for both forms.
bool DeviceAllowed(std::span<const DeviceRule> rules, char type, uint32_t major, uint32_t minor,
                   uint32_t access);

// The BPF_PROG_TYPE_CGROUP_DEVICE program for the rules: returns 1 (allow)
// or 0 (deny, EPERM to the caller) exactly as DeviceAllowed decides. It uses
// only 32-bit context loads, 64-bit mov/and/rsh, jne with an immediate and
// exit. Pure.
std::vector<struct bpf_insn> DeviceProgram(std::span<const DeviceRule> rules);

// bpf(BPF_PROG_LOAD) of a device program; the verifier's log is in the
// error when it refuses the program. Needs CAP_SYS_ADMIN (or CAP_BPF).
absl::StatusOr<common::UniqueFd> LoadDeviceProgram(std::span<const struct bpf_insn> program);

// bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE) of prog_fd to the cgroup2
// directory dir, with BPF_F_ALLOW_MULTI so that an ancestor's device program
// (systemd's, a container engine's) still applies too. The program stays
// while the cgroup exists and is freed with it; the caller may close
// prog_fd. Needs CAP_SYS_ADMIN (CAP_NET_ADMIN for attach).
absl::Status AttachDeviceProgram(int prog_fd, const std::string& dir);

}  // namespace sandbox
