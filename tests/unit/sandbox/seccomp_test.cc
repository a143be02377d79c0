// The seccomp filters, installed for real in forked children (no privilege
// needed after PR_SET_NO_NEW_PRIVS), and the Docker-format compiler.
#include "sandbox/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
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

#if defined(__x86_64__)
// The i386 entry point (int $0x80) is filtered as well: mount is 21 there.
TEST_F(DefaultFilter, The32BitEntryPointIsCovered) {
  EXPECT_EQ(InChild(program_, [] {
              long rc;
              asm volatile("int $0x80" : "=a"(rc) : "a"(21L), "b"(0L), "c"(0L), "d"(0L) : "memory");
              return rc < 0 ? static_cast<int>(-rc) : 0;
            }),
            EPERM);
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
