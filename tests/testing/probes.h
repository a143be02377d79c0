// What this host's kernel and userland offer a test, asked of the real
// system: IA-32 and x32 syscall entry, the key retention service, our
// capability bounding set, the cgroup layout, whether we run in a container,
// programs on PATH and Debian's multiarch library directory. Every test that
// depends on one of these asks here, so all of them skip the same way:
//
//   if (const auto p = testing_util::HasIa32Entry(); !p) GTEST_SKIP() << p.detail;
//
// Header-only, no gtest, no Abseil (the probes and unit tests can use it).
// Syscall probes run in a forked child, so a fault kills the child only; every
// wait is bounded. Results of the kernel probes are computed once per process.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

namespace testing_util {

// The answer to one question about the host. `detail` says what was seen:
// why the feature is absent (ready to be a skip message), or where it was
// found.
struct Probe {
  bool ok = false;
  std::string detail;
  explicit operator bool() const { return ok; }
};

namespace probes_internal {

// Runs fn() in a forked child that _exits with fn's return value, and waits
// at most timeout_ms for it (then SIGKILLs it). The raw wait status, or -1
// when fork failed or the child had to be killed.
template <typename Fn>
int RunForStatus(Fn fn, int timeout_ms = 5000) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) ::_exit(fn());
  int ws = 0;
  for (int waited = 0;; waited += 5) {
    const pid_t w = ::waitpid(pid, &ws, WNOHANG);
    if (w == pid) return ws;
    if (w < 0 && errno != EINTR) return -1;
    if (waited >= timeout_ms) break;
    const timespec five_ms{0, 5'000'000};
    ::nanosleep(&five_ms, nullptr);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &ws, 0);
  return -1;
}

inline std::string DescribeStatus(int ws) {
  if (ws == -1) return "the probe child could not run or hung";
  if (WIFSIGNALED(ws)) return std::string("the probe child died of ") + strsignal(WTERMSIG(ws));
  return "the probe child exited " + std::to_string(WEXITSTATUS(ws));
}

inline bool ReadSmallFile(const char* path, std::string& out) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  out.clear();
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return false;
    }
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1 << 20)) break;
  }
  ::close(fd);
  return true;
}

// Capability names in number order (include/uapi/linux/capability.h).
inline constexpr const char* kCapNames[] = {
    "cap_chown",           "cap_dac_override",  "cap_dac_read_search", "cap_fowner",
    "cap_fsetid",          "cap_kill",          "cap_setgid",          "cap_setuid",
    "cap_setpcap",         "cap_linux_immutable", "cap_net_bind_service", "cap_net_broadcast",
    "cap_net_admin",       "cap_net_raw",       "cap_ipc_lock",        "cap_ipc_owner",
    "cap_sys_module",      "cap_sys_rawio",     "cap_sys_chroot",      "cap_sys_ptrace",
    "cap_sys_pacct",       "cap_sys_admin",     "cap_sys_boot",        "cap_sys_nice",
    "cap_sys_resource",    "cap_sys_time",      "cap_sys_tty_config",  "cap_mknod",
    "cap_lease",           "cap_audit_write",   "cap_audit_control",   "cap_setfcap",
    "cap_mac_override",    "cap_mac_admin",     "cap_syslog",          "cap_wake_alarm",
    "cap_block_suspend",   "cap_audit_read",    "cap_perfmon",         "cap_bpf",
    "cap_checkpoint_restore"};

}  // namespace probes_internal

// "cap_sys_module" for 16; "cap_N" for numbers newer than this table.
inline std::string CapName(int cap) {
  constexpr int n = sizeof probes_internal::kCapNames / sizeof probes_internal::kCapNames[0];
  if (cap >= 0 && cap < n) return probes_internal::kCapNames[cap];
  return "cap_" + std::to_string(cap);
}

// The IA-32 syscall entry (`int $0x80`) from a 64-bit process. Absent when the
// kernel lacks CONFIG_IA32_EMULATION or was booted with ia32_emulation=0: the
// instruction then raises SIGSEGV. A seccomp filter of the surrounding
// container can also refuse it (SIGSYS or an errno); any answer but our pid
// counts as absent.
inline Probe HasIa32Entry() {
#if defined(__x86_64__)
  static const Probe result = [] {
    const int ws = probes_internal::RunForStatus([] {
      long ret = 20;  // __NR_getpid in the i386 table
      asm volatile("int $0x80" : "+a"(ret) : : "memory", "r8", "r9", "r10", "r11");
      return ret == ::getpid() ? 0 : 1;
    });
    if (ws != -1 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0) return Probe{true, "int $0x80 getpid works"};
    return Probe{false, "no IA-32 syscall entry on this kernel (int $0x80 getpid: " +
                            probes_internal::DescribeStatus(ws) + ")"};
  }();
  return result;
#else
  return Probe{false, "IA-32 syscall entry is an x86-64 question"};
#endif
}

