// The seccomp filters, installed for real in forked children (no privilege
// needed after PR_SET_NO_NEW_PRIVS), and the Docker-format compiler.
#include "sandbox/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <functional>
#include <initializer_list>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sandbox {
namespace {

using ::testing::HasSubstr;

// Runs fn in a child under program; returns what fn returned (an errno,
// 0 for success), or 1000+signal if it died.
int InChild(const SeccompProgram& program, const std::function<int()>& fn) {
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(10);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(200);
    if (InstallSeccompInChild(program) != 0) _exit(201);
    _exit(fn());
  }
  int ws = 0;
  waitpid(pid, &ws, 0);
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : 1000 + WTERMSIG(ws);
}

int Errno(long rc) { return rc < 0 ? errno : 0; }

class DefaultFilter : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = BuildSeccomp("default");
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_FALSE(p->filter.empty());
    program_ = *p;
  }
  SeccompProgram program_;
};

TEST_F(DefaultFilter, RefusesWhatDockerRefuses) {
  EXPECT_EQ(InChild(program_, [] { return Errno(mount("none", "/tmp", "tmpfs", 0, nullptr)); }), EPERM);
  EXPECT_EQ(InChild(program_, [] { return Errno(unshare(CLONE_NEWUSER)); }), EPERM);
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(SYS_keyctl, 0, 0, 0)); }), EPERM);
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(SYS_ptrace, 0 /*TRACEME*/, 0, 0, 0)); }), EPERM);
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(SYS_reboot, 0, 0, 0, nullptr)); }), EPERM);
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(SYS_bpf, 0, nullptr, 0)); }), EPERM);
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(SYS_io_uring_setup, 1, nullptr)); }), EPERM);
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(SYS_clone3, nullptr, 0)); }), ENOSYS);
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0)); }), EPERM);
}

TEST_F(DefaultFilter, IsAnAllowListWithDockersExceptions) {
  // Not on Docker's list at all: refused although no rule names it.
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(SYS_add_key, nullptr, nullptr, nullptr, 0, 0)); }), EPERM);
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(SYS_vhangup)); }), EPERM);
  // personality: the five values Docker allows, and no other.
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(SYS_personality, 0xffffffffUL)); }), 0);
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(SYS_personality, 0x0008UL)); }), 0);
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(SYS_personality, 0x0040000UL /*ADDR_NO_RANDOMIZE*/)); }),
            EPERM);
  // chroot comes with CAP_SYS_CHROOT (in the default set); ptrace does not.
  EXPECT_NE(InChild(program_, [] { return Errno(chroot("/nonexistent-dir")); }), EPERM);
  auto with_ptrace = BuildSeccomp("default", kDefaultSeccompCaps | (uint64_t{1} << 19) /*CAP_SYS_PTRACE*/);
  ASSERT_TRUE(with_ptrace.ok());
  EXPECT_NE(InChild(*with_ptrace, [] { return Errno(syscall(SYS_ptrace, 0x4206 /*SEIZE*/, 0, 0, 0)); }), EPERM);
  // A TIOCSTI with junk in the upper half of the register: the kernel
  // would drop the junk, the filter masks it.
  EXPECT_EQ(InChild(program_, [] {
              char c = 'x';
              return Errno(syscall(SYS_ioctl, 0, (1UL << 32) | TIOCSTI, &c));
            }),
            EPERM);
}

TEST_F(DefaultFilter, AllowsOrdinaryWork) {
  EXPECT_EQ(InChild(program_, [] { return Errno(getpid()); }), 0);
  EXPECT_EQ(InChild(program_, [] {
              const pid_t p = fork();  // plain fork still works (glibc uses clone without namespace flags)
              if (p == 0) _exit(0);
              int ws;
              return p < 0 ? errno : (waitpid(p, &ws, 0) == p ? 0 : 99);
            }),
            0);
  EXPECT_EQ(InChild(program_, [] { return Errno(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)); }), 0);
  EXPECT_EQ(InChild(program_, [] { return Errno(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)); }), 0);
}

