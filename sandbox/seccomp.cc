// Filter compilation (parent: libseccomp, nlohmann::json) and installation
// (child: the seccomp system call only).
#include "sandbox/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <iterator>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/absl/file_util.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"
#include "sandbox/caps.h"

namespace sandbox {
namespace {

using Ctx = std::unique_ptr<void, void (*)(scmp_filter_ctx)>;

// SCMP_A0() and friends are C compound literals.
scmp_arg_cmp Arg(unsigned index, scmp_compare op, scmp_datum_t a, scmp_datum_t b = 0) {
  return scmp_arg_cmp{index, op, a, b};
}

absl::Status Scmp(int rc, absl::string_view what) {
  if (rc == 0) return absl::OkStatus();
  return common::ErrnoStatus(-rc, absl::StrCat("libseccomp: ", what));
}

// Every ABI this machine can enter the kernel with.
absl::Status AddArchitectures(scmp_filter_ctx ctx) {
#if defined(__x86_64__)
  for (uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32}) {
    const int rc = seccomp_arch_add(ctx, arch);
    if (rc != 0 && rc != -EEXIST) return Scmp(rc, "seccomp_arch_add");
  }
#elif defined(__aarch64__)
  const int rc = seccomp_arch_add(ctx, SCMP_ARCH_ARM);
  if (rc != 0 && rc != -EEXIST) return Scmp(rc, "seccomp_arch_add");
#endif
  return absl::OkStatus();
}

absl::StatusOr<SeccompProgram> Export(scmp_filter_ctx ctx) {
  common::UniqueFd fd(::memfd_create("minipod-seccomp", MFD_CLOEXEC));
  if (!fd) return common::ErrnoStatus(errno, "memfd_create");
  RETURN_IF_ERROR(Scmp(seccomp_export_bpf(ctx, fd.get()), "seccomp_export_bpf"));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return common::ErrnoStatus(errno, "fstat(seccomp program)");
  SeccompProgram program;
  program.filter.resize(static_cast<size_t>(st.st_size) / sizeof(struct sock_filter));
  const size_t bytes = program.filter.size() * sizeof(struct sock_filter);
  if (::pread(fd.get(), program.filter.data(), bytes, 0) != static_cast<ssize_t>(bytes)) {
    return common::ErrnoStatus(errno, "read(seccomp program)");
  }
  return program;
}

// A rule for a syscall this libseccomp or architecture does not know is
// skipped, as Docker does.
absl::Status Rule(scmp_filter_ctx ctx, uint32_t action, const char* name, unsigned count = 0,
                  const scmp_arg_cmp* args = nullptr) {
  const int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return absl::OkStatus();
  const int rc = seccomp_rule_add_array(ctx, action, nr, count, args);
  if (rc == -EDOM || rc == -EFAULT) return absl::OkStatus();  // not on every ABI
  return Scmp(rc, absl::StrCat("seccomp_rule_add(", name, ")"));
}

// Docker's default profile as data: the calls any container may make...
constexpr const char* kAllowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir", "chmod",
    "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
    "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
    "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
    "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl",
    "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat",
    "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
    "futex_time64", "futex_waitv", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
    "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
    "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
    "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid",
    "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
    "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl",
    "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set",
    "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr",
    "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
    "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock",
    "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
    "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
    "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at",
    "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
    "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll",
    "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6",
    "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat",
    "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr",
    "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam",
    "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
    "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
    "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid",
    "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
    "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
    "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
    "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt",
    "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
    "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
    "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime",
    "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
#if defined(__x86_64__) || defined(__i386__)
    "arch_prctl", "modify_ldt",
#endif
#if defined(__aarch64__) || defined(__arm__)
    "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls",
#endif
};

