// `minipod run --net/--ipc/--pid/--uts ns:PATH|host`, end to end as root:
// the command joins namespaces a holder process of the test made (network,
// System V IPC, pid, host name; one network namespace owned by another user
// namespace), bind-mounted on files in a TempDir or named by
// /proc/PID/ns/TYPE; bad files are a 125 with the reason. Also
// runtime::ReadNamespaces on such a holder. Every holder is killed and
// every bind unmounted on every path; every run is bounded by timeout(1).
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/ns_table.h"
#include "sandbox/launcher.h"
#include "sandbox/namespaces.h"
#include "tests/integration/harness.h"
#include "tests/testing/probes.h"

namespace itest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t Cap(int cap) { return uint64_t{1} << cap; }
constexpr key_t kShmKey = 0x6e736a6e;  // "nsjn"
constexpr char kHolderName[] = "nsjoin-holder";
constexpr char kHolderHost[] = "nsjoin-uts";

uint64_t InodeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

std::string NsLink(const std::string& type, uint64_t inode) { return type + ":[" + std::to_string(inode) + "]"; }

// A process in new namespaces (clone flags) that holds them until it is
// destroyed: PID 1 of its pid namespace when CLONE_NEWPID is among them,
// named kHolderName; with CLONE_NEWUTS its host name is kHolderHost, with
// CLONE_NEWIPC it owns a System V shared memory segment (kShmKey).
class Holder {
 public:
  explicit Holder(unsigned long flags) {
    int hold[2], ready[2];
    if (::pipe2(hold, O_CLOEXEC) != 0 || ::pipe2(ready, O_CLOEXEC) != 0) return;
    const long pid = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid == 0) {
      ::close(hold[1]);
      ::close(ready[0]);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::alarm(120);
      ::prctl(PR_SET_NAME, kHolderName);
      if ((flags & CLONE_NEWUTS) && ::sethostname(kHolderHost, strlen(kHolderHost)) != 0) ::_exit(1);
      if ((flags & CLONE_NEWIPC) && ::shmget(kShmKey, 4096, IPC_CREAT | 0600) < 0) ::_exit(2);
      (void)!::write(ready[1], "r", 1);
      char c;
      (void)!::read(hold[0], &c, 1);
      ::_exit(0);
    }
    ::close(hold[0]);
    ::close(ready[1]);
    hold_fd_ = hold[1];
    if (pid < 0) {
      error_ = std::string("clone: ") + strerror(errno);
      ::close(ready[0]);
      return;
    }
    pid_ = static_cast<pid_t>(pid);
    char c;
    const bool up = ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
    if (!up) error_ = "the holder failed to set itself up";
  }
  ~Holder() {
    for (const std::string& f : binds_) ::umount2(f.c_str(), MNT_DETACH);
    if (hold_fd_ >= 0) ::close(hold_fd_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;

  bool ok() const { return pid_ > 0 && error_.empty(); }
  const std::string& error() const { return error_; }
  pid_t pid() const { return pid_; }
  std::string NsPath(const std::string& type) const { return "/proc/" + std::to_string(pid_) + "/ns/" + type; }
  uint64_t Inode(const std::string& type) const { return InodeOf(NsPath(type)); }

  // Bind-mounts the holder's namespace file on a new file `dir/name`, as
  // `ip netns add` does; unmounted by the destructor. "" on failure.
  std::string Bind(const TempDir& dir, const std::string& type, const std::string& name) {
    const std::string file = dir.WriteFile(name, "", 0644);
    if (::mount(NsPath(type).c_str(), file.c_str(), nullptr, MS_BIND, nullptr) != 0) return "";
    binds_.push_back(file);
    return file;
  }

 private:
  pid_t pid_ = -1;
  int hold_fd_ = -1;
  std::string error_;
  std::vector<std::string> binds_;
};

class NsJoinTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    ASSERT_EQ(::chmod(tmp_->path().c_str(), 0755), 0);
    root_ = tmp_->Join("root");
    const ShResult b = Sh("PATH=/usr/sbin:/usr/bin:/sbin:/bin " + Minipod() + " rootfs build --nss -o " + root_ +
                          " sh cat readlink ls " + Probe());
    ASSERT_EQ(b.status, 0) << b.out;
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  void SetUp() override {
    if (const auto p = testing_util::EffectiveHas(Cap(CAP_SYS_ADMIN) | Cap(CAP_NET_ADMIN)); !p) {
      GTEST_SKIP() << p.detail << " to run sandboxes as root";
    }
    mounts_before_ = MountPoints();
    char host[256] = "";
    ::gethostname(host, sizeof host - 1);
    hostname_before_ = host;
    recorded_ = true;
  }
  void TearDown() override {
    if (!recorded_) return;
    char host[256] = "";
    ::gethostname(host, sizeof host - 1);
    EXPECT_EQ(host, hostname_before_) << "the host's name changed";
  }
  // After the holders' binds are gone: nothing a run made stays mounted.
  void ExpectNoMountsLeft() { EXPECT_EQ(Appeared(mounts_before_, MountPoints()), "") << "mounts left behind"; }

  static ShResult Run(const std::string& options, const std::string& command) {
    return Sh(Minipod() + " run --rootfs " + root_ + " " + options + " -- " + command);
  }
  static std::string Value(const std::string& out, const std::string& key) {
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(key + " ", 0) == 0) return line.substr(key.size() + 1);
    }
    return "<missing " + key + ">";
  }

  static TempDir* tmp_;
  static std::string root_;
  std::multiset<std::string> mounts_before_;
  std::string hostname_before_;
  bool recorded_ = false;
};
TempDir* NsJoinTest::tmp_ = nullptr;
std::string NsJoinTest::root_;