TEST_F(DefaultFilter, NoKeystrokeInjectionDeviceNodesOrRawSockets) {
  EXPECT_EQ(InChild(program_, [] {
              char c = 'x';
              return Errno(ioctl(0, TIOCSTI, &c));
            }),
            EPERM);
  const std::string dir = ::testing::TempDir();
  EXPECT_EQ(InChild(program_, [&] { return Errno(mknod((dir + "/c").c_str(), S_IFCHR | 0600, makedev(1, 3))); }),
            EPERM);
  EXPECT_EQ(InChild(program_, [&] {
              return Errno(syscall(SYS_mknodat, AT_FDCWD, (dir + "/b").c_str(), S_IFBLK | 0600, makedev(7, 0)));
            }),
            EPERM);
  const std::string fifo = dir + "/seccomp-fifo";
  unlink(fifo.c_str());
  EXPECT_EQ(InChild(program_, [&] { return Errno(mkfifo(fifo.c_str(), 0600)); }), 0);
  unlink(fifo.c_str());
  EXPECT_EQ(InChild(program_, [] { return Errno(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP)); }), EPERM);
  EXPECT_EQ(InChild(program_, [] { return Errno(socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)); }), EPERM);
  EXPECT_EQ(InChild(program_, [] { return Errno(socket(AF_PACKET, SOCK_DGRAM, 0)); }), EPERM);
}

// The filters' verdict for one system call, computed from the BPF the
// kernel would run: every ABI's section of the program can be checked here,
// also on a kernel that cannot enter it (no IA-32 emulation, no x32). The
// kernel runs every installed filter and keeps the action of highest
// precedence; on a tie, the most recently installed one's (program.filter,
// installed after program.second).
uint32_t RunBpf(const std::vector<sock_filter>& prog, const seccomp_data& data) {
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& f = prog[pc];
    switch (f.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (f.k % 4 != 0 || f.k + 4 > sizeof data) return 0xdeadbeef;
        memcpy(&a, reinterpret_cast<const char*>(&data) + f.k, 4);
        break;
      case BPF_LD | BPF_MEM: a = mem[f.k % BPF_MEMWORDS]; break;
      case BPF_LDX | BPF_MEM: x = mem[f.k % BPF_MEMWORDS]; break;
      case BPF_ST: mem[f.k % BPF_MEMWORDS] = a; break;
      case BPF_STX: mem[f.k % BPF_MEMWORDS] = x; break;
      case BPF_ALU | BPF_AND | BPF_K: a &= f.k; break;
      case BPF_ALU | BPF_OR | BPF_K: a |= f.k; break;
      case BPF_MISC | BPF_TAX: x = a; break;
      case BPF_MISC | BPF_TXA: a = x; break;
      case BPF_JMP | BPF_JA: pc += f.k; break;
      case BPF_JMP | BPF_JEQ | BPF_K: pc += a == f.k ? f.jt : f.jf; break;
      case BPF_JMP | BPF_JGT | BPF_K: pc += a > f.k ? f.jt : f.jf; break;
      case BPF_JMP | BPF_JGE | BPF_K: pc += a >= f.k ? f.jt : f.jf; break;
      case BPF_JMP | BPF_JSET | BPF_K: pc += (a & f.k) != 0 ? f.jt : f.jf; break;
      case BPF_RET | BPF_K: return f.k;
      case BPF_RET | BPF_A: return a;
      default: ADD_FAILURE() << "BPF opcode 0x" << std::hex << f.code << " not interpreted"; return 0xdeadbeef;
    }
  }
  ADD_FAILURE() << "fell off the end of the program";
  return 0xdeadbeef;
}

uint32_t Verdict(const SeccompProgram& p, uint32_t arch, int nr, std::initializer_list<uint64_t> args = {}) {
  seccomp_data data{};
  data.nr = nr;
  data.arch = arch;
  size_t i = 0;
  for (uint64_t v : args) data.args[i++] = v;
  uint32_t ret = SECCOMP_RET_ALLOW;
  bool first = true;
  for (const std::vector<sock_filter>* f : {&p.filter, &p.second}) {  // newest first
    if (f->empty()) continue;
    const uint32_t r = RunBpf(*f, data);
    auto action = [](uint32_t v) { return static_cast<int32_t>(v & SECCOMP_RET_ACTION_FULL); };
    if (first || action(r) < action(ret)) ret = r;
    first = false;
  }
  return ret;
}

constexpr uint32_t RetErrno(int e) { return SECCOMP_RET_ERRNO | static_cast<uint32_t>(e); }

