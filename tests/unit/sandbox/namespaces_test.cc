// The namespace choices of `minipod run` turned into the launcher's table:
// namespace files opened and checked (OpenNamespaceFile), descriptors
// checked (OpenNamespaceJoins) and the table itself (PlanNamespaces, pure),
// with what the child plan derives from it (init as a subreaper, the parent
// it expects).
#include "sandbox/namespaces.h"

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
#include "sandbox/child.h"

namespace sandbox {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using Kind = NsChoice::Kind;

RunConfig Config() {
  RunConfig c;
  c.command = {"true"};
  return c;
}

NsChoice Choice(Kind kind, std::string target = "") { return NsChoice{kind, std::move(target)}; }

// A forked child that waits for its pipe to close, optionally in new
// namespaces (flags for unshare); killed and reaped by the destructor.
class Child {
 public:
  explicit Child(int unshare_flags = 0) {
    int hold[2], ready[2];
    if (pipe2(hold, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(hold[1]);
      close(ready[0]);
      alarm(30);
      if (unshare_flags != 0 && unshare(unshare_flags) != 0) _exit(1);
      (void)!write(ready[1], "r", 1);
      char c;
      (void)!read(hold[0], &c, 1);
      _exit(0);
    }
    close(hold[0]);
    close(ready[1]);
    hold_fd_ = hold[1];
    char c;
    ok_ = pid_ > 0 && read(ready[0], &c, 1) == 1;
    close(ready[0]);
    if (ok_) pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  }
  ~Child() {
    End();
    if (pidfd_ >= 0) close(pidfd_);
  }
  // Kills and reaps the child; its pidfd stays open (and readable).
  void End() {
    if (hold_fd_ >= 0) close(hold_fd_);
    hold_fd_ = -1;
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }
  bool ok() const { return ok_ && pidfd_ >= 0; }
  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_; }

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int hold_fd_ = -1;
  bool ok_ = false;
};

TEST(OpenNamespaceFile, ChecksTheFileAndItsType) {
  absl::StatusOr<common::UniqueFd> fd = OpenNamespaceFile("/proc/self/ns/net", NsType::kNet);
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_TRUE(fd->valid());
  EXPECT_NE(fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0);

  fd = OpenNamespaceFile("/proc/self/ns/uts", NsType::kPid);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(fd.status().message(), HasSubstr("/proc/self/ns/uts: a uts namespace, not a pid one"));

  fd = OpenNamespaceFile("/proc/self/status", NsType::kNet);
  ASSERT_FALSE(fd.ok());
  EXPECT_THAT(fd.status().message(), HasSubstr("/proc/self/status: not a namespace file"));

  fd = OpenNamespaceFile("/nonexistent/ns", NsType::kIpc);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(fd.status().message(), HasSubstr("open(/nonexistent/ns)"));

  // A time namespace file is none of the sandbox's types.
  if (access("/proc/self/ns/time", F_OK) == 0) {
    fd = OpenNamespaceFile("/proc/self/ns/time", NsType::kUts);
    ASSERT_FALSE(fd.ok());
    EXPECT_THAT(fd.status().message(), HasSubstr("a time namespace, not a uts one"));
  }
}

TEST(PlanNamespaces, DefaultsHostAndJoins) {
  RunConfig c = Config();
  NamespaceJoins joins;
  absl::StatusOr<Namespaces> ns = PlanNamespaces(c, joins, /*rootless=*/false);
  ASSERT_TRUE(ns.ok()) << ns.status();
  for (NsType t : {NsType::kMnt, NsType::kPid, NsType::kIpc, NsType::kUts, NsType::kNet, NsType::kCgroup}) {
    EXPECT_EQ((*ns)[t].mode, NsMode::kNew) << NsName(t);
  }
  EXPECT_EQ((*ns)[NsType::kUser].mode, NsMode::kHost);
  ns = PlanNamespaces(c, joins, /*rootless=*/true);
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ((*ns)[NsType::kUser].mode, NsMode::kNew);

  // The pod's walk-through: net and ipc of one pidfd, pid from a namespace
  // file, uts the host's.
  c.net = Choice(Kind::kContainer, "pause");
  c.ipc = Choice(Kind::kContainer, "pause");
  c.pid = Choice(Kind::kPath, "/run/pidns");
  c.uts = Choice(Kind::kHost);
  joins.fds[NsType::kNet] = 7;
  joins.fds[NsType::kIpc] = 7;
  joins.fds[NsType::kPid] = 8;
  ns = PlanNamespaces(c, joins, /*rootless=*/false);
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ((*ns)[NsType::kNet].mode, NsMode::kJoin);
  EXPECT_EQ((*ns)[NsType::kNet].fd, 7);
  EXPECT_EQ((*ns)[NsType::kIpc].fd, 7);
  EXPECT_EQ((*ns)[NsType::kPid].mode, NsMode::kJoin);
  EXPECT_EQ((*ns)[NsType::kPid].fd, 8);
  EXPECT_EQ((*ns)[NsType::kUts].mode, NsMode::kHost);
  EXPECT_EQ((*ns)[NsType::kMnt].mode, NsMode::kNew);
  EXPECT_EQ((*ns)[NsType::kCgroup].mode, NsMode::kNew);
  // Nothing joined is cloned; the rest is.
  EXPECT_EQ(CloneFlags(*ns), static_cast<unsigned long>(CLONE_NEWNS));

  // A joined namespace that is our own is planned as the host's.
  joins.ours[static_cast<size_t>(NsType::kPid)] = true;
  ns = PlanNamespaces(c, joins, /*rootless=*/false);
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ((*ns)[NsType::kPid].mode, NsMode::kHost);
  EXPECT_EQ((*ns)[NsType::kPid].fd, -1);
}

TEST(PlanNamespaces, APodsUserNamespaceIsJoined) {
  // A member of a pod with a user namespace: user, net and ipc through the
  // holder's pidfd, the rest new (made inside it: CloneAfterJoins).
  RunConfig c = Config();
  c.user = Choice(Kind::kContainer, "pod");
  c.net = Choice(Kind::kContainer, "pod");
  c.ipc = Choice(Kind::kContainer, "pod");
  NamespaceJoins joins;
  for (NsType t : {NsType::kUser, NsType::kNet, NsType::kIpc}) joins.fds[t] = 9;
  absl::StatusOr<Namespaces> ns = PlanNamespaces(c, joins, /*rootless=*/false);
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ((*ns)[NsType::kUser].mode, NsMode::kJoin);
  EXPECT_EQ((*ns)[NsType::kUser].fd, 9);
  EXPECT_EQ(CloneFlags(*ns), static_cast<unsigned long>(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS));
  EXPECT_EQ(DescribeJoin(c, NsType::kUser), "user, container:pod");
  // Without root it cannot be joined.
  ns = PlanNamespaces(c, joins, /*rootless=*/true);
  ASSERT_FALSE(ns.ok());
  EXPECT_EQ(ns.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(PlanNamespaces, RefusesWhatCannotWork) {
  RunConfig c = Config();
  NamespaceJoins joins;
  // A join without a descriptor: the caller did not resolve it.
  c.uts = Choice(Kind::kContainer, "web");
  absl::StatusOr<Namespaces> ns = PlanNamespaces(c, joins, /*rootless=*/false);
  ASSERT_FALSE(ns.ok());
  EXPECT_THAT(ns.status().message(), HasSubstr("--uts container:web: no descriptor"));

  // Without root, no join (our user namespace has no privilege over the
  // owner of a namespace made elsewhere) and no host pid namespace.
  joins.fds[NsType::kUts] = 5;
  ns = PlanNamespaces(c, joins, /*rootless=*/true);
  ASSERT_FALSE(ns.ok());
  EXPECT_EQ(ns.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(ns.status().message(), HasSubstr("--uts container:web: without root"));
  EXPECT_THAT(ns.status().message(), HasSubstr("run as root"));
  c.uts = NsChoice();
  c.pid = Choice(Kind::kHost);
  ns = PlanNamespaces(c, joins, /*rootless=*/true);
  ASSERT_FALSE(ns.ok());
  EXPECT_THAT(ns.status().message(), HasSubstr("--pid host: without root a /proc"));
  // The host's net, ipc and uts work rootless; so does a "join" of our own.
  c.pid = NsChoice();
  c.net = Choice(Kind::kHost);
  c.ipc = Choice(Kind::kHost);
  c.uts = Choice(Kind::kPath, "/proc/self/ns/uts");
  joins.ours[static_cast<size_t>(NsType::kUts)] = true;
  ns = PlanNamespaces(c, joins, /*rootless=*/true);
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ((*ns)[NsType::kUts].mode, NsMode::kHost);
  EXPECT_EQ(CloneFlags(*ns), static_cast<unsigned long>(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID));
}

TEST(OpenNamespaceJoins, OpensPathsAndChecksPidfds) {
  RunConfig c = Config();
  c.uts = Choice(Kind::kPath, "/proc/self/ns/uts");
  absl::StatusOr<NamespaceJoins> joins = OpenNamespaceJoins(c, JoinedNamespaces());
  ASSERT_TRUE(joins.ok()) << joins.status();
  ASSERT_EQ(joins->owned.size(), 1u);
  EXPECT_EQ(joins->fds[NsType::kUts], joins->owned[0].get());
  EXPECT_TRUE(joins->ours[static_cast<size_t>(NsType::kUts)]) << "our own uts namespace";
  EXPECT_EQ(joins->fds[NsType::kNet], -1);

  c.uts = Choice(Kind::kPath, "/proc/self/ns/ipc");
  joins = OpenNamespaceJoins(c, JoinedNamespaces());
  ASSERT_FALSE(joins.ok());
  EXPECT_THAT(joins.status().message(), HasSubstr("--uts ns:/proc/self/ns/ipc"));
  EXPECT_THAT(joins.status().message(), HasSubstr("an ipc namespace, not a uts one"));

  // container:NAME comes resolved to a pidfd, or not at all.
  c.uts = NsChoice();
  c.net = Choice(Kind::kContainer, "pause");
  c.ipc = Choice(Kind::kContainer, "pause");
  joins = OpenNamespaceJoins(c, JoinedNamespaces());
  ASSERT_FALSE(joins.ok());
  EXPECT_THAT(joins.status().message(), HasSubstr("container:pause: not resolved"));

  Child child;
  ASSERT_TRUE(child.ok());
  JoinedNamespaces given;
  given[NsType::kNet] = child.pidfd();
  given[NsType::kIpc] = child.pidfd();
  joins = OpenNamespaceJoins(c, given);
  ASSERT_TRUE(joins.ok()) << joins.status();
  EXPECT_EQ(joins->fds[NsType::kNet], child.pidfd());
  EXPECT_EQ(joins->fds[NsType::kIpc], child.pidfd());
  EXPECT_TRUE(joins->owned.empty());
  // The child shares our namespaces.
  EXPECT_TRUE(joins->ours[static_cast<size_t>(NsType::kNet)]);

  // A pipe is neither a pidfd nor a namespace file.
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  given[NsType::kNet] = p[0];
  joins = OpenNamespaceJoins(c, given);
  close(p[0]);
  close(p[1]);
  ASSERT_FALSE(joins.ok());
  EXPECT_THAT(joins.status().message(), HasSubstr("neither a namespace file nor a pidfd"));

  // A container whose process has exited.
  given[NsType::kNet] = child.pidfd();
  child.End();
  joins = OpenNamespaceJoins(c, given);
  ASSERT_FALSE(joins.ok());
  EXPECT_EQ(joins.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(joins.status().message(), HasSubstr("container:pause: its process has exited"));
}

TEST(OpenNamespaceJoins, ANamespaceOfAnotherProcessIsJoined) {
  if (geteuid() != 0) GTEST_SKIP() << "needs CAP_SYS_ADMIN for unshare(CLONE_NEWUTS | CLONE_NEWIPC)";
  Child child(CLONE_NEWUTS | CLONE_NEWIPC);
  ASSERT_TRUE(child.ok());
  RunConfig c = Config();
  c.uts = Choice(Kind::kContainer, "holder");
  c.ipc = Choice(Kind::kPath, "/proc/" + std::to_string(child.pid()) + "/ns/ipc");
  JoinedNamespaces given;
  given[NsType::kUts] = child.pidfd();
  absl::StatusOr<NamespaceJoins> joins = OpenNamespaceJoins(c, given);
  ASSERT_TRUE(joins.ok()) << joins.status();
  EXPECT_FALSE(joins->ours[static_cast<size_t>(NsType::kUts)]);
  EXPECT_FALSE(joins->ours[static_cast<size_t>(NsType::kIpc)]);
  absl::StatusOr<Namespaces> ns = PlanNamespaces(c, *joins, /*rootless=*/false);
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ((*ns)[NsType::kUts].mode, NsMode::kJoin);
  EXPECT_EQ((*ns)[NsType::kUts].fd, child.pidfd());
  EXPECT_EQ((*ns)[NsType::kIpc].mode, NsMode::kJoin);
  EXPECT_EQ((*ns)[NsType::kIpc].fd, joins->owned.at(0).get());
}

std::vector<std::string> Args(const CommandPlan& plan) { return plan.args; }

TEST(ChildPlanWithJoins, InitIsASubreaperAndTheParentIsOutside) {
  RunConfig c = Config();
  c.pid = Choice(Kind::kContainer, "pause");
  c.init = true;  // --init
  NamespaceJoins joins;
  joins.fds[NsType::kPid] = 9;
  absl::StatusOr<Namespaces> ns = PlanNamespaces(c, joins, /*rootless=*/false);
  ASSERT_TRUE(ns.ok()) << ns.status();
  PlanInputs in;
  in.launcher_pid = 4242;
  in.ns = &*ns;
  CommandPlan plan = BuildChildPlan(c, in);
  EXPECT_EQ(plan.ns[NsType::kPid].mode, NsMode::kJoin);
  EXPECT_THAT(Args(plan), Contains("--subreaper"));
  EXPECT_EQ(plan.expected_ppid, 0) << "the launcher is outside a joined pid namespace";

  c.pid = Choice(Kind::kHost);
  ns = PlanNamespaces(c, joins, /*rootless=*/false);
  ASSERT_TRUE(ns.ok()) << ns.status();
  plan = BuildChildPlan(c, in);
  EXPECT_THAT(Args(plan), Contains("--subreaper"));
  EXPECT_EQ(plan.expected_ppid, 4242);

  c.pid = NsChoice();
  ns = PlanNamespaces(c, joins, /*rootless=*/false);
  ASSERT_TRUE(ns.ok()) << ns.status();
  plan = BuildChildPlan(c, in);
  EXPECT_THAT(Args(plan), Not(Contains("--subreaper"))) << "PID 1 of its own namespace";
  EXPECT_EQ(plan.expected_ppid, 0);
}

}  // namespace
}  // namespace sandbox
