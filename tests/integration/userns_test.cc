// `minipod run --userns auto|keep-id` as root: root inside is an
// unprivileged uid of a block on the host, the root file system and binds
// keep their owners through id-mapped mounts, blocks are distinct while
// held and free again when their container ends (or its launcher is
// killed), and a process with the container's credentials on the host's
// files cannot write what host root owns. Every wait is bounded; no mount
// may be left behind.
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/userns.h"
#include "tests/integration/harness.h"
#include "tests/integration/userns_probe.h"
#include "tests/testing/probes.h"

namespace itest {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr uint64_t Cap(int cap) { return uint64_t{1} << cap; }

// overlayfs over id-mapped layers came with Linux 5.19 (no cheaper probe
// than the kernel's version: trying needs the whole mount dance).
testing_util::Probe OverlayTakesIdmappedLayers() {
  struct utsname u {};
  if (uname(&u) != 0) return {false, "uname failed"};
  int major = 0, minor = 0;
  if (sscanf(u.release, "%d.%d", &major, &minor) != 2) return {false, std::string("kernel release ") + u.release};
  if (major > 5 || (major == 5 && minor >= 19)) return {true, u.release};
  return {false, std::string("overlayfs takes id-mapped layers from Linux 5.19; this kernel is ") + u.release};
}

// "Uid:\tR\tE\tS\tF" of /proc/PID/status: the real uid (-1 when gone).
long HostUid(pid_t pid, const char* field = "Uid:") {
  std::istringstream in(ReadAll("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field, 0) == 0) return strtol(line.c_str() + strlen(field), nullptr, 10);
  }
  return -1;
}

// A launcher started by the test, output to a file, fd 3 to a status file.
struct Launched {
  pid_t pid = -1;
  std::string out_path, status_path;
  std::string Out() const { return ReadAll(out_path); }
};

Launched Launch(const TempDir& tmp, const std::string& name, std::vector<std::string> args) {
  Launched l;
  l.out_path = tmp.Join(name + ".out");
  l.status_path = tmp.Join(name + ".status");
  l.pid = fork();
  if (l.pid == 0) {
    const int out = open(l.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int status = open(l.status_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    dup2(out, 1);
    dup2(out, 2);
    dup2(status, 3);
    const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    dup2(null, 0);
    args.insert(args.begin(), "minipod");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(Minipod().c_str(), argv.data());
    _exit(99);
  }
  return l;
}

// The container's first process, from the "start" line of --status-fd.
pid_t WaitStarted(const Launched& l, Ms timeout = Ms(15'000)) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const std::string s = ReadAll(l.status_path);
    const size_t at = s.find("\"event\":\"start\",\"pid\":");
    if (at != std::string::npos) return static_cast<pid_t>(atol(s.c_str() + at + 22));
    std::this_thread::sleep_for(Ms(20));
  }
  return -1;
}

// The launcher's exit status, or -1 after timeout (then killed).
int WaitExit(pid_t pid, Ms timeout = Ms(20'000)) {
  const auto deadline = Clock::now() + timeout;
  int ws = 0;
  while (Clock::now() < deadline) {
    const pid_t r = waitpid(pid, &ws, WNOHANG);
    if (r == pid) return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    if (r < 0) return -1;
    std::this_thread::sleep_for(Ms(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &ws, 0);
  return -1;
}

bool WaitGone(pid_t pid, Ms timeout = Ms(10'000)) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (kill(pid, 0) != 0 && errno == ESRCH) return true;
    if (ProcState(pid) == 'Z') return true;
    std::this_thread::sleep_for(Ms(10));
  }
  return false;
}

class UsernsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    ASSERT_EQ(chmod(tmp_->path().c_str(), 0755), 0);
    root_ = tmp_->Join("root");
    const ShResult b = Sh("PATH=/usr/sbin:/usr/bin:/sbin:/bin " + Minipod() + " rootfs build --nss -o " + root_ +
                          " sh id ls cat sleep touch");
    ASSERT_EQ(b.status, 0) << b.out;
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  void SetUp() override {
    if (const auto p = testing_util::EffectiveHas(Cap(CAP_SYS_ADMIN) | Cap(CAP_NET_ADMIN) | Cap(CAP_SETUID) |
                                                  Cap(CAP_SETGID));
        !p) {
      GTEST_SKIP() << p.detail << " to run sandboxes in a user namespace of their own";
    }
    if (const auto p = UsernsAndIdmapUsable(); !p) GTEST_SKIP() << p.detail;
    if (const auto p = OverlayTakesIdmappedLayers(); !p) GTEST_SKIP() << p.detail;
    absl::StatusOr<std::vector<sandbox::IdBlock>> blocks = sandbox::CandidateBlocks("/etc/subuid", "/etc/subgid");
    ASSERT_TRUE(blocks.ok()) << blocks.status();
    for (const sandbox::IdBlock& b : *blocks) block_starts_.insert(b.uid_start);
    mounts_before_ = MountPoints();
    recorded_ = true;
  }
  void TearDown() override {
    KillAllDescendants();
    if (!recorded_) return;
    EXPECT_EQ(Appeared(mounts_before_, MountPoints()), "") << "mounts left behind";
  }

  static ShResult Run(const std::string& options, const std::string& script) {
    return Sh(Minipod() + " run --rootfs " + root_ + " " + options + " -- sh -c \"" + script + "\"");
  }
  // A run whose command waits until DIR/go exists (DIR bound at /sig).
  Launched Hold(const std::string& name, const std::string& dir, const std::string& options = "--userns auto") {
    std::vector<std::string> args = {"run", "--rootfs", root_, "--status-fd", "3", "--bind", dir + ":/sig:rw"};
    std::istringstream in(options);
    for (std::string o; in >> o;) args.push_back(o);
    for (const char* a : {"--", "sh", "-c", "id -u; while [ ! -e /sig/go ]; do sleep 0.05; done"}) args.push_back(a);
    return Launch(*tmp_, name, args);
  }
  // The start of the block holding host uid, or -1.
  long BlockOf(long uid) const {
    for (uint32_t start : block_starts_) {
      if (uid >= start && uid < static_cast<long>(start) + sandbox::kBlockSize) return start;
    }
    return -1;
  }

  static TempDir* tmp_;
  static std::string root_;
  std::set<uint32_t> block_starts_;
  std::multiset<std::string> mounts_before_;
  bool recorded_ = false;
};
TempDir* UsernsTest::tmp_ = nullptr;
std::string UsernsTest::root_;

TEST_F(UsernsTest, RootInsideIsAnUnprivilegedUidOfABlockOutside) {
  const std::string sig = tmp_->Join("sig-root");
  fs::create_directories(sig);
  Launched l = Hold("root", sig);
  const pid_t pid = WaitStarted(l);
  ASSERT_GT(pid, 0) << l.Out();
  const long uid = HostUid(pid), gid = HostUid(pid, "Gid:");
  EXPECT_NE(uid, 0);
  EXPECT_EQ(uid, BlockOf(uid)) << "the container's 0 is its block's first uid; uid " << uid;
  EXPECT_GE(gid, 65536) << "and its gid is not a host system group";
  // The command itself (under minipod-init) too.
  for (pid_t p : Descendants(pid)) {
    const long u = HostUid(p);
    // The shell's `sleep 0.05` children come and go: one that ended
    // between the listing and the read has no status left.
    if (u == -1 && !fs::exists("/proc/" + std::to_string(p))) continue;
    EXPECT_EQ(u, uid) << "pid " << p;
  }
  EXPECT_EQ(ReadAll("/proc/" + std::to_string(pid) + "/uid_map"),
            "         0 " + std::to_string(uid) + "      65536\n");
  std::ofstream(sig + "/go");
  EXPECT_EQ(WaitExit(l.pid), 0) << l.Out();
  EXPECT_EQ(l.Out(), "0\n");
  fs::remove_all(sig);
}

TEST_F(UsernsTest, TheRootKeepsItsOwnersAndTheOverlayIsWritable) {
  const ShResult r = Run("--userns auto", "id -u; ls -lnd /etc /usr /usr/bin; touch /etc/new && echo wrote");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("0\n"));
  std::istringstream in(r.out);
  int listed = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string mode, links, owner, group;
    if (!(f >> mode >> links >> owner >> group) || mode[0] != 'd') continue;
    EXPECT_EQ(owner + ":" + group, "0:0") << line;
    ++listed;
  }
  EXPECT_EQ(listed, 3) << r.out;
  EXPECT_THAT(r.out, HasSubstr("wrote"));
  EXPECT_FALSE(fs::exists(root_ + "/etc/new")) << "the upper layer is thrown away";

  // The host's network is owned by the host's user namespace: a new sysfs
  // is refused there, so the host's is bound read-only (as rootless).
  const ShResult net = Run("--userns auto --net host", "ls -d /sys/kernel && touch /sys/x || echo sys-ro");
  EXPECT_EQ(net.status, 0) << net.out;
  EXPECT_THAT(net.out, HasSubstr("/sys/kernel\n"));
  EXPECT_THAT(net.out, HasSubstr("sys-ro"));

  // --upper: the kept layer's files belong to host root, as without --userns.
  const std::string keep = tmp_->Join("keep");
  const ShResult u = Run("--userns auto --upper " + keep, "touch /etc/kept && echo wrote");
  EXPECT_EQ(u.status, 0) << u.out;
  struct stat st {};
  ASSERT_EQ(stat((keep + "/upper/etc/kept").c_str(), &st), 0) << u.out;
  EXPECT_EQ(st.st_uid, 0u);
  fs::remove_all(keep);
}

TEST_F(UsernsTest, BindsKeepTheirHostOwners) {
  const std::string data = tmp_->Join("data");
  fs::create_directories(data);
  ASSERT_EQ(chmod(data.c_str(), 0755), 0);
  std::ofstream(data + "/root-file") << "r\n";
  std::ofstream(data + "/u1234") << "a\n";
  std::ofstream(data + "/u70000") << "b\n";
  ASSERT_EQ(chown((data + "/u1234").c_str(), 1234, 1234), 0);
  ASSERT_EQ(chown((data + "/u70000").c_str(), 70000, 70000), 0);
  ASSERT_EQ(chmod((data + "/u70000").c_str(), 0644), 0);
  const ShResult r = Run("--userns auto --bind " + data + ":/data:rw",
                         "ls -ln /data; touch /data/made-inside; echo x >> /data/u1234 && echo appended;"
                         " echo x >> /data/u70000 || echo refused");
  ASSERT_EQ(r.status, 0) << r.out;
  // Host 0 and 1234 are 0 and 1234 inside (through the container's own
  // mapping of its block); 70000 is outside 0-65535: nobody inside.
  EXPECT_THAT(r.out, ::testing::ContainsRegex(" 0 +0 .* root-file"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(" 1234 +1234 .* u1234"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(" 65534 +65534 .* u70000"));
  EXPECT_THAT(r.out, HasSubstr("appended")) << "root inside may write what host 1234 owns, as root could";
  EXPECT_THAT(r.out, HasSubstr("refused")) << "an unmapped owner is beyond root inside";
  EXPECT_EQ(ReadAll(data + "/u70000"), "b\n");
  struct stat st {};
  ASSERT_EQ(stat((data + "/made-inside").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "written by root inside: owned by host root through the mapping";
  fs::remove_all(data);
}

// The launcher, still root, makes the cgroup and puts the container in it;
// the container does not own it (its cgroup namespace's root, left as root
// made it).
TEST_F(UsernsTest, CgroupLimitsStillApply) {
  const ShResult base = Run("--pids 50", "true");
  if (base.status != 0) GTEST_SKIP() << "cgroup limits are unusable here without --userns too: " << base.out;
  const std::string sig = tmp_->Join("sig-cgroup");
  fs::create_directories(sig);
  Launched l = Hold("cgroup", sig, "--userns auto --pids 50");
  const pid_t pid = WaitStarted(l);
  ASSERT_GT(pid, 0) << l.Out();
  const std::string status = ReadAll(l.status_path);
  const size_t at = status.find("\"cgroup\":\"");
  ASSERT_NE(at, std::string::npos) << status;
  std::string path = status.substr(at + 10);
  path = path.substr(0, path.find_first_of(":\""));
  const std::string leaf = path.substr(path.rfind('/') + 1);
  EXPECT_THAT(leaf, ::testing::StartsWith("minipod-"));
  EXPECT_THAT(ReadAll("/proc/" + std::to_string(pid) + "/cgroup"), HasSubstr("/" + leaf)) << status;
  EXPECT_EQ(ReadAll(path + "/pids.max"), "50\n") << path;
  std::ofstream(sig + "/go");
  EXPECT_EQ(WaitExit(l.pid), 0) << l.Out();
  fs::remove_all(sig);
}

// Where a bind's file system cannot be id-mapped (sysfs never can; a
// device node's /dev may not), it is bound as it is, with a warning: its
// root-owned files are nobody's inside, and a :dev device still works.
TEST_F(UsernsTest, BindsThatCannotBeIdmappedAreBoundAsTheyAre) {
  const ShResult r = Run("--userns auto --bind /sys/kernel:/hsys --bind /dev/null:/dev/hostnull:rw,dev",
                         "ls -lnd /hsys; echo x > /dev/hostnull && echo dev-ok; echo x > /hsys/x || echo sys-refused");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("warning: /sys/kernel: its file system cannot be id-mapped; bound as it is"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(" 65534 +65534 .*/hsys"));
  EXPECT_THAT(r.out, HasSubstr("dev-ok"));
  EXPECT_THAT(r.out, HasSubstr("sys-refused"));
}

TEST_F(UsernsTest, ConcurrentContainersGetDistinctBlocksFreedAtTheEnd) {
  const std::string a_sig = tmp_->Join("sig-a"), b_sig = tmp_->Join("sig-b");
  fs::create_directories(a_sig);
  fs::create_directories(b_sig);
  Launched a = Hold("a", a_sig);
  Launched b = Hold("b", b_sig);
  const pid_t a_pid = WaitStarted(a), b_pid = WaitStarted(b);
  ASSERT_GT(a_pid, 0) << a.Out();
  ASSERT_GT(b_pid, 0) << b.Out();
  const long a_uid = HostUid(a_pid), b_uid = HostUid(b_pid);
  EXPECT_GE(BlockOf(a_uid), 0) << a_uid;
  EXPECT_GE(BlockOf(b_uid), 0) << b_uid;
  EXPECT_NE(BlockOf(a_uid), BlockOf(b_uid));
  const std::string record = ReadAll("/run/minipod/userns");
  EXPECT_THAT(record, HasSubstr(std::to_string(a_uid) + " ")) << record;
  EXPECT_THAT(record, HasSubstr(std::to_string(b_uid) + " ")) << record;
  std::ofstream(a_sig + "/go");
  std::ofstream(b_sig + "/go");
  EXPECT_EQ(WaitExit(a.pid), 0) << a.Out();
  EXPECT_EQ(WaitExit(b.pid), 0) << b.Out();
  const std::string after = ReadAll("/run/minipod/userns");
  EXPECT_THAT(after, ::testing::Not(HasSubstr(" " + std::to_string(a.pid) + ":"))) << after;
  EXPECT_THAT(after, ::testing::Not(HasSubstr(" " + std::to_string(b.pid) + ":"))) << after;
  fs::remove_all(a_sig);
  fs::remove_all(b_sig);
}

TEST_F(UsernsTest, ABlockIsFreeAgainAfterItsLauncherIsKilled) {
  const std::string sig = tmp_->Join("sig-kill");
  fs::create_directories(sig);
  Launched l = Hold("kill", sig);
  const pid_t pid = WaitStarted(l);
  ASSERT_GT(pid, 0) << l.Out();
  const long uid = HostUid(pid);
  ASSERT_GE(BlockOf(uid), 0) << uid;
  kill(l.pid, SIGKILL);
  int ws;
  waitpid(l.pid, &ws, 0);
  ASSERT_TRUE(WaitGone(pid)) << "the container dies with its launcher";
  // The stale line is still there (nobody released it) but holds no live
  // process: the first free block is the same again.
  EXPECT_THAT(ReadAll("/run/minipod/userns"), HasSubstr(std::to_string(uid) + " "));
  Launched next = Hold("next", sig);
  const pid_t next_pid = WaitStarted(next);
  ASSERT_GT(next_pid, 0) << next.Out();
  EXPECT_EQ(HostUid(next_pid), uid) << "the dead container's block, reused";
  std::ofstream(sig + "/go");
  EXPECT_EQ(WaitExit(next.pid), 0) << next.Out();
  fs::remove_all(sig);
}

// A process that leaves the container with its credentials (here: nsenter
// into its user namespace only, so it sees the host's files) holds no
// privilege over what host root owns: root inside is uid START outside.
TEST_F(UsernsTest, AnEscapedProcessCannotWriteHostRootFiles) {
  if (const auto p = testing_util::HasProgram("nsenter"); !p) GTEST_SKIP() << p.detail;
  const std::string sig = tmp_->Join("sig-escape");
  fs::create_directories(sig);
  const std::string host = tmp_->Join("host-owned");
  fs::create_directories(host);
  ASSERT_EQ(chmod(host.c_str(), 0755), 0);
  std::ofstream(host + "/secret") << "s\n";
  ASSERT_EQ(chmod((host + "/secret").c_str(), 0600), 0);
  Launched l = Hold("escape", sig);
  const pid_t pid = WaitStarted(l);
  ASSERT_GT(pid, 0) << l.Out();
  const long uid = HostUid(pid);
  // A directory the block's root owns on the host: writable, so a refusal
  // below is about the owner, not about nsenter failing.
  const std::string mine = tmp_->Join("block-owned");
  fs::create_directories(mine);
  ASSERT_EQ(chown(mine.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(uid)), 0);
  const std::string enter = "nsenter --target " + std::to_string(pid) + " --user -- ";
  ShResult r = Sh(enter + "sh -c \"id -u; touch " + mine + "/ok && echo own-ok\"");
  EXPECT_THAT(r.out, HasSubstr("0\n")) << "root of the container's user namespace";
  EXPECT_THAT(r.out, HasSubstr("own-ok")) << r.out;
  r = Sh(enter + "sh -c \"touch " + host + "/new || echo dir-refused; cat " + host +
         "/secret || echo read-refused; echo x >> " + host + "/secret || echo write-refused\"");
  EXPECT_THAT(r.out, HasSubstr("dir-refused")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("read-refused")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("write-refused")) << r.out;
  EXPECT_FALSE(fs::exists(host + "/new"));
  EXPECT_EQ(ReadAll(host + "/secret"), "s\n");
  std::ofstream(sig + "/go");
  EXPECT_EQ(WaitExit(l.pid), 0) << l.Out();
  fs::remove_all(sig);
  fs::remove_all(host);
  fs::remove_all(mine);
}

TEST_F(UsernsTest, KeepIdAndHost) {
  // As root the caller's id is 0: it stays 0, the rest of 0-65535 is a block.
  ShResult r = Run("--userns keep-id", "id -u; cat /proc/self/uid_map");
  ASSERT_EQ(r.status, 0) << r.out;
  std::istringstream in(r.out);
  std::string first, inside, outside, count;
  std::getline(in, first);
  EXPECT_EQ(first, "0");
  in >> inside >> outside >> count;
  EXPECT_EQ(inside + " " + outside + " " + count, "0 0 1");
  in >> inside >> outside >> count;
  EXPECT_EQ(inside + " " + count, "1 65535");
  EXPECT_EQ(BlockOf(atol(outside.c_str()) - 1), atol(outside.c_str()) - 1) << r.out;
  // host: no user namespace of its own, root is the host's.
  r = Run("--userns host", "cat /proc/self/uid_map");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, ::testing::ContainsRegex("^ +0 +0 +4294967295\n$"));
  r = Run("--userns other", "true");
  EXPECT_EQ(r.status, 125);
  EXPECT_THAT(r.out, HasSubstr("--userns 'other': auto, host or keep-id"));
  r = Run("--userns auto --user 70000", "true");
  EXPECT_EQ(r.status, 125);
  EXPECT_THAT(r.out, HasSubstr("the ids inside are 0 to 65535"));
}

// Without root: keep-id runs the command as the caller; auto is refused.
TEST_F(UsernsTest, RootlessKeepIdKeepsTheCallersUid) {
  const std::string nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  ShResult r = Sh(nobody + Minipod() + " run --rootfs " + root_ + " --userns keep-id -- sh -c \"id -u; id -g\"");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "65534\n65534\n");
  r = Sh(nobody + Minipod() + " run --rootfs " + root_ + " -- id -u");
  EXPECT_EQ(r.out, "0\n") << "the default without root: the caller is 0 inside";
  r = Sh(nobody + Minipod() + " run --rootfs " + root_ + " --userns auto -- id -u");
  EXPECT_EQ(r.status, 125);
  EXPECT_THAT(r.out, HasSubstr("--userns auto: needs root"));
}

}  // namespace
}  // namespace itest