// ...and those that come with a capability.
struct CapAllowed {
  int cap;
  std::vector<const char*> names;
};
const std::vector<CapAllowed>& CapGated() {
  static const auto* gated = new std::vector<CapAllowed>{
      {CAP_DAC_READ_SEARCH, {"open_by_handle_at"}},
      {CAP_SYS_ADMIN, {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                       "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
                       "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
                       "umount2", "unshare"}},
      {CAP_SYS_BOOT, {"reboot"}},
      {CAP_SYS_CHROOT, {"chroot"}},
      {CAP_SYS_MODULE, {"delete_module", "init_module", "finit_module"}},
      {CAP_SYS_PACCT, {"acct"}},
      {CAP_SYS_PTRACE, {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"}},
      {CAP_SYS_RAWIO, {"iopl", "ioperm"}},
      {CAP_SYS_TIME, {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
      {CAP_SYS_TTY_CONFIG, {"vhangup"}},
      {CAP_SYS_NICE, {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
      {CAP_SYSLOG, {"syslog"}},
      {CAP_BPF, {"bpf"}},
      {CAP_PERFMON, {"perf_event_open"}},
  };
  return *gated;
}

bool Holds(uint64_t caps, int cap) { return cap < 64 && ((caps >> cap) & 1) != 0; }

// The allow list: everything else fails with EPERM, as in Docker.
absl::StatusOr<std::vector<struct sock_filter>> AllowList(uint64_t caps) {
  Ctx ctx(seccomp_init(SCMP_ACT_ERRNO(EPERM)), seccomp_release);
  if (ctx == nullptr) return absl::InternalError("libseccomp: seccomp_init failed");
  RETURN_IF_ERROR(Scmp(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
                       "SCMP_FLTATR_ACT_BADARCH"));
  // A binary tree of syscall numbers instead of a list: every call the
  // command makes walks this filter.
  (void)seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  RETURN_IF_ERROR(AddArchitectures(ctx.get()));
  for (const char* name : kAllowed) RETURN_IF_ERROR(Rule(ctx.get(), SCMP_ACT_ALLOW, name));
  for (const CapAllowed& g : CapGated()) {
    if (!Holds(caps, g.cap)) continue;
    for (const char* name : g.names) RETURN_IF_ERROR(Rule(ctx.get(), SCMP_ACT_ALLOW, name));
  }
  // socket: anything but AF_VSOCK.
  const scmp_arg_cmp not_vsock[] = {Arg(0, SCMP_CMP_NE, 40 /*AF_VSOCK*/)};
  RETURN_IF_ERROR(Rule(ctx.get(), SCMP_ACT_ALLOW, "socket", 1, not_vsock));
  // The i386 multiplexer socketcall(2) passes its arguments behind a
  // pointer that BPF cannot read, so no rule on socket's arguments can hold
  // for it; and libseccomp adds socketcall(SYS_SOCKET) companions that
  // allow it whenever socket is allowed. An unconditional rule overrides
  // them. ENOSYS, not EPERM, so that libcs fall back to the direct calls
  // (socket is 359 on i386 since Linux 4.3), as Docker's and containerd's
  // profiles do. The other i386 multiplexer, ipc(2), stays: every call it
  // reaches (semop, msgsnd, shmat...) is allowed here without conditions,
  // and glibc built for kernels before 5.1 has no fallback from it. x86_64
  // and x32 have no multiplexer.
  RETURN_IF_ERROR(Rule(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), "socketcall"));
  // personality: Linux, Linux32, UNAME26 and both, and the query.
  for (scmp_datum_t persona : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL}) {
    const scmp_arg_cmp cmp[] = {Arg(0, SCMP_CMP_EQ, persona)};
    RETURN_IF_ERROR(Rule(ctx.get(), SCMP_ACT_ALLOW, "personality", 1, cmp));
  }
  if (!Holds(caps, CAP_SYS_ADMIN)) {
    // clone without any namespace flag (x86 and arm keep the flags in arg
    // 0); clone3 hides its flags in memory, so it says ENOSYS and glibc
    // falls back to clone.
    const scmp_arg_cmp no_ns[] = {Arg(0, SCMP_CMP_MASKED_EQ, 0x7E020000, 0)};
    RETURN_IF_ERROR(Rule(ctx.get(), SCMP_ACT_ALLOW, "clone", 1, no_ns));
    RETURN_IF_ERROR(Rule(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), "clone3"));
  }
  ASSIGN_OR_RETURN(SeccompProgram p, Export(ctx.get()));
  return p.filter;
}

}  // namespace

absl::StatusOr<SeccompProgram> CompileDefaultSeccomp(uint64_t caps) {
  // What an allow list cannot say, as a second filter that refuses by
  // argument (the kernel applies both; the stricter answer wins): masked
  // comparisons catch a request with junk in the upper 32 bits, which the
  // kernel drops before it acts.
  Ctx ctx(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  if (ctx == nullptr) return absl::InternalError("libseccomp: seccomp_init failed");
  RETURN_IF_ERROR(Scmp(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
                       "SCMP_FLTATR_ACT_BADARCH"));
  RETURN_IF_ERROR(AddArchitectures(ctx.get()));
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  // Keystrokes pushed into a terminal, and the console's own ioctls.
  for (scmp_datum_t request : {scmp_datum_t{TIOCSTI}, scmp_datum_t{TIOCLINUX}}) {
    const scmp_arg_cmp cmp[] = {Arg(1, SCMP_CMP_MASKED_EQ, 0xffffffff, request)};
    RETURN_IF_ERROR(Rule(ctx.get(), eperm, "ioctl", 1, cmp));
  }
  // Device nodes: no character or block device, though FIFOs and sockets
  // are fine (CAP_MKNOD stays in the set, as Docker has it).
  for (scmp_datum_t type : {scmp_datum_t{S_IFCHR}, scmp_datum_t{S_IFBLK}}) {
    const scmp_arg_cmp mknod[] = {Arg(1, SCMP_CMP_MASKED_EQ, S_IFMT, type)};
    RETURN_IF_ERROR(Rule(ctx.get(), eperm, "mknod", 1, mknod));
    const scmp_arg_cmp mknodat[] = {Arg(2, SCMP_CMP_MASKED_EQ, S_IFMT, type)};
    RETURN_IF_ERROR(Rule(ctx.get(), eperm, "mknodat", 1, mknodat));
  }
  // Raw and packet sockets (CAP_NET_RAW stays, as Docker has it).
  const scmp_arg_cmp packet[] = {Arg(0, SCMP_CMP_EQ, AF_PACKET)};
  RETURN_IF_ERROR(Rule(ctx.get(), eperm, "socket", 1, packet));
  const scmp_arg_cmp raw[] = {Arg(1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW)};
  RETURN_IF_ERROR(Rule(ctx.get(), eperm, "socket", 1, raw));
  // libseccomp gives these socketcall(SYS_SOCKET) companions on i386 that
  // say EPERM; the kernel would answer with this filter's errno (the newer
  // one), so it must say ENOSYS for socketcall too (see AllowList).
  RETURN_IF_ERROR(Rule(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), "socketcall"));
  // io_uring (out of Docker's list since moby 25), and tracing without
  // CAP_SYS_PTRACE, which Docker allows from Linux 4.8 on.
  for (const char* name : {"io_uring_setup", "io_uring_enter", "io_uring_register"}) {
    RETURN_IF_ERROR(Rule(ctx.get(), eperm, name));
  }
  if (!Holds(caps, CAP_SYS_PTRACE)) {
    for (const char* name : {"ptrace", "process_vm_readv", "process_vm_writev"}) {
      RETURN_IF_ERROR(Rule(ctx.get(), eperm, name));
    }
  }
  ASSIGN_OR_RETURN(SeccompProgram program, Export(ctx.get()));
  ASSIGN_OR_RETURN(program.second, AllowList(caps));
  return program;
}

namespace {

// --- Docker-format profiles ------------------------------------------------

using nlohmann::json;

absl::Status Bad(absl::string_view what, absl::string_view where, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", where, ": ", why));
}

absl::StatusOr<uint32_t> Action(absl::string_view what, const std::string& where, const json& j, int errno_ret) {
  if (!j.is_string()) return Bad(what, where, "not a string");
  const std::string a = j.get<std::string>();
  if (a == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (a == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(static_cast<uint16_t>(errno_ret));
  if (a == "SCMP_ACT_KILL" || a == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (a == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (a == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (a == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (a == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(static_cast<uint16_t>(errno_ret));
  return Bad(what, where, absl::StrCat("unknown action '", a, "'"));
}

absl::StatusOr<int> ErrnoRet(absl::string_view what, const std::string& where, const json& obj, int fallback) {
  if (!obj.contains("errnoRet") || obj["errnoRet"].is_null()) return fallback;
  const json& e = obj["errnoRet"];
  if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() > 4095) {
    return Bad(what, where + ".errnoRet", "not an errno number");
  }
  return static_cast<int>(e.get<int64_t>());
}

absl::StatusOr<scmp_compare> Op(absl::string_view what, const std::string& where, const json& j) {
  if (!j.is_string()) return Bad(what, where, "not a string");
  const std::string o = j.get<std::string>();
  if (o == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (o == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (o == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (o == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (o == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (o == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (o == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  return Bad(what, where, absl::StrCat("unknown operator '", o, "'"));
}

absl::StatusOr<uint32_t> Arch(absl::string_view what, const std::string& where, const json& j) {
  if (!j.is_string()) return Bad(what, where, "not a string");
  const std::string a = j.get<std::string>();
  // "SCMP_ARCH_X86_64" -> "x86_64", as libseccomp names them.
  std::string name = a.rfind("SCMP_ARCH_", 0) == 0 ? a.substr(10) : a;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name == "x86") name = "x86";
  const uint32_t token = seccomp_arch_resolve_name(name.c_str());
  if (token == 0) return Bad(what, where, absl::StrCat("unknown architecture '", a, "'"));
  return token;
}

// includes/excludes: only "caps" is decided here; arches and minKernel
// conditions are taken as met (the profile's architectures already say
// which ABIs apply).
absl::StatusOr<bool> Applies(absl::string_view what, const std::string& where, const json& rule, uint64_t caps) {
  // A capability this build does not know is one nobody holds.
  auto cap_bit = [](const std::string& name) -> int {
    const absl::StatusOr<int> cap = ParseCapName(name, LastKnownCap());
    return cap.ok() ? *cap : -1;
  };
  for (const char* key : {"includes", "excludes"}) {
    if (!rule.contains(key)) continue;
    const json& cond = rule[key];
    if (!cond.is_object()) return Bad(what, absl::StrCat(where, ".", key), "not an object");
    if (!cond.contains("caps")) continue;
    if (!cond["caps"].is_array()) return Bad(what, absl::StrCat(where, ".", key, ".caps"), "not an array");
    bool all_held = true, any_held = false;
    for (const json& c : cond["caps"]) {
      if (!c.is_string()) return Bad(what, absl::StrCat(where, ".", key, ".caps"), "not a string");
      const int bit = cap_bit(c.get<std::string>());
      const bool held = bit >= 0 && (caps >> bit) & 1;
      all_held = all_held && held;
      any_held = any_held || held;
    }
    if (std::string(key) == "includes" && !all_held) return false;
    if (std::string(key) == "excludes" && any_held) return false;
  }
  return true;
}

constexpr size_t kMaxProfileBytes = 4 << 20;
constexpr size_t kMaxRules = 10000;

}  // namespace

absl::StatusOr<SeccompProgram> CompileDockerProfile(absl::string_view text, absl::string_view what, uint64_t caps) {
  if (text.size() > kMaxProfileBytes) return Bad(what, "file", "larger than 4 MiB");
  const json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Bad(what, "file", "not valid JSON");
  if (!doc.is_object()) return Bad(what, "file", "not a JSON object");
  int default_errno = EPERM;
  if (doc.contains("defaultErrnoRet")) {
    ASSIGN_OR_RETURN(default_errno, ErrnoRet(what, "defaultErrnoRet", json{{"errnoRet", doc["defaultErrnoRet"]}}, EPERM));
  }
  if (!doc.contains("defaultAction")) return Bad(what, "defaultAction", "missing");
  ASSIGN_OR_RETURN(const uint32_t default_action, Action(what, "defaultAction", doc["defaultAction"], default_errno));

  Ctx ctx(seccomp_init(default_action), seccomp_release);
  if (ctx == nullptr) return absl::InternalError("libseccomp: seccomp_init failed");
  RETURN_IF_ERROR(Scmp(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
                       "SCMP_FLTATR_ACT_BADARCH"));
  // The profile's architectures, or every ABI of this machine.
  bool arch_listed = false;
  if (doc.contains("architectures") && !doc["architectures"].is_null()) {
    if (!doc["architectures"].is_array()) return Bad(what, "architectures", "not an array");
    size_t i = 0;
    for (const json& a : doc["architectures"]) {
      ASSIGN_OR_RETURN(const uint32_t arch, Arch(what, absl::StrCat("architectures[", i++, "]"), a));
      const int rc = seccomp_arch_add(ctx.get(), arch);
      if (rc != 0 && rc != -EEXIST) return Scmp(rc, "seccomp_arch_add");
      arch_listed = true;
    }
  }
  if (!arch_listed) RETURN_IF_ERROR(AddArchitectures(ctx.get()));

  if (doc.contains("syscalls") && !doc["syscalls"].is_null()) {
    const json& syscalls = doc["syscalls"];
    if (!syscalls.is_array()) return Bad(what, "syscalls", "not an array");
    if (syscalls.size() > kMaxRules) return Bad(what, "syscalls", "more than 10000 rules");
    for (size_t i = 0; i < syscalls.size(); ++i) {
      const std::string where = absl::StrCat("syscalls[", i, "]");
      const json& rule = syscalls[i];
      if (!rule.is_object()) return Bad(what, where, "not an object");
      ASSIGN_OR_RETURN(const bool applies, Applies(what, where, rule, caps));
      if (!applies) continue;
      ASSIGN_OR_RETURN(const int errno_ret, ErrnoRet(what, where, rule, default_errno));
      if (!rule.contains("action")) return Bad(what, where + ".action", "missing");
      ASSIGN_OR_RETURN(const uint32_t action, Action(what, where + ".action", rule["action"], errno_ret));
      std::vector<scmp_arg_cmp> args;
      if (rule.contains("args") && !rule["args"].is_null()) {
        if (!rule["args"].is_array()) return Bad(what, where + ".args", "not an array");
        if (rule["args"].size() > 6) return Bad(what, where + ".args", "more than 6 conditions");
        for (size_t k = 0; k < rule["args"].size(); ++k) {
          const std::string aw = absl::StrCat(where, ".args[", k, "]");
          const json& a = rule["args"][k];
          if (!a.is_object()) return Bad(what, aw, "not an object");
          if (!a.contains("index") || !a["index"].is_number_integer() || a["index"].get<int64_t>() < 0 ||
              a["index"].get<int64_t>() > 5) {
            return Bad(what, aw + ".index", "not an argument index 0-5");
          }
          auto num = [&](const char* key) -> absl::StatusOr<scmp_datum_t> {
            if (!a.contains(key) || a[key].is_null()) return scmp_datum_t{0};
            if (!a[key].is_number_integer() || (!a[key].is_number_unsigned() && a[key].get<int64_t>() < 0)) {
              return Bad(what, absl::StrCat(aw, ".", key), "not an unsigned number");
            }
            return static_cast<scmp_datum_t>(a[key].get<uint64_t>());
          };
          ASSIGN_OR_RETURN(const scmp_datum_t value, num("value"));
          ASSIGN_OR_RETURN(const scmp_datum_t value_two, num("valueTwo"));
          if (!a.contains("op")) return Bad(what, aw + ".op", "missing");
          ASSIGN_OR_RETURN(const scmp_compare op, Op(what, aw + ".op", a["op"]));
          args.push_back(scmp_arg_cmp{static_cast<unsigned>(a["index"].get<uint64_t>()), op, value, value_two});
        }
      }
      std::vector<std::string> names;
      if (rule.contains("names") && !rule["names"].is_null()) {
        if (!rule["names"].is_array()) return Bad(what, where + ".names", "not an array");
        for (const json& n : rule["names"]) {
          if (!n.is_string()) return Bad(what, where + ".names", "not a string");
          names.push_back(n.get<std::string>());
        }
      } else if (rule.contains("name") && rule["name"].is_string()) {
        names.push_back(rule["name"].get<std::string>());
      } else {
        return Bad(what, where + ".names", "missing");
      }
      if (action == default_action) continue;  // libseccomp refuses a rule equal to the default
      for (const std::string& name : names) {
        const int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) continue;  // unknown here: skipped, as Docker does
        const int rc = seccomp_rule_add_array(ctx.get(), action, nr, static_cast<unsigned>(args.size()),
                                              args.empty() ? nullptr : args.data());
        if (rc == -EDOM || rc == -EFAULT) continue;
        if (rc != 0) return Bad(what, where, absl::StrCat("libseccomp refused the rule for ", name, " (", strerror(-rc), ")"));
      }
    }
  }
  return Export(ctx.get());
}

uint64_t DefaultSeccompCapMask() {
  // What CompileDefaultSeccomp and AllowList ask Holds() about.
  uint64_t mask = (uint64_t{1} << CAP_SYS_ADMIN) | (uint64_t{1} << CAP_SYS_PTRACE);
  for (const CapAllowed& g : CapGated()) mask |= uint64_t{1} << g.cap;
  return mask;
}

#ifdef MINIPOD_SECCOMP_DEFAULT_INC
namespace {
// kPrecompiled: {caps, deny filter, its length, allow list, its length},
// one per kPrecompiledSeccompCaps entry, written by seccomp_gen.
#include MINIPOD_SECCOMP_DEFAULT_INC
}  // namespace
#endif

absl::StatusOr<SeccompProgram> BuildSeccomp(absl::string_view spec, uint64_t caps) {
  if (spec == "unconfined") return SeccompProgram{};
  if (spec == "default") {
#ifdef MINIPOD_SECCOMP_DEFAULT_INC
    const uint64_t mask = DefaultSeccompCapMask();
    for (const auto& pre : kPrecompiled) {
      if ((pre.caps & mask) != (caps & mask)) continue;
      SeccompProgram p;
      p.filter.assign(pre.deny, pre.deny + pre.deny_len);
      p.second.assign(pre.allow, pre.allow + pre.allow_len);
      return p;
    }
#endif
    return CompileDefaultSeccomp(caps);
  }
  const std::string path(spec);
  absl::StatusOr<std::string> text = common::ReadFileToString(path, kMaxProfileBytes);
  if (!text.ok()) return common::Annotate(text.status(), "--seccomp");
  return CompileDockerProfile(*text, path, caps);
}

int InstallSeccompInChild(const SeccompProgram& program) {
  for (const std::vector<struct sock_filter>* f : {&program.second, &program.filter}) {
    if (f->empty()) continue;
    struct sock_fprog prog;
    prog.len = static_cast<unsigned short>(f->size());
    prog.filter = const_cast<struct sock_filter*>(f->data());
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return errno;
  }
  return 0;
}

}  // namespace sandbox