TEST_F(NsJoinTest, NetworkNamespaceFromABindMountedFile) {
  {
    Holder holder(CLONE_NEWNET);
    ASSERT_TRUE(holder.ok()) << holder.error();
    TempDir dir;
    const std::string file = holder.Bind(dir, "net", "netns");
    ASSERT_NE(file, "") << strerror(errno);
    const uint64_t inode = holder.Inode("net");
    ASSERT_NE(inode, InodeOf("/proc/self/ns/net"));
    // The namespace, a /sys of its own (a new sysfs works in a joined
    // network namespace as root), and its loopback left as it was (down):
    // it belongs to the namespace's owner, not to us.
    const ShResult r =
        Run("--net ns:" + file, "sh -c \"readlink /proc/self/ns/net; cat /sys/class/net/lo/operstate; ls /sys/class/net\"");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr(NsLink("net", inode) + "\n"));
    EXPECT_THAT(r.out, HasSubstr("down\nlo\n")) << "lo untouched; only the joined namespace's devices in /sys";
    // The holder's namespace outlives the run, still without its loopback up.
    const std::string lo = ReadAll("/proc/" + std::to_string(holder.pid()) + "/net/dev");
    EXPECT_THAT(lo, HasSubstr("lo:"));
  }
  ExpectNoMountsLeft();
}

TEST_F(NsJoinTest, ANetworkNamespaceOfAnotherUserNamespace) {
  {
    Holder holder(CLONE_NEWUSER | CLONE_NEWNET);
    if (!holder.ok()) GTEST_SKIP() << "no user namespaces here: " << holder.error();
    ASSERT_NE(holder.Inode("user"), InodeOf("/proc/self/ns/user"));
    const ShResult r = Run("--net ns:" + holder.NsPath("net"), Probe() + " ns");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(Value(r.out, "ns net"), NsLink("net", holder.Inode("net")));
    // Root joins it without joining its user namespace.
    EXPECT_EQ(Value(r.out, "ns user"), NsLink("user", InodeOf("/proc/self/ns/user")));
  }
  ExpectNoMountsLeft();
}