#if defined(__x86_64__)
constexpr uint32_t kI386 = AUDIT_ARCH_I386;
constexpr uint32_t kX8664 = AUDIT_ARCH_X86_64;
constexpr int kX32 = 0x40000000;  // __X32_SYSCALL_BIT
// i386 numbers (arch/x86/entry/syscalls/syscall_32.tbl).
constexpr int kI386Getpid = 20, kI386Mount = 21, kI386Ipc = 117, kI386Socketcall = 102, kI386Socket = 359;
constexpr int kSysSocket = 1, kSysAccept4 = 18;  // socketcall's call numbers
constexpr int kAfVsock = 40;

// socketcall multiplexes socket, whose rules it would go around (its
// arguments are behind a pointer): refused with ENOSYS on every call number,
// so libcs fall back to the direct calls; the direct calls keep their
// rules on every ABI, x32 included.
TEST_F(DefaultFilter, EveryAbiKeepsTheSocketRules) {
  for (int call : {kSysSocket, 3 /*connect*/, kSysAccept4, 20 /*sendmmsg*/}) {
    EXPECT_EQ(Verdict(program_, kI386, kI386Socketcall, {static_cast<uint64_t>(call), 0x1000}), RetErrno(ENOSYS))
        << "socketcall(" << call << ")";
  }
  struct {
    uint32_t arch;
    int nr;
  } socket_calls[] = {{kI386, kI386Socket}, {kX8664, SYS_socket}, {kX8664, kX32 | SYS_socket}};
  for (const auto& c : socket_calls) {
    EXPECT_EQ(Verdict(program_, c.arch, c.nr, {kAfVsock, SOCK_STREAM, 0}), RetErrno(EPERM)) << c.nr;
    EXPECT_EQ(Verdict(program_, c.arch, c.nr, {AF_PACKET, SOCK_DGRAM, 0}), RetErrno(EPERM)) << c.nr;
    EXPECT_EQ(Verdict(program_, c.arch, c.nr, {AF_INET, SOCK_RAW, IPPROTO_ICMP}), RetErrno(EPERM)) << c.nr;
    EXPECT_EQ(Verdict(program_, c.arch, c.nr, {AF_INET, SOCK_STREAM, 0}), SECCOMP_RET_ALLOW) << c.nr;
  }
  // ipc(2), i386's other multiplexer, reaches only calls allowed without
  // conditions (semop, msgsnd, shmat...): it stays.
  EXPECT_EQ(Verdict(program_, kI386, kI386Ipc, {1 /*SEMOP*/}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(program_, kI386, kI386Getpid), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(program_, kI386, kI386Mount), RetErrno(EPERM));
  EXPECT_EQ(Verdict(program_, kX8664, kX32 | SYS_mount), RetErrno(EPERM));
  EXPECT_EQ(Verdict(program_, kX8664, kX32 | SYS_getpid), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(program_, 0x12345678, SYS_getpid), SECCOMP_RET_KILL_PROCESS) << "an unknown ABI";
}

// One i386 system call through int $0x80 (which only passes 32-bit values:
// pointers must be below 4 GiB). Returns the kernel's result (-errno on
// failure).
long Int80(long nr, long a = 0, long b = 0, long c = 0) {
  long rc;
  asm volatile("int $0x80" : "=a"(rc) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return rc;
}

// Whether this kernel runs i386 system calls: without IA-32 emulation (or
// with ia32_emulation=0), int $0x80 raises SIGSEGV; so ask a child.
bool HasIa32Emulation() {
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(10);
    _exit(Int80(kI386Getpid) == getpid() ? 0 : 1);
  }
  int ws = 0;
  return pid > 0 && waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
}

// Whether it runs x32 system calls (CONFIG_X86_X32_ABI and not disabled):
// without, the x32 bit makes every call ENOSYS.
bool HasX32Abi() { return syscall(kX32 | SYS_getpid) == getpid(); }

int InChildErrno(const SeccompProgram& p, const std::function<long()>& fn) {
  return InChild(p, [&] {
    const long rc = fn();
    return rc < 0 && rc > -4096 ? static_cast<int>(-rc) : 0;
  });
}

// The i386 entry point (int $0x80) is filtered as well, for real.
TEST_F(DefaultFilter, The32BitEntryPointIsCovered) {
  if (!HasIa32Emulation()) GTEST_SKIP() << "this kernel has no IA-32 emulation (int $0x80 raises SIGSEGV)";
  // socketcall's argument block, below 4 GiB.
  void* low = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  ASSERT_NE(low, MAP_FAILED);
  auto* block = static_cast<uint32_t*>(low);
  block[0] = AF_INET;
  block[1] = SOCK_DGRAM;
  block[2] = 0;
  const long args = static_cast<long>(reinterpret_cast<uintptr_t>(low));
  // Without a filter, socketcall works here: the refusal below is the filter's.
  EXPECT_EQ(InChildErrno(SeccompProgram{}, [&] { return Int80(kI386Socketcall, kSysSocket, args); }), 0);
  EXPECT_EQ(InChildErrno(program_, [&] { return Int80(kI386Socketcall, kSysSocket, args); }), ENOSYS);
  block[0] = AF_PACKET;
  EXPECT_EQ(InChildErrno(program_, [&] { return Int80(kI386Socketcall, kSysSocket, args); }), ENOSYS);
  EXPECT_EQ(InChildErrno(program_, [] { return Int80(kI386Mount, 0, 0, 0); }), EPERM);
  EXPECT_EQ(InChildErrno(program_, [] { return Int80(kI386Socket, AF_PACKET, SOCK_DGRAM, 0); }), EPERM);
  EXPECT_EQ(InChildErrno(program_, [] { return Int80(kI386Socket, kAfVsock, SOCK_STREAM, 0); }), EPERM);
  EXPECT_EQ(InChildErrno(program_, [] { return Int80(kI386Socket, AF_INET, SOCK_RAW, IPPROTO_ICMP); }), EPERM);
  EXPECT_EQ(InChildErrno(program_, [] { return Int80(kI386Socket, AF_INET, SOCK_DGRAM, 0); }), 0);
  EXPECT_EQ(InChildErrno(program_, [] { return Int80(kI386Getpid); }), 0);
  munmap(low, 4096);
}

// The x32 entry point (the syscall instruction with bit 30 set in the
// number) is filtered as well, for real.
TEST_F(DefaultFilter, TheX32EntryPointIsCovered) {
  if (!HasX32Abi()) GTEST_SKIP() << "this kernel runs no x32 system calls (CONFIG_X86_X32_ABI unset or disabled)";
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(kX32 | SYS_mount, "none", "/tmp", "tmpfs", 0, nullptr)); }),
            EPERM);
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(kX32 | SYS_socket, AF_PACKET, SOCK_DGRAM, 0)); }), EPERM);
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(kX32 | SYS_socket, kAfVsock, SOCK_STREAM, 0)); }), EPERM);
  EXPECT_EQ(InChild(program_, [] { return Errno(syscall(kX32 | SYS_socket, AF_INET, SOCK_DGRAM, 0)); }), 0);
}
#endif