// The x32 ABI (CONFIG_X86_X32_ABI; Debian's kernels leave it out unless
// booted with syscall.x32=y): a syscall number with bit 30 set.
inline Probe HasX32() {
#if defined(__x86_64__)
  static const Probe result = [] {
    const int ws = probes_internal::RunForStatus([] {
      constexpr long kX32Bit = 0x40000000;
      const long ret = ::syscall(kX32Bit | 39);  // getpid in the x32 table
      return ret == ::getpid() ? 0 : 1;
    });
    if (ws != -1 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0) return Probe{true, "x32 getpid works"};
    return Probe{false, "no x32 syscall ABI on this kernel (x32 getpid: " + probes_internal::DescribeStatus(ws) +
                            ")"};
  }();
  return result;
#else
  return Probe{false, "x32 is an x86-64 question"};
#endif
}

// The key retention service (CONFIG_KEYS): /proc/keys exists, or keyctl(2)
// answers with something other than ENOSYS.
inline Probe HasKeys() {
  static const Probe result = [] {
    struct stat st {};
    if (::stat("/proc/keys", &st) == 0) return Probe{true, "/proc/keys exists"};
    const long r = ::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
    if (r >= 0 || errno != ENOSYS) return Probe{true, "/proc/keys is missing but keyctl(2) answers"};
    return Probe{false, "kernel without CONFIG_KEYS (no /proc/keys, keyctl(2) is ENOSYS)"};
  }();
  return result;
}

// /proc/sys/kernel/cap_last_cap, or CAP_LAST_CAP of our headers when it
// cannot be read.
inline int LastCap() {
  std::string text;
  if (probes_internal::ReadSmallFile("/proc/sys/kernel/cap_last_cap", text)) {
    const int n = atoi(text.c_str());
    if (n > 0 && n < 64) return n;
  }
  return CAP_LAST_CAP;
}

// One capability set of this process from /proc/self/status: field is
// "CapBnd", "CapEff", "CapPrm", "CapInh" or "CapAmb"; 0 when unreadable.
inline uint64_t CapSet(std::string_view field) {
  std::string status;
  if (!probes_internal::ReadSmallFile("/proc/self/status", status)) return 0;
  const std::string key = "\n" + std::string(field) + ":\t";
  const size_t at = status.find(key);
  if (at == std::string::npos) return 0;
  return strtoull(status.c_str() + at + key.size(), nullptr, 16);
}

// This process's bounding set.
inline uint64_t BoundingSet() { return CapSet("CapBnd"); }

inline bool InBoundingSet(int cap) { return cap >= 0 && cap < 64 && (BoundingSet() >> cap) & 1; }

// The capabilities the kernel knows that our bounding set lacks.
inline std::vector<int> MissingFromBoundingSet() {
  std::vector<int> missing;
  const uint64_t bnd = BoundingSet();
  for (int cap = 0; cap <= LastCap(); ++cap) {
    if (((bnd >> cap) & 1) == 0) missing.push_back(cap);
  }
  return missing;
}

// Whether the bounding set holds every capability the kernel knows; a
// container runtime (or `setpriv --bounding-set`) reduces it. Not cached:
// a test's child may drop capabilities.
inline Probe BoundingSetFull() {
  const std::vector<int> missing = MissingFromBoundingSet();
  if (missing.empty()) return Probe{true, "the bounding set is full"};
  std::string names;
  for (int cap : missing) names += (names.empty() ? "" : ", ") + CapName(cap);
  return Probe{false, "the bounding set lacks " + names + " (as inside a container)"};
}

// Whether every capability in mask is in our bounding set; detail names the
// first that is not.
inline Probe BoundingSetHas(uint64_t mask) {
  const uint64_t bnd = BoundingSet();
  for (int cap = 0; cap < 64; ++cap) {
    if (((mask >> cap) & 1) != 0 && ((bnd >> cap) & 1) == 0) {
      return Probe{false, "the bounding set lacks " + CapName(cap) + " (as inside a container)"};
    }
  }
  return Probe{true, "the bounding set holds the capabilities asked for"};
}