TEST_F(NsJoinTest, IpcAndUtsNamespaces) {
  {
    Holder holder(CLONE_NEWIPC | CLONE_NEWUTS);
    ASSERT_TRUE(holder.ok()) << holder.error();
    TempDir dir;
    const std::string ipc = holder.Bind(dir, "ipc", "ipcns");
    ASSERT_NE(ipc, "") << strerror(errno);
    // The holder's System V segment is seen inside, not on the host.
    const std::string key = std::to_string(kShmKey);
    EXPECT_THAT(ReadAll("/proc/sysvipc/shm"), Not(HasSubstr(key + " ")));
    ShResult r = Run("--ipc ns:" + ipc + " --uts ns:" + holder.NsPath("uts"),
                     "sh -c \"cat /proc/sysvipc/shm; cat /proc/sys/kernel/hostname; echo HOSTNAME=$HOSTNAME\"");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr(key + " "));
    // The joined uts namespace keeps its name (minipod sets none there).
    EXPECT_THAT(r.out, HasSubstr(std::string(kHolderHost) + "\n"));
    EXPECT_THAT(r.out, HasSubstr("HOSTNAME=\n"));
    // A new ipc namespace does not see it.
    r = Run("", "cat /proc/sysvipc/shm");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_THAT(r.out, Not(HasSubstr(key + " ")));
    // --ipc host: the host's queues and segments, and its POSIX shared
    // memory (the files in its /dev/shm).
    const std::string shm_name = "minipod-nsjoin-" + std::to_string(::getpid());
    const std::string shm_file = "/dev/shm/" + shm_name;
    if (FILE* f = fopen(shm_file.c_str(), "w")) {
      fputs("shared\n", f);
      fclose(f);
      const ShResult host = Run("--ipc host", "cat " + shm_file);
      const ShResult own = Run("", "cat " + shm_file);
      ::unlink(shm_file.c_str());
      EXPECT_EQ(host.status, 0) << host.out;
      EXPECT_EQ(host.out, "shared\n");
      EXPECT_NE(own.status, 0) << "a new ipc namespace has a /dev/shm of its own: " << own.out;
    }
    // --uts host: the host's name, and it is left alone.
    r = Run("--uts host", "cat /proc/sys/kernel/hostname");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(r.out, hostname_before_ + "\n");
  }
  ExpectNoMountsLeft();
}

TEST_F(NsJoinTest, PidNamespaceOfAnotherProcess) {
  Holder holder(CLONE_NEWPID);
  ASSERT_TRUE(holder.ok()) << holder.error();
  const std::string pidns = "--pid ns:" + holder.NsPath("pid");
  // The command is not PID 1 (no init: implied --no-init) and sees the
  // holder as PID 1 in its own /proc.
  ShResult r = Run(pidns, "sh -c \"echo self=\\$\\$; cat /proc/1/comm; readlink /proc/self/ns/pid\"");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, Not(HasSubstr("self=1\n")));
  EXPECT_THAT(r.out, HasSubstr("self="));
  EXPECT_THAT(r.out, HasSubstr(std::string(kHolderName) + "\n"));
  EXPECT_THAT(r.out, HasSubstr(NsLink("pid", holder.Inode("pid"))));
  // --init keeps minipod-init, as the command's parent and a subreaper.
  r = Run(pidns + " --init", "sh -c \"cat /proc/\\$PPID/cmdline; echo; cat /proc/1/comm\"");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--subreaper"));
  EXPECT_THAT(r.out, HasSubstr(std::string(kHolderName) + "\n"));
  // Nothing of the runs is left in the holder's namespace.
  EXPECT_EQ(ProcessesInPidNsOf(holder.pid()), 1);
}