TEST(Seccomp, TheEmbeddedDefaultIsTheOneCompiledNow) {
  auto embedded = BuildSeccomp("default");
  auto fresh = CompileDefaultSeccomp();
  ASSERT_TRUE(embedded.ok() && fresh.ok());
  auto same = [](const std::vector<sock_filter>& a, const std::vector<sock_filter>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].code != b[i].code || a[i].jt != b[i].jt || a[i].jf != b[i].jf || a[i].k != b[i].k) return false;
    }
    return true;
  };
  EXPECT_TRUE(same(embedded->filter, fresh->filter));
  EXPECT_TRUE(same(embedded->second, fresh->second));
  EXPECT_FALSE(fresh->second.empty()) << "the allow list";
}

bool SameProgram(const SeccompProgram& a, const SeccompProgram& b) {
  auto same = [](const std::vector<sock_filter>& x, const std::vector<sock_filter>& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i].code != y[i].code || x[i].jt != y[i].jt || x[i].jf != y[i].jf || x[i].k != y[i].k) return false;
    }
    return true;
  };
  return same(a.filter, b.filter) && same(a.second, b.second);
}

// Every set compiled at build time is served as it would be compiled now,
// and so is a set that differs from one of them only in capabilities the
// filter does not depend on (here, the holder of a pod and --cap-drop ALL
// with --cap-add NET_ADMIN).
TEST(Seccomp, EveryPrecompiledSetIsTheOneCompiledNow) {
  constexpr uint64_t kNetAdmin = uint64_t{1} << 12;
  for (const uint64_t caps : {kPrecompiledSeccompCaps[0], kPrecompiledSeccompCaps[1], uint64_t{0} | kNetAdmin,
                              kDefaultSeccompCaps | kNetAdmin}) {
    absl::StatusOr<SeccompProgram> served = BuildSeccomp("default", caps);
    absl::StatusOr<SeccompProgram> fresh = CompileDefaultSeccomp(caps);
    ASSERT_TRUE(served.ok() && fresh.ok()) << caps;
    EXPECT_TRUE(SameProgram(*served, *fresh)) << "caps " << std::hex << caps;
  }
  // The two sets differ where it matters: no chroot without CAP_SYS_CHROOT.
  absl::StatusOr<SeccompProgram> none = BuildSeccomp("default", 0);
  absl::StatusOr<SeccompProgram> docker = BuildSeccomp("default", kDefaultSeccompCaps);
  ASSERT_TRUE(none.ok() && docker.ok());
  EXPECT_FALSE(SameProgram(*none, *docker));
}

