// Capabilities: the name table and Docker's rules run in the parent; the
// bounding-set drop and capset run in the post-clone child with raw
// syscalls (prctl, capset) and no allocation.
#include "sandbox/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/sys.h"
#include "common/unique_fd.h"

namespace sandbox {
namespace {

// Index = capability number, as in <linux/capability.h>.
constexpr std::array<const char*, 41> kCapNames = {
    "CAP_CHOWN",            "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",           "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",          "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",        "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",       "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",        "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",     "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",            "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",     "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",    "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
// The table and the header agree on the numbering at both ends.
static_assert(CAP_CHOWN == 0 && CAP_NET_ADMIN == 12 && CAP_SYS_ADMIN == 21 && CAP_SETFCAP == 31);
static_assert(CAP_CHECKPOINT_RESTORE == 40 && kCapNames.size() == CAP_CHECKPOINT_RESTORE + 1);

constexpr int kMaxMaskCap = 63;  // CapMask has 64 bits

int ReadLastCap() {
  common::UniqueFd fd(static_cast<int>(common::sys::Open("/proc/sys/kernel/cap_last_cap", O_RDONLY).value));
  if (!fd.valid()) return LastKnownCap();
  char buf[16];
  const common::SysResult r = common::sys::Read(fd.get(), buf, sizeof buf - 1);
  if (!r.ok() || r.value <= 0) return LastKnownCap();
  int n = -1;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(buf, static_cast<size_t>(r.value))), &n) ||
      n < 0) {
    return LastKnownCap();
  }
  return n > kMaxMaskCap ? kMaxMaskCap : n;
}

int ClampLastCap(int last_cap) { return last_cap < 0 ? -1 : (last_cap > kMaxMaskCap ? kMaxMaskCap : last_cap); }

void SetStep(const char** step, const char* what) {
  if (step != nullptr) *step = what;
}

}  // namespace

int LastKnownCap() { return static_cast<int>(kCapNames.size()) - 1; }

int LastCap() {
  static const int last = ReadLastCap();
  return last;
}