TEST_F(NsJoinTest, BadNamespaceFilesAre125WithTheReason) {
  {
    Holder holder(CLONE_NEWPID | CLONE_NEWNET);
    ASSERT_TRUE(holder.ok()) << holder.error();
    ShResult r = Run("--net ns:" + holder.NsPath("pid"), "true");
    EXPECT_EQ(r.status, 125) << r.out;
    EXPECT_THAT(r.out, HasSubstr("a pid namespace, not a net one"));
    const std::string plain = tmp_->WriteFile("plain", "x", 0644);
    r = Run("--ipc ns:" + plain, "true");
    EXPECT_EQ(r.status, 125) << r.out;
    EXPECT_THAT(r.out, HasSubstr(plain + ": not a namespace file"));
    r = Run("--uts ns:" + tmp_->Join("missing"), "true");
    EXPECT_EQ(r.status, 125) << r.out;
    EXPECT_THAT(r.out, HasSubstr("No such file"));

    if (const auto p = testing_util::HasProgram("setpriv"); !p) GTEST_SKIP() << p.detail;
    const std::string nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups " + Minipod() + " run --rootfs " + root_;
    // Another user's process: its namespace files are closed to us (EACCES).
    r = Sh(nobody + " --net ns:/proc/1/ns/net -- true");
    EXPECT_EQ(r.status, 125) << r.out;
    EXPECT_THAT(r.out, HasSubstr("open(/proc/1/ns/net): Permission denied"));
    // A bind-mounted one opens, but it belongs to root's user namespace,
    // where nobody has no privilege: refused with the reason, before
    // anything runs.
    TempDir dir;
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    const std::string file = holder.Bind(dir, "net", "netns");
    ASSERT_NE(file, "") << strerror(errno);
    r = Sh(nobody + " --net ns:" + file + " -- true");
    EXPECT_EQ(r.status, 125) << r.out;
    EXPECT_THAT(r.out, HasSubstr("--net ns:" + file + ": belongs to a user namespace made by uid 0, not by you (uid 65534)"));
  }
  ExpectNoMountsLeft();
}

// container:NAME as the caller hands it over: one pidfd for net, ipc, uts
// (joined with one setns) and pid (joined by the launcher before the clone).
TEST_F(NsJoinTest, ContainerChoicesJoinedThroughAPidfd) {
  Holder holder(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID);
  ASSERT_TRUE(holder.ok()) << holder.error();
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, holder.pid(), 0));
  ASSERT_GE(pidfd, 0) << strerror(errno);
  TempDir out;
  ASSERT_EQ(::chmod(out.path().c_str(), 0777), 0);
  // The launcher runs in a child of ours: joining a pid namespace is for
  // good (setns cannot go back to an ancestor), and it blocks signals.
  const pid_t runner = ::fork();
  ASSERT_GE(runner, 0);
  if (runner == 0) {
    ::alarm(60);
    sandbox::RunConfig c;
    c.rootfs = root_;
    c.binds = {{out.path(), "/out", /*writable=*/true}};
    c.init = false;
    for (sandbox::NsChoice* ns : {&c.net, &c.ipc, &c.uts, &c.pid}) {
      ns->kind = sandbox::NsChoice::Kind::kContainer;
      ns->target = "holder";
    }
    c.command = {"sh", "-c",
                 "{ readlink /proc/self/ns/net /proc/self/ns/ipc /proc/self/ns/uts /proc/self/ns/pid; "
                 "cat /proc/sys/kernel/hostname /proc/1/comm; echo self=$$; } > /out/seen"};
    sandbox::JoinedNamespaces joined;
    for (sandbox::NsType t : {sandbox::NsType::kNet, sandbox::NsType::kIpc, sandbox::NsType::kUts, sandbox::NsType::kPid}) {
      joined[t] = pidfd;
    }
    absl::StatusOr<int> code = sandbox::RunSandbox(c, root_, joined);
    if (!code.ok()) fprintf(stderr, "RunSandbox: %s\n", std::string(code.status().message()).c_str());
    ::_exit(code.ok() ? *code : 125);
  }
  int ws = 0;
  ASSERT_EQ(::waitpid(runner, &ws, 0), runner);
  ::close(pidfd);
  ASSERT_TRUE(WIFEXITED(ws)) << ws;
  ASSERT_EQ(WEXITSTATUS(ws), 0);
  const std::string seen = ReadAll(out.Join("seen"));
  const std::string expected = NsLink("net", holder.Inode("net")) + "\n" + NsLink("ipc", holder.Inode("ipc")) + "\n" +
                               NsLink("uts", holder.Inode("uts")) + "\n" + NsLink("pid", holder.Inode("pid")) + "\n" +
                               kHolderHost + "\n" + kHolderName + "\nself=";
  EXPECT_EQ(seen.substr(0, expected.size()), expected) << seen;
  EXPECT_THAT(seen, Not(HasSubstr("self=1\n")));
  EXPECT_EQ(ProcessesInPidNsOf(holder.pid()), 1) << "nothing of the run is left in the holder's namespace";
}