// The mask that decides when a precompiled set may serve: flipping a
// capability outside it changes nothing of the compiled filters, flipping
// one inside it changes them.
TEST(Seccomp, TheCapabilityMaskIsExactlyWhatTheFilterDependsOn) {
  absl::StatusOr<SeccompProgram> base = CompileDefaultSeccomp(kDefaultSeccompCaps);
  ASSERT_TRUE(base.ok());
  const uint64_t mask = DefaultSeccompCapMask();
  for (int cap = 0; cap <= 40; ++cap) {
    const uint64_t bit = uint64_t{1} << cap;
    absl::StatusOr<SeccompProgram> flipped = CompileDefaultSeccomp(kDefaultSeccompCaps ^ bit);
    ASSERT_TRUE(flipped.ok()) << cap;
    EXPECT_EQ(SameProgram(*base, *flipped), (mask & bit) == 0) << "capability " << cap;
  }
}

TEST(Seccomp, UnconfinedIsNoFilter) {
  auto p = BuildSeccomp("unconfined");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->filter.empty());
  EXPECT_EQ(InChild(*p, [] { return Errno(syscall(SYS_clone3, nullptr, 0)); }), EINVAL);
}

TEST(Seccomp, DockerFormatProfile) {
  const char* profile = R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 1,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "syscalls": [
      {"names": ["exit", "exit_group", "getpid", "write", "brk", "mmap", "munmap", "rt_sigreturn"],
       "action": "SCMP_ACT_ALLOW"},
      {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
      {"names": ["getuid"], "action": "SCMP_ACT_ALLOW",
       "includes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["no_such_syscall_anywhere"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}
    ]})";
  auto p = CompileDockerProfile(profile, "test.json");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(InChild(*p, [] { return Errno(syscall(SYS_getpid)); }), 0);
  EXPECT_EQ(InChild(*p, [] { return Errno(syscall(SYS_getppid)); }), 38);
  EXPECT_EQ(InChild(*p, [] { return Errno(syscall(SYS_getuid)); }), EPERM) << "CAP_SYS_ADMIN not held";
  EXPECT_EQ(InChild(*p, [] { return Errno(syscall(SYS_personality, 8)); }), 0);
  EXPECT_EQ(InChild(*p, [] { return Errno(syscall(SYS_personality, 0)); }), EPERM);
  auto with_admin = CompileDockerProfile(profile, "test.json", uint64_t{1} << 21);
  ASSERT_TRUE(with_admin.ok());
  EXPECT_EQ(InChild(*with_admin, [] { return Errno(syscall(SYS_getuid)); }), 0);
}

TEST(Seccomp, ProfileErrorsNameTheInputAndThePlace) {
  const struct {
    const char* json;
    const char* message;
  } cases[] = {
      {"{", "p.json: file: not valid JSON"},
      {"[]", "not a JSON object"},
      {"{}", "defaultAction: missing"},
      {R"({"defaultAction": "SCMP_ACT_MAYBE"})", "defaultAction: unknown action 'SCMP_ACT_MAYBE'"},
      {R"({"defaultAction": 3})", "defaultAction: not a string"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {}})", "syscalls: not an array"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"]}]})", "syscalls[0].action: missing"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
          "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})", "syscalls[0].args[0].index"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
          "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]})", "unknown operator 'SCMP_CMP_LIKE'"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_PDP11"]})", "unknown architecture"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [1], "action": "SCMP_ACT_ERRNO"}]})",
       "syscalls[0].names: not a string"},
  };
  for (const auto& c : cases) {
    auto p = CompileDockerProfile(c.json, "p.json");
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_THAT(p.status().message(), HasSubstr(c.message)) << c.json;
  }
  auto missing = BuildSeccomp("/nonexistent/profile.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("--seccomp"));
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/profile.json"));
}

}  // namespace
}  // namespace sandbox