// Whether every capability in mask is in our effective set (what root
// started under a reduced bounding set lacks); detail names the first that
// is not.
inline Probe EffectiveHas(uint64_t mask) {
  const uint64_t eff = CapSet("CapEff");
  for (int cap = 0; cap < 64; ++cap) {
    if (((mask >> cap) & 1) != 0 && ((eff >> cap) & 1) == 0) {
      return Probe{false, "needs " + CapName(cap) + " in the effective set"};
    }
  }
  return Probe{true, "the effective set holds the capabilities asked for"};
}

enum class CgroupLayout {
  kNone,    // nothing mounted at /sys/fs/cgroup
  kV1,      // only v1 hierarchies under a tmpfs at /sys/fs/cgroup
  kHybrid,  // v1 hierarchies plus cgroup2 at /sys/fs/cgroup/unified
  kV2,      // cgroup2 at /sys/fs/cgroup (unified)
};

inline const char* CgroupLayoutName(CgroupLayout l) {
  switch (l) {
    case CgroupLayout::kNone:
      return "none";
    case CgroupLayout::kV1:
      return "v1";
    case CgroupLayout::kHybrid:
      return "hybrid";
    case CgroupLayout::kV2:
      return "v2";
  }
  return "?";
}

// The layout systemd calls legacy / hybrid / unified, from the file system
// types at /sys/fs/cgroup and /sys/fs/cgroup/unified.
inline CgroupLayout CgroupLayoutKind() {
  struct statfs fs {};
  if (::statfs("/sys/fs/cgroup", &fs) != 0) return CgroupLayout::kNone;
  if (fs.f_type == CGROUP2_SUPER_MAGIC) return CgroupLayout::kV2;
  if (fs.f_type == CGROUP_SUPER_MAGIC) return CgroupLayout::kV1;  // one v1 hierarchy mounted right there
  if (fs.f_type != TMPFS_MAGIC) return CgroupLayout::kNone;
  if (::statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) {
    return CgroupLayout::kHybrid;
  }
  return CgroupLayout::kV1;
}

// Whether we run inside a container, from the marks runtimes leave:
// /.dockerenv (Docker), /run/.containerenv (Podman), container= in PID 1's
// environment (systemd-nspawn, LXC, Podman). A bare runtime may leave none:
// tests should probe the feature they need (BoundingSetHas, ...) rather than
// this.
inline Probe InContainer() {
  struct stat st {};
  if (::stat("/.dockerenv", &st) == 0) return Probe{true, "/.dockerenv exists"};
  if (::stat("/run/.containerenv", &st) == 0) return Probe{true, "/run/.containerenv exists"};
  std::string env;
  if (probes_internal::ReadSmallFile("/proc/1/environ", env)) {
    for (size_t at = 0; at < env.size(); at = env.find('\0', at) + 1) {
      if (env.compare(at, 10, "container=") == 0) {
        return Probe{true, "PID 1's environment has " + std::string(env.c_str() + at)};
      }
      if (env.find('\0', at) == std::string::npos) break;
    }
  }
  return Probe{false, "no container marks (/.dockerenv, /run/.containerenv, container= for PID 1)"};
}

// An executable named `name` in PATH (or in the system directories when PATH
// is unset); detail is its path when found.
inline Probe HasProgram(std::string_view name) {
  const char* env = ::getenv("PATH");
  const std::string path = env != nullptr && *env != '\0' ? env : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  for (size_t start = 0; start <= path.size();) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string dir = end > start ? path.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + std::string(name);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return Probe{true, candidate};
    }
    start = end + 1;
  }
  return Probe{false, std::string(name) + " is not installed (not found in PATH)"};
}

// Debian's multiarch library directory for this build's architecture
// (/usr/lib/x86_64-linux-gnu); detail is the path when it exists.
inline Probe MultiarchLibDir() {
#if defined(__x86_64__)
  const char* dir = "/usr/lib/x86_64-linux-gnu";
#elif defined(__aarch64__)
  const char* dir = "/usr/lib/aarch64-linux-gnu";
#else
  const char* dir = nullptr;
#endif
  struct stat st {};
  if (dir != nullptr && ::stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return Probe{true, dir};
  return Probe{false, std::string("no Debian multiarch library directory (") + (dir ? dir : "unknown triplet") +
                          ")"};
}

}  // namespace testing_util