absl::StatusOr<int> ParseCapName(absl::string_view name, int last_cap) {
  absl::string_view bare = name;
  if (bare.size() >= 4 && absl::EqualsIgnoreCase(bare.substr(0, 4), "CAP_")) bare.remove_prefix(4);
  for (size_t cap = 0; cap < kCapNames.size(); ++cap) {
    if (!absl::EqualsIgnoreCase(bare, absl::string_view(kCapNames[cap]).substr(4))) continue;
    if (static_cast<int>(cap) > last_cap) {
      return absl::InvalidArgumentError(absl::StrCat("capability ", kCapNames[cap], " (", cap,
                                                     ") is not supported by the running kernel (cap_last_cap ",
                                                     last_cap, ")"));
    }
    return static_cast<int>(cap);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown capability '", name, "'"));
}

std::string CapName(int cap) {
  if (cap >= 0 && static_cast<size_t>(cap) < kCapNames.size()) return kCapNames[cap];
  return absl::StrCat("CAP_", cap);
}

CapMask AllCaps(int last_cap) {
  last_cap = ClampLastCap(last_cap);
  if (last_cap < 0) return 0;
  if (last_cap == kMaxMaskCap) return ~CapMask{0};
  return (CapMask{1} << (last_cap + 1)) - 1;
}

CapMask DockerDefaultCaps() {
  // moby's oci/caps/defaults.go, in its order.
  return CapBit(CAP_CHOWN) | CapBit(CAP_DAC_OVERRIDE) | CapBit(CAP_FSETID) | CapBit(CAP_FOWNER) |
         CapBit(CAP_MKNOD) | CapBit(CAP_NET_RAW) | CapBit(CAP_SETGID) | CapBit(CAP_SETUID) |
         CapBit(CAP_SETFCAP) | CapBit(CAP_SETPCAP) | CapBit(CAP_NET_BIND_SERVICE) | CapBit(CAP_SYS_CHROOT) |
         CapBit(CAP_KILL) | CapBit(CAP_AUDIT_WRITE);
}

namespace {

struct CapList {
  bool all = false;
  CapMask mask = 0;
};

absl::StatusOr<CapList> ParseCapList(absl::Span<const std::string> names, int last_cap) {
  CapList list;
  for (const std::string& name : names) {
    // Docker accepts "ALL" in any case but not "CAP_ALL".
    if (absl::EqualsIgnoreCase(name, "ALL")) {
      list.all = true;
      continue;
    }
    absl::StatusOr<int> cap = ParseCapName(name, last_cap);
    if (!cap.ok()) return cap.status();
    list.mask |= CapBit(*cap);
  }
  return list;
}

}  // namespace

absl::StatusOr<CapMask> ComputeCaps(absl::Span<const std::string> add, absl::Span<const std::string> drop,
                                    int last_cap) {
  absl::StatusOr<CapList> added = ParseCapList(add, last_cap);
  if (!added.ok()) return added.status();
  absl::StatusOr<CapList> dropped = ParseCapList(drop, last_cap);
  if (!dropped.ok()) return dropped.status();
  if (added->all && dropped->all) return absl::InvalidArgumentError("ALL is both added and dropped");
  if (const CapMask both = added->mask & dropped->mask; both != 0) {
    return absl::InvalidArgumentError(absl::StrCat(DescribeCaps(both), " both added and dropped"));
  }
  const CapMask all = AllCaps(last_cap);
  if (added->all) return all & ~dropped->mask;
  if (dropped->all) return added->mask;
  return ((DockerDefaultCaps() & ~dropped->mask) | added->mask) & all;
}

std::string DescribeCaps(CapMask mask) {
  std::string out;
  for (int cap = 0; cap <= kMaxMaskCap; ++cap) {
    if ((mask & CapBit(cap)) == 0) continue;
    if (!out.empty()) out += ',';
    out += CapName(cap);
  }
  return out;
}

// ---- Child side.

int DropBoundingSetInChild(CapMask keep, int last_cap, const char** step) {
  last_cap = ClampLastCap(last_cap);
  for (int cap = 0; cap <= last_cap; ++cap) {
    if ((keep & CapBit(cap)) != 0) continue;
    const common::SysResult has = common::sys::Prctl(PR_CAPBSET_READ, static_cast<unsigned long>(cap));
    if (!has.ok()) {
      // EINVAL: the kernel has no capability this high (an older kernel
      // than the caller assumed); nothing above it exists either.
      if (has.err == EINVAL) break;
      SetStep(step, "prctl(PR_CAPBSET_READ)");
      return has.err;
    }
    if (has.value == 0) continue;  // already gone: no CAP_SETPCAP needed
    const common::SysResult r = common::sys::Prctl(PR_CAPBSET_DROP, static_cast<unsigned long>(cap));
    if (!r.ok()) {
      SetStep(step, "prctl(PR_CAPBSET_DROP)");
      return r.err;
    }
  }
  return 0;
}

int SetCapsInChild(CapMask keep, bool uid_is_root, const char** step) {
  const CapMask mask = uid_is_root ? keep : 0;
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  for (int word = 0; word < _LINUX_CAPABILITY_U32S_3; ++word) {
    const auto bits = static_cast<uint32_t>(mask >> (32 * word));
    data[word].permitted = bits;
    data[word].effective = bits;
    // Inheritable stays empty: with it set, a program carrying inheritable
    // file capabilities would gain them on execve (CVE-2022-24769).
    data[word].inheritable = 0;
  }
  // No libc wrapper for capset; common/sys.h has none either.
  if (::syscall(SYS_capset, &header, data) != 0) {
    const int err = errno;
    SetStep(step, "capset");
    return err;
  }
  const common::SysResult r = common::sys::Prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL);
  // EINVAL: a kernel before 4.3 has no ambient set to clear.
  if (!r.ok() && r.err != EINVAL) {
    SetStep(step, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
    return r.err;
  }
  return 0;
}

}  // namespace sandbox
