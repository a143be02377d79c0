// The child plan (BuildChildPlan), the namespace table and the launcher's
// pure helpers (the init's status line, the OOM wording): no system calls.
#include "sandbox/child.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/launcher.h"
#include "sandbox/namespaces.h"

namespace sandbox {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Strings(const std::vector<char*>& v) {
  std::vector<std::string> out;
  for (const char* s : v) out.push_back(s == nullptr ? "<null>" : s);
  return out;
}
std::vector<std::string> Strings(const std::vector<const char*>& v) {
  std::vector<std::string> out;
  for (const char* s : v) out.push_back(s == nullptr ? "<null>" : s);
  return out;
}

RunConfig Config(std::vector<std::string> command) {
  RunConfig c;
  c.command = std::move(command);
  return c;
}

TEST(Namespaces, TodaysSandboxAsData) {
  const Namespaces root = SandboxNamespaces(/*net_host=*/false, /*rootless=*/false);
  EXPECT_EQ(root[NsType::kUser].mode, NsMode::kHost);
  EXPECT_EQ(root[NsType::kCgroup].mode, NsMode::kNew);
  // cgroup is unshared by the child once it is in its cgroup, not cloned.
  EXPECT_EQ(CloneFlags(root),
            static_cast<unsigned long>(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET));
  const Namespaces rootless_host_net = SandboxNamespaces(/*net_host=*/true, /*rootless=*/true);
  EXPECT_EQ(CloneFlags(rootless_host_net),
            static_cast<unsigned long>(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS));
}

TEST(Namespaces, AJoinedNamespaceIsNotCloned) {
  Namespaces ns = SandboxNamespaces(false, false);
  ns[NsType::kNet] = {NsMode::kJoin, 7};
  ns[NsType::kIpc] = {NsMode::kJoin, 7};
  EXPECT_EQ(CloneFlags(ns) & (CLONE_NEWNET | CLONE_NEWIPC), 0u);
  EXPECT_NE(CloneFlags(ns) & CLONE_NEWPID, 0u);
  EXPECT_STREQ(NsName(NsType::kMnt), "mnt");
  EXPECT_EQ(CloneNsFlag(NsType::kUts), CLONE_NEWUTS);
}

// A holder child with its own uts and ipc namespaces (host name "joined")
// that waits for its pipe to close; killed and reaped by the destructor.
class Holder {
 public:
  Holder() {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return;
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(p[1]);
      close(ready[0]);
      alarm(30);
      if (unshare(CLONE_NEWUTS | CLONE_NEWIPC) != 0 || sethostname("joined", 6) != 0) _exit(1);
      (void)!write(ready[1], "r", 1);
      char c;
      (void)!read(p[0], &c, 1);
      _exit(0);
    }
    close(p[0]);
    close(ready[1]);
    hold_fd_ = p[1];
    char c;
    ok_ = pid_ > 0 && read(ready[0], &c, 1) == 1;
    close(ready[0]);
  }
  ~Holder() {
    if (hold_fd_ >= 0) close(hold_fd_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ok() const { return ok_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int hold_fd_ = -1;
  bool ok_ = false;
};

// In a forked child: JoinNamespacesInChild(ns), then 0 if the host name is
// "joined" and the ipc namespace is the holder's.
int JoinAndLook(const Namespaces& ns, pid_t holder) {
  char want_ipc[64] = "";
  if (readlink(("/proc/" + std::to_string(holder) + "/ns/ipc").c_str(), want_ipc, sizeof want_ipc - 1) <= 0) return 90;
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(10);
    NsType failed;
    if (const int err = JoinNamespacesInChild(ns, &failed); err != 0) _exit(err == EINVAL ? 50 : 10 + static_cast<int>(failed));
    char host[64] = "", ipc[64] = "";
    gethostname(host, sizeof host);
    (void)!readlink("/proc/self/ns/ipc", ipc, sizeof ipc - 1);
    _exit(std::string(host) == "joined" && std::string(ipc) == want_ipc ? 0 : 2);
  }
  int ws = 0;
  waitpid(pid, &ws, 0);
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : 100 + WTERMSIG(ws);
}

TEST(Namespaces, JoiningIsAValueNotACodePath) {
  if (geteuid() != 0) GTEST_SKIP() << "needs CAP_SYS_ADMIN for unshare and setns";
  Holder holder;
  ASSERT_TRUE(holder.ok());
  const std::string proc = "/proc/" + std::to_string(holder.pid()) + "/ns/";
  // One namespace file per type...
  const int uts = open((proc + "uts").c_str(), O_RDONLY | O_CLOEXEC);
  const int ipc = open((proc + "ipc").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(uts, 0);
  ASSERT_GE(ipc, 0);
  Namespaces ns;
  ns[NsType::kUts] = {NsMode::kJoin, uts};
  ns[NsType::kIpc] = {NsMode::kJoin, ipc};
  EXPECT_EQ(JoinAndLook(ns, holder.pid()), 0);
  close(uts);
  close(ipc);
  // ...or one pidfd for both, joined in one setns (Linux 5.8+).
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, holder.pid(), 0));
  if (pidfd < 0) GTEST_SKIP() << "no pidfd_open on this kernel";
  ns[NsType::kUts] = {NsMode::kJoin, pidfd};
  ns[NsType::kIpc] = {NsMode::kJoin, pidfd};
  const int rc = JoinAndLook(ns, holder.pid());
  close(pidfd);
  if (rc == 50) GTEST_SKIP() << "setns on a pidfd: EINVAL (before Linux 5.8)";
  EXPECT_EQ(rc, 0);
}

TEST(BuildChildPlan, UnderTheInitEverySignalReachesTheCommandsGroup) {
  const RunConfig config = Config({"sh", "-c", "sleep 10"});
  PlanInputs in;
  in.launcher_pid = 4242;
  const CommandPlan plan = BuildChildPlan(config, in);
  EXPECT_THAT(Strings(plan.argv), ElementsAre("/dev/init", "--setsid", "--", "sh", "-c", "sleep 10", "<null>"));
  EXPECT_THAT(Strings(plan.paths), ElementsAre("/dev/init", "<null>"));
  EXPECT_EQ(plan.keep_fd, -1);
  EXPECT_EQ(plan.expected_ppid, 0) << "from a new pid namespace the launcher is pid 0";
  EXPECT_TRUE(plan.clear_groups);
  EXPECT_EQ(plan.envp.back(), nullptr);
  EXPECT_EQ(std::string(plan.envp.front()).rfind("PATH=", 0), 0u);
}

TEST(BuildChildPlan, TheInitsStatusFdIsPassedAndKept) {
  const RunConfig config = Config({"true"});
  PlanInputs in;
  in.init_status_fd = 9;
  const CommandPlan plan = BuildChildPlan(config, in);
  EXPECT_THAT(Strings(plan.argv), ElementsAre("/dev/init", "--setsid", "--status-fd", "9", "--", "true", "<null>"));
  EXPECT_EQ(plan.keep_fd, 9);
}

TEST(BuildChildPlan, WithoutTheInitTheImagesPathIsSearched) {
  RunConfig config = Config({"ls", "-l"});
  config.init = false;
  config.env = {"PATH=/bin:/usr/bin::/opt/x"};
  config.uid = 1000;
  config.gid = 100;
  const CommandPlan plan = BuildChildPlan(config, PlanInputs{});
  EXPECT_THAT(Strings(plan.argv), ElementsAre("ls", "-l", "<null>"));
  EXPECT_THAT(Strings(plan.paths), ElementsAre("/bin/ls", "/usr/bin/ls", "/opt/x/ls", "<null>"));
  EXPECT_EQ(plan.uid, 1000u);
  EXPECT_EQ(plan.gid, 100u);

  config.command = {"./run.sh"};
  EXPECT_THAT(Strings(BuildChildPlan(config, PlanInputs{}).paths), ElementsAre("./run.sh", "<null>"));
}

TEST(BuildChildPlan, UnderTheInitTheCommandIsLookedUpBeforehand) {
  RunConfig config = Config({"ls", "-l"});
  config.env = {"PATH=/bin:/usr/bin"};
  const CommandPlan plan = BuildChildPlan(config, PlanInputs{});
  EXPECT_THAT(Strings(plan.paths), ElementsAre("/dev/init", "<null>"));
  EXPECT_THAT(Strings(plan.command_paths), ElementsAre("/bin/ls", "/usr/bin/ls", "<null>"));
  config.init = false;
  EXPECT_TRUE(BuildChildPlan(config, PlanInputs{}).command_paths.empty()) << "the exec itself looks it up";
}

TEST(BuildChildPlan, RootlessMakesAUserNamespaceWithoutSetgroups) {
  PlanInputs in;
  in.rootless = true;
  const CommandPlan plan = BuildChildPlan(Config({"id"}), in);
  EXPECT_EQ(plan.ns[NsType::kUser].mode, NsMode::kNew);
  EXPECT_FALSE(plan.clear_groups) << "setgroups is denied in the user namespace we made";
}

TEST(BuildChildPlan, MovingKeepsThePointersValid) {
  CommandPlan a = BuildChildPlan(Config({"a-rather-long-command-name-beyond-small-strings", "x"}), PlanInputs{});
  CommandPlan b = std::move(a);
  EXPECT_EQ(std::string(b.argv[3]), "a-rather-long-command-name-beyond-small-strings");
  EXPECT_EQ(std::string(b.argv[4]), "x");
}

TEST(ParseInitStatusLine, ExitOrSignalAndNothingElse) {
  auto exit3 = ParseInitStatusLine("exit 3\n");
  ASSERT_TRUE(exit3.has_value());
  EXPECT_FALSE(exit3->signaled);
  EXPECT_EQ(exit3->value, 3);
  auto sig = ParseInitStatusLine("signal 15\n");
  ASSERT_TRUE(sig.has_value());
  EXPECT_TRUE(sig->signaled);
  EXPECT_EQ(sig->value, 15);
  EXPECT_TRUE(ParseInitStatusLine("exit 0").has_value()) << "the newline may be missing (a short read)";
  EXPECT_EQ(ParseInitStatusLine("exit 255\n")->value, 255);
  for (const char* bad : {"", "\n", "exit\n", "exit \n", "exit 256\n", "exit -1\n", "exit 1x\n", "signal 0\n",
                          "signal 65\n", "Exit 1\n", "exit 1\nexit 2\n", " exit 1\n", "exit 0001\n", "signal +9\n"}) {
    EXPECT_FALSE(ParseInitStatusLine(bad).has_value()) << bad;
  }
}

TEST(DescribeOom, SaysWhatHappened) {
  EXPECT_EQ(DescribeOom({"32m", 1, true}), "the command was killed by the kernel's OOM killer (--memory 32m)");
  EXPECT_EQ(DescribeOom({"32m", 3, true}),
            "the command was killed by the kernel's OOM killer (--memory 32m); 2 more of its processes were killed too");
  EXPECT_EQ(DescribeOom({"32m", 1, false}),
            "1 of the command's processes was killed by the kernel's OOM killer (--memory 32m)");
  EXPECT_EQ(DescribeOom({"1g", 2, false}),
            "2 of the command's processes were killed by the kernel's OOM killer (--memory 1g)");
  EXPECT_EQ(DescribeOom({"1g", 0, false}), "the kernel's OOM killer acted in the command's cgroup (--memory 1g)");
}

}  // namespace
}  // namespace sandbox
