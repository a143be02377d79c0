// The namespace choices of `minipod run` turned into the launcher's table:
// namespace files opened and checked (OpenNamespaceFile), descriptors
// checked (OpenNamespaceJoins) and the table itself (PlanNamespaces, pure),
// with what the child plan derives from it (init as a subreaper, the parent
// it expects).
#include "sandbox/namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
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

uint64_t InodeOf(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

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
  // Without root: joined when the caller made it (a rootless pod), the
  // same way (one setns through the holder's pidfd).
  joins.caller_uid = 1000;
  joins.self_userns = UserNsId{3, 100, 0};
  joins.owner[static_cast<size_t>(NsType::kUser)] = UserNsId{3, 200, 1000};
  joins.owner_fd[static_cast<size_t>(NsType::kUser)] = 12;
  for (NsType t : {NsType::kNet, NsType::kIpc}) {
    joins.owner[static_cast<size_t>(t)] = UserNsId{3, 200, 1000};
    joins.owner_fd[static_cast<size_t>(t)] = 13;
  }
  ns = PlanNamespaces(c, joins, /*rootless=*/true);
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ((*ns)[NsType::kUser].mode, NsMode::kJoin);
  EXPECT_EQ((*ns)[NsType::kUser].fd, 9);
  EXPECT_EQ(CloneFlags(*ns), static_cast<unsigned long>(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS));
  // Not when another user made it.
  joins.owner[static_cast<size_t>(NsType::kUser)] = UserNsId{3, 200, 1001};
  ns = PlanNamespaces(c, joins, /*rootless=*/true);
  ASSERT_FALSE(ns.ok());
  EXPECT_EQ(ns.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(ns.status().message(),
              HasSubstr("--user container:pod: is a user namespace made by uid 1001, not by you (uid 1000)"));
}

// Without root, what is joined is joined together with the user namespace
// that owns it, which the caller must have made.
TEST(PlanNamespaces, RootlessJoinsTheOwnersUserNamespace) {
  RunConfig c = Config();
  c.net = Choice(Kind::kContainer, "pause");
  c.ipc = Choice(Kind::kContainer, "pause");
  c.pid = Choice(Kind::kPath, "/run/pause-pid");
  NamespaceJoins joins;
  joins.caller_uid = 1000;
  joins.self_userns = UserNsId{3, 100, 0};
  joins.fds[NsType::kNet] = joins.fds[NsType::kIpc] = 7;
  joins.fds[NsType::kPid] = 8;
  for (NsType t : {NsType::kNet, NsType::kIpc, NsType::kPid}) {
    joins.owner[static_cast<size_t>(t)] = UserNsId{3, 200, 1000};
    joins.owner_fd[static_cast<size_t>(t)] = t == NsType::kPid ? 11 : 10;
  }
  absl::StatusOr<Namespaces> ns = PlanNamespaces(c, joins, /*rootless=*/true);
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ((*ns)[NsType::kUser].mode, NsMode::kJoin);
  EXPECT_EQ((*ns)[NsType::kUser].fd, 11) << "the owner of the first type joined (NsType's order)";
  EXPECT_EQ((*ns)[NsType::kNet].fd, 7);
  EXPECT_EQ((*ns)[NsType::kPid].fd, 8);
  // Its own mnt and uts namespaces, made inside the joined user namespace.
  EXPECT_EQ(CloneFlags(*ns), static_cast<unsigned long>(CLONE_NEWNS | CLONE_NEWUTS));
  EXPECT_EQ(DescribeJoin(c, NsType::kUser), "user, the owner of the namespaces joined");

  // Nothing joined (or only what is ours): a user namespace of its own.
  RunConfig plain = Config();
  plain.uts = Choice(Kind::kPath, "/proc/self/ns/uts");
  NamespaceJoins own;
  own.fds[NsType::kUts] = 5;
  own.ours[static_cast<size_t>(NsType::kUts)] = true;
  ns = PlanNamespaces(plain, own, /*rootless=*/true);
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ((*ns)[NsType::kUser].mode, NsMode::kNew);

  // Another user's namespace (root's, here): refused, naming both uids.
  for (NsType t : {NsType::kNet, NsType::kIpc, NsType::kPid}) joins.owner[static_cast<size_t>(t)] = UserNsId{3, 300, 0};
  ns = PlanNamespaces(c, joins, /*rootless=*/true);
  ASSERT_FALSE(ns.ok());
  EXPECT_EQ(ns.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(ns.status().message(),
              HasSubstr("--pid ns:/run/pause-pid: belongs to a user namespace made by uid 0, not by you (uid 1000)"));
  EXPECT_THAT(ns.status().message(), HasSubstr("or run as root"));

  // Our own user namespace (the host's): no privilege there.
  for (NsType t : {NsType::kNet, NsType::kIpc, NsType::kPid}) joins.owner[static_cast<size_t>(t)] = UserNsId{3, 100, 1000};
  ns = PlanNamespaces(c, joins, /*rootless=*/true);
  ASSERT_FALSE(ns.ok());
  EXPECT_THAT(ns.status().message(), HasSubstr("--pid ns:/run/pause-pid: belongs to our own user namespace"));

  // Namespaces of two user namespaces cannot both be joined.
  for (NsType t : {NsType::kIpc, NsType::kPid}) joins.owner[static_cast<size_t>(t)] = UserNsId{3, 200, 1000};
  joins.owner[static_cast<size_t>(NsType::kNet)] = UserNsId{3, 201, 1000};
  ns = PlanNamespaces(c, joins, /*rootless=*/true);
  ASSERT_FALSE(ns.ok());
  EXPECT_THAT(ns.status().message(),
              HasSubstr("--net container:pause: belongs to another user namespace than --pid ns:/run/pause-pid does"));

  // An owner the kernel would not name (outside our user namespace).
  joins.owner[static_cast<size_t>(NsType::kNet)] = UserNsId{3, 200, 1000};
  joins.owner[static_cast<size_t>(NsType::kPid)].reset();
  ns = PlanNamespaces(c, joins, /*rootless=*/true);
  ASSERT_FALSE(ns.ok());
  EXPECT_THAT(ns.status().message(), HasSubstr("the user namespace that owns it is outside ours"));

  // As root nothing of this applies: the host's user namespace.
  ns = PlanNamespaces(c, joins, /*rootless=*/false);
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ((*ns)[NsType::kUser].mode, NsMode::kHost);
}

TEST(PlanNamespaces, RefusesWhatCannotWork) {
  RunConfig c = Config();
  NamespaceJoins joins;
  // A join without a descriptor: the caller did not resolve it.
  c.uts = Choice(Kind::kContainer, "web");
  absl::StatusOr<Namespaces> ns = PlanNamespaces(c, joins, /*rootless=*/false);
  ASSERT_FALSE(ns.ok());
  EXPECT_THAT(ns.status().message(), HasSubstr("--uts container:web: no descriptor"));

  // Without root, no join of a namespace whose owner is unknown (see
  // RootlessJoinsTheOwnersUserNamespace) and no host pid namespace.
  joins.fds[NsType::kUts] = 5;
  ns = PlanNamespaces(c, joins, /*rootless=*/true);
  ASSERT_FALSE(ns.ok());
  EXPECT_EQ(ns.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(ns.status().message(), HasSubstr("--uts container:web: the user namespace that owns it"));
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
  ASSERT_GE(joins->owned.size(), 1u);  // the file, then its owner
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
  // Nothing opened to join them through (the owners' files only).
  for (const common::UniqueFd& fd : joins->owned) EXPECT_NE(fd.get(), joins->fds[NsType::kNet]);
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

// The owner of each joined namespace, as the kernel names it: ours for
// our own namespaces; for those of a child in a user namespace it made,
// that user namespace, made by our uid (no root needed when unprivileged
// user namespaces are allowed).
TEST(OpenNamespaceJoins, RecordsTheOwningUserNamespace) {
  RunConfig c = Config();
  c.uts = Choice(Kind::kPath, "/proc/self/ns/uts");
  absl::StatusOr<NamespaceJoins> joins = OpenNamespaceJoins(c, JoinedNamespaces());
  ASSERT_TRUE(joins.ok()) << joins.status();
  EXPECT_EQ(joins->caller_uid, geteuid());
  ASSERT_TRUE(joins->self_userns.has_value());
  EXPECT_EQ(joins->self_userns->ino, static_cast<ino_t>(InodeOf("/proc/self/ns/user")));
  const auto& own = joins->owner[static_cast<size_t>(NsType::kUts)];
  ASSERT_TRUE(own.has_value());
  EXPECT_TRUE(*own == *joins->self_userns);
  EXPECT_GE(joins->owner_fd[static_cast<size_t>(NsType::kUts)], 0);

  Child child(CLONE_NEWUSER | CLONE_NEWUTS);
  if (!child.ok()) GTEST_SKIP() << "unshare(CLONE_NEWUSER | CLONE_NEWUTS) is not allowed here";
  c.uts = Choice(Kind::kContainer, "holder");
  c.user = Choice(Kind::kContainer, "holder");
  JoinedNamespaces given;
  given[NsType::kUts] = child.pidfd();
  given[NsType::kUser] = child.pidfd();
  joins = OpenNamespaceJoins(c, given);
  ASSERT_TRUE(joins.ok()) << joins.status();
  const auto& uts = joins->owner[static_cast<size_t>(NsType::kUts)];
  const auto& user = joins->owner[static_cast<size_t>(NsType::kUser)];
  ASSERT_TRUE(uts.has_value());
  ASSERT_TRUE(user.has_value());
  EXPECT_TRUE(*uts == *user) << "the child's uts namespace is owned by its user namespace";
  EXPECT_FALSE(*uts == *joins->self_userns);
  EXPECT_EQ(uts->owner_uid, geteuid());
  struct stat st;
  ASSERT_EQ(stat(("/proc/" + std::to_string(child.pid()) + "/ns/user").c_str(), &st), 0);
  EXPECT_EQ(uts->ino, st.st_ino);
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
