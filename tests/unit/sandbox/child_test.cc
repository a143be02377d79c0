// The child plan (BuildChildPlan), the namespace table and the launcher's
// pure helpers (the init's status line, the OOM wording): no system calls.
#include "sandbox/child.h"

#include <sched.h>
#include <signal.h>

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