// Without root: the host's net, ipc and uts work (a bound /sys and
// mqueue, no host name set); the host's pid namespace is refused.
TEST_F(NsJoinTest, RootlessHostChoices) {
  if (const auto p = testing_util::HasProgram("setpriv"); !p) GTEST_SKIP() << p.detail;
  const std::string nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups " + Minipod() + " run --rootfs " + root_;
  ShResult r = Sh(nobody + " --net host --ipc host --uts host -- " + Probe() + " ns");
  if (r.status == 125 && r.out.find("clone") != std::string::npos) GTEST_SKIP() << "no user namespaces here: " << r.out;
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* t : {"net", "ipc", "uts"}) {
    EXPECT_EQ(Value(r.out, std::string("ns ") + t), NsLink(t, InodeOf(std::string("/proc/self/ns/") + t))) << t;
  }
  EXPECT_NE(Value(r.out, "ns user"), NsLink("user", InodeOf("/proc/self/ns/user")));
  r = Sh(nobody + " --pid host -- true");
  EXPECT_EQ(r.status, 125) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--pid host: without root"));
}

TEST_F(NsJoinTest, HostNetworkStillWorks) {
  const ShResult r = Run("--net host", Probe() + " ns");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Value(r.out, "ns net"), NsLink("net", InodeOf("/proc/self/ns/net")));
  EXPECT_NE(Value(r.out, "ns ipc"), NsLink("ipc", InodeOf("/proc/self/ns/ipc")));
}

TEST_F(NsJoinTest, ReadNamespacesOfAHolder) {
  Holder holder(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID);
  ASSERT_TRUE(holder.ok()) << holder.error();
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, holder.pid(), 0));
  ASSERT_GE(pidfd, 0) << strerror(errno);
  absl::StatusOr<runtime::NsInodes> ns = runtime::ReadNamespaces(holder.pid(), pidfd);
  ::close(pidfd);
  ASSERT_TRUE(ns.ok()) << ns.status();
  for (size_t i = 0; i < runtime::kNsKinds; ++i) {
    const std::string type = runtime::NsKindName(static_cast<runtime::NsKind>(i));
    if (::access(("/proc/self/ns/" + type).c_str(), F_OK) != 0) continue;
    EXPECT_EQ((*ns)[i], holder.Inode(type)) << type;
    const bool own = type == "net" || type == "ipc" || type == "uts" || type == "pid";
    EXPECT_EQ((*ns)[i] != InodeOf("/proc/self/ns/" + type), own) << type;
  }
  // As a table: the holder's net, ipc, uts and pid are the pod's.
  runtime::NsInodes host{};
  for (size_t i = 0; i < runtime::kNsKinds; ++i) {
    const std::string path = std::string("/proc/self/ns/") + runtime::NsKindName(static_cast<runtime::NsKind>(i));
    if (::access(path.c_str(), F_OK) == 0) host[i] = InodeOf(path);
  }
  const runtime::NsTable t = runtime::ClassifyNamespaces(
      {{"host", runtime::ColumnRole::kHost, host}, {"holder", runtime::ColumnRole::kHolder, *ns}});
  EXPECT_EQ(t.cells[static_cast<size_t>(runtime::NsKind::kNet)][1].owner, runtime::NsOwner::kPod);
  EXPECT_EQ(t.cells[static_cast<size_t>(runtime::NsKind::kMnt)][1].owner, runtime::NsOwner::kHost);
}

}  // namespace
}  // namespace itest
