// Sandbox cgroups on the real kernel, as root: limits written and enforced
// (OOM kills that OomKilled() and OomKillCount() report, a fork bomb stopped
// at pids.max, a throttled CPU hog), membership, removal that leaves each
// hierarchy's tree as it was, the device policy (v1 devices controller, v2
// BPF program) refusing /dev/kmsg and /dev/mem but not /dev/null, the
// janitor (exec'd from the built minipod, $MINIPOD) after a SIGKILL of the
// launcher at any point, and PermissionDenied for an unprivileged caller.
// Each test probes what it needs (a hierarchy, a controller, a writable
// cgroupfs, devices this process may open) and skips with the reason. On a
// hybrid host the v2 code runs on the empty cgroup2 mount (no controllers,
// so no v2 limits: those are covered by the plan's unit tests). Every wait
// is bounded; every minipod-test-<pid>-* cgroup is removed by name at the
// end of each test.
#include "sandbox/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/integration/harness.h"

namespace itest {
namespace {

using ::sandbox::CgroupLayout;
using ::sandbox::Limits;
using ::sandbox::SandboxCgroup;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
namespace fs = std::filesystem;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return std::string(absl::StripTrailingAsciiWhitespace(ss.str()));
}

Limits PidsOnly(int64_t n) {
  Limits l;
  l.pids = n;
  return l;
}

bool IsDir(const std::string& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// The janitor runs as `minipod __cgroup-janitor`: the built minipod, since
// this test binary has no such entry point.
const char* JanitorExe() {
  static const std::string path = [] {
    const char* m = getenv("MINIPOD");
    return std::string(m != nullptr ? m : "");
  }();
  return path.c_str();
}

std::string Prefix() { return absl::StrCat("minipod-test-", getpid(), "-"); }

// Every cgroup directory below the places we create in.
std::set<std::string> Snapshot(const CgroupLayout& l) {
  std::set<std::string> roots;
  for (const auto& [c, dir] : l.own_dirs) {
    roots.insert(dir);
    if (c.empty() && dir != l.v2_root) roots.insert(fs::path(dir).parent_path().string());
  }
  std::set<std::string> out;
  for (const std::string& root : roots) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_directory(ec)) out.insert(it->path().string());
    }
  }
  return out;
}

// Entries of a snapshot that are ours (other processes on the host may create
// and remove cgroups of their own at the same time).
std::set<std::string> Ours(const std::set<std::string>& s) {
  std::set<std::string> out;
  for (const std::string& p : s) {
    if (p.find(Prefix()) != std::string::npos) out.insert(p);
  }
  return out;
}

// Waits (bounded) for pid, our child, to end; its wait status or -1.
int WaitChild(pid_t pid, Ms timeout = Ms(30'000)) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int ws = 0;
    const pid_t r = waitpid(pid, &ws, WNOHANG);
    if (r == pid) return ws;
    if (r < 0) return -1;
    if (Clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &ws, 0);
      return -1;
    }
    std::this_thread::sleep_for(Ms(5));
  }
}

// Gone or a zombie; reaps it if it is our child.
bool Dead(pid_t pid) {
  waitpid(pid, nullptr, WNOHANG);
  const char s = ProcState(pid);
  return s == '?' || s == 'Z';
}

// Polls cond every 10 ms for up to timeout.
template <typename F>
bool Eventually(F cond, Ms timeout = Ms(10'000)) {
  const auto deadline = Clock::now() + timeout;
  while (!cond()) {
    if (Clock::now() > deadline) return false;
    // Orphans (the janitor, the sleeper) come back to us, the subreaper.
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    std::this_thread::sleep_for(Ms(10));
  }
  return true;
}

// A child that blocks until `go` is written, then runs body and _exits
// with its result; killed by alarm after 60 s whatever happens.
struct Gated {
  pid_t pid = -1;
  int go = -1;
  void Release() {
    if (go >= 0) {
      (void)!write(go, "g", 1);
      close(go);
      go = -1;
    }
  }
};
template <typename F>
Gated StartGated(F body) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(60);
    close(p[1]);
    char c;
    if (read(p[0], &c, 1) != 1) _exit(100);
    _exit(body());
  }
  close(p[0]);
  return Gated{pid, p[1]};
}

// Touches up to 256 MiB in 1 MiB steps; returns 0 if never killed.
int Hog() {
  for (int i = 0; i < 256; ++i) {
    char* p = static_cast<char*>(malloc(1 << 20));
    if (p == nullptr) return 3;
    memset(p, i + 1, 1 << 20);
  }
  return 0;
}

class CgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<CgroupLayout> l = sandbox::ReadCgroupLayout();
    ASSERT_TRUE(l.ok()) << l.status();
    layout_ = *l;
    ASSERT_EQ(access(JanitorExe(), X_OK), 0) << "MINIPOD must name the built minipod (run via meson test)";
    if (layout_.kind == CgroupLayout::kNone) GTEST_SKIP() << "no usable cgroup hierarchy";
    // A container may see cgroupfs read-only (or not its own to write).
    const std::vector<std::string> probe = Planned(Name(), Limits{});
    ASSERT_FALSE(probe.empty()) << "a plain cgroup must be plannable on any usable layout";
    if (mkdir(probe[0].c_str(), 0755) != 0) {
      const int err = errno;
      if (err == EROFS || err == EACCES || err == EPERM) {
        GTEST_SKIP() << "cannot create cgroups here (" << probe[0] << ": " << strerror(err) << ")";
      }
      FAIL() << "mkdir(" << probe[0] << "): " << strerror(err);
    }
    ASSERT_EQ(rmdir(probe[0].c_str()), 0) << strerror(errno);
  }
  void TearDown() override {
    // Whatever a failed test left: every minipod-test-<our pid>-* cgroup.
    std::vector<std::string> leftovers;
    for (const std::string& p : Ours(Snapshot(layout_))) {
      if (fs::path(p).filename().string().rfind(Prefix(), 0) == 0) leftovers.push_back(p);
    }
    EXPECT_TRUE(sandbox::KillAndRemoveCgroups(leftovers).ok());
    KillAllDescendants();
  }
  std::string Name() { return absl::StrCat(Prefix(), ++counter_); }
  static Limits All() {
    Limits l;
    l.memory_bytes = 32LL << 20;
    l.pids = 10;
    l.cpus = 0.5;
    return l;
  }
  // All() less the limits this host's layout cannot apply (a v2 parent
  // that delegates no cpu, a v1 host without a pids hierarchy): what the
  // tests of membership, removal and the janitor use, so they run anywhere.
  Limits Supported() {
    Limits l;
    const Limits all = All();
    Limits one;
    one.memory_bytes = all.memory_bytes;
    if (!Planned("probe", one).empty()) l.memory_bytes = all.memory_bytes;
    one = Limits{};
    one.pids = all.pids;
    if (!Planned("probe", one).empty()) l.pids = all.pids;
    one = Limits{};
    one.cpus = all.cpus;
    if (!Planned("probe", one).empty()) l.cpus = all.cpus;
    return l;
  }
  // The directories Create will use for name.
  std::vector<std::string> Planned(const std::string& name, const Limits& limits) {
    std::string subtree;
    if (layout_.kind == CgroupLayout::kV2) subtree = Read(layout_.own_dirs.at("") + "/cgroup.subtree_control");
    absl::StatusOr<sandbox::CgroupPlan> p = sandbox::PlanCgroup(name, limits, layout_, subtree);
    return p.ok() ? p->dirs : std::vector<std::string>{};
  }
  bool AllGone(const std::vector<std::string>& dirs) {
    for (const std::string& d : dirs) {
      if (IsDir(d)) return false;
    }
    return true;
  }

  CgroupLayout layout_;
  int counter_ = 0;
};

TEST_F(CgroupTest, LimitsAreWritten) {
  absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(Name(), All(), layout_);
  if (!cg.ok() && cg.status().code() == absl::StatusCode::kFailedPrecondition) {
    GTEST_SKIP() << "a controller is missing here: " << cg.status();
  }
  ASSERT_TRUE(cg.ok()) << cg.status();
  ASSERT_FALSE(cg->Paths().empty());
  for (const std::string& d : cg->Paths()) EXPECT_TRUE(IsDir(d)) << d;
  if (cg->kind() == CgroupLayout::kV2) {
    const std::string d = cg->Paths()[0];
    EXPECT_EQ(Read(d + "/memory.max"), "33554432");
    if (fs::exists(d + "/memory.swap.max")) {
      EXPECT_EQ(Read(d + "/memory.swap.max"), "0");
    }
    EXPECT_EQ(Read(d + "/pids.max"), "10");
    EXPECT_EQ(Read(d + "/cpu.max"), "50000 100000");
    EXPECT_GE(cg->v2_dir_fd(), 0);
  } else {
    const std::string mem = absl::StrCat(layout_.own_dirs.at("memory"), "/", fs::path(cg->Paths()[0]).filename().string());
    EXPECT_EQ(Read(mem + "/memory.limit_in_bytes"), "33554432");
    if (fs::exists(mem + "/memory.memsw.limit_in_bytes")) {
      EXPECT_EQ(Read(mem + "/memory.memsw.limit_in_bytes"), "33554432");
    }
    const std::string name = fs::path(mem).filename().string();
    EXPECT_EQ(Read(layout_.own_dirs.at("pids") + "/" + name + "/pids.max"), "10");
    EXPECT_EQ(Read(layout_.own_dirs.at("cpu") + "/" + name + "/cpu.cfs_period_us"), "100000");
    EXPECT_EQ(Read(layout_.own_dirs.at("cpu") + "/" + name + "/cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(cg->Paths().size(), 3u);
    EXPECT_EQ(cg->v2_dir_fd(), -1);
  }
  EXPECT_FALSE(cg->OomKilled());
  EXPECT_TRUE(cg->Remove().ok());
  EXPECT_TRUE(cg->Paths().empty());
}

TEST_F(CgroupTest, AddProcessMovesTheChildIntoEveryHierarchy) {
  absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(Name(), Supported(), layout_);
  if (!cg.ok() && cg.status().code() == absl::StatusCode::kFailedPrecondition) GTEST_SKIP() << cg.status();
  ASSERT_TRUE(cg.ok()) << cg.status();
  Gated child = StartGated([] { return 0; });
  ASSERT_GT(child.pid, 0);
  ASSERT_TRUE(cg->AddProcess(child.pid).ok());
  for (const std::string& d : cg->Paths()) {
    EXPECT_EQ(Read(d + "/cgroup.procs"), absl::StrCat(child.pid)) << d;
  }
  const std::string self = Read(absl::StrCat("/proc/", child.pid, "/cgroup"));
  EXPECT_THAT(self, HasSubstr(fs::path(cg->Paths()[0]).filename().string()));
  child.Release();
  EXPECT_EQ(WaitChild(child.pid), 0);
  // A process that is gone: NotFound.
  EXPECT_EQ(cg->AddProcess(child.pid).code(), absl::StatusCode::kNotFound);
}

TEST_F(CgroupTest, MemoryHogIsOomKilledAndReported) {
  Limits l;
  l.memory_bytes = 32LL << 20;
  absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(Name(), l, layout_);
  if (!cg.ok() && cg.status().code() == absl::StatusCode::kFailedPrecondition) GTEST_SKIP() << cg.status();
  ASSERT_TRUE(cg.ok()) << cg.status();
  Gated hog = StartGated(Hog);
  ASSERT_GT(hog.pid, 0);
  ASSERT_TRUE(cg->AddProcess(hog.pid).ok());
  EXPECT_FALSE(cg->OomKilled());
  const std::optional<int64_t> before = cg->OomKillCount();
  if (cg->kind() == CgroupLayout::kV2) {
    ASSERT_TRUE(before.has_value()) << "memory.events counts oom_kill";
  }
  if (before.has_value()) {
    EXPECT_EQ(*before, 0);
  }
  hog.Release();
  const int ws = WaitChild(hog.pid);
  ASSERT_NE(ws, -1) << "the hog did not end within 30 s";
  EXPECT_TRUE(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL) << "wait status " << ws;
  EXPECT_TRUE(cg->OomKilled());
  if (before.has_value()) {
    EXPECT_EQ(cg->OomKillCount(), 1);
  }
  EXPECT_TRUE(cg->Remove().ok());
}

// The command survives while two of its children are OOM-killed: the count
// tells the two cases apart (the launcher words the message).
TEST_F(CgroupTest, OomKillCountSeesKillsTheCommandSurvived) {
  Limits l;
  l.memory_bytes = 32LL << 20;
  absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(Name(), l, layout_);
  if (!cg.ok() && cg.status().code() == absl::StatusCode::kFailedPrecondition) GTEST_SKIP() << cg.status();
  ASSERT_TRUE(cg.ok()) << cg.status();
  if (!cg->OomKillCount().has_value()) {
    GTEST_SKIP() << "this kernel counts no OOM kills (v1 memory.oom_control without oom_kill, before 4.13)";
  }
  // Exits 0 when both hogs it forked, one after the other, died of SIGKILL.
  Gated command = StartGated([] {
    for (int i = 0; i < 2; ++i) {
      const pid_t h = fork();
      if (h == 0) _exit(Hog());
      int ws = 0;
      if (h < 0 || waitpid(h, &ws, 0) != h || !WIFSIGNALED(ws) || WTERMSIG(ws) != SIGKILL) return 10 + i;
    }
    return 0;
  });
  ASSERT_GT(command.pid, 0);
  ASSERT_TRUE(cg->AddProcess(command.pid).ok());
  command.Release();
  EXPECT_EQ(WaitChild(command.pid), 0) << "the command itself must survive";
  EXPECT_EQ(cg->OomKillCount(), 2);
  EXPECT_TRUE(cg->OomKilled());
  EXPECT_TRUE(cg->Remove().ok());
}

TEST_F(CgroupTest, ForkBombStopsAtPidsMax) {
  Limits l;
  l.pids = 8;
  absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(Name(), l, layout_);
  if (!cg.ok() && cg.status().code() == absl::StatusCode::kFailedPrecondition) GTEST_SKIP() << cg.status();
  ASSERT_TRUE(cg.ok()) << cg.status();
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  // Forks sleepers until fork fails (at most 64); reports the count and
  // the errno, then kills and reaps its sleepers.
  Gated bomb = StartGated([&] {
    std::vector<pid_t> kids;
    int err = 0;
    for (int i = 0; i < 64; ++i) {
      const pid_t k = fork();
      if (k == 0) {
        alarm(30);
        pause();
        _exit(0);
      }
      if (k < 0) {
        err = errno;
        break;
      }
      kids.push_back(k);
    }
    const int msg[2] = {static_cast<int>(kids.size()), err};
    (void)!write(report[1], msg, sizeof msg);
    for (pid_t k : kids) kill(k, SIGKILL);
    for (pid_t k : kids) waitpid(k, nullptr, 0);
    return 0;
  });
  close(report[1]);
  ASSERT_GT(bomb.pid, 0);
  ASSERT_TRUE(cg->AddProcess(bomb.pid).ok());
  bomb.Release();
  struct pollfd pfd = {report[0], POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 20'000), 1) << "no report within 20 s";
  int msg[2] = {-1, -1};
  ASSERT_EQ(read(report[0], msg, sizeof msg), static_cast<ssize_t>(sizeof msg));
  close(report[0]);
  EXPECT_EQ(msg[0], 7) << "pids.max 8 counts the bomb itself";
  EXPECT_EQ(msg[1], EAGAIN) << strerror(msg[1]);
  EXPECT_EQ(WaitChild(bomb.pid), 0);
  EXPECT_TRUE(cg->Remove().ok());
}

TEST_F(CgroupTest, CpuQuotaThrottles) {
  Limits l;
  l.cpus = 0.1;
  absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(Name(), l, layout_);
  if (!cg.ok() && cg.status().code() == absl::StatusCode::kFailedPrecondition) GTEST_SKIP() << cg.status();
  ASSERT_TRUE(cg.ok()) << cg.status();
  // Spins for 400 ms of wall time: several 100 ms periods with a 10 ms quota.
  Gated spin = StartGated([] {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    volatile unsigned long n = 0;
    do {
      for (int i = 0; i < 10000; ++i) n = n + 1;
      clock_gettime(CLOCK_MONOTONIC, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 400);
    return 0;
  });
  ASSERT_GT(spin.pid, 0);
  ASSERT_TRUE(cg->AddProcess(spin.pid).ok());
  spin.Release();
  EXPECT_EQ(WaitChild(spin.pid), 0);
  std::string cpu_dir = cg->Paths().back();  // v1: cpu is planned last
  const std::string stat = Read(cpu_dir + "/cpu.stat");
  long throttled = 0;
  std::istringstream in(stat);
  for (std::string k; in >> k;) {
    long v = 0;
    in >> v;
    if (k == "nr_throttled") throttled = v;
  }
  EXPECT_GT(throttled, 0) << stat;
}

TEST_F(CgroupTest, RemoveKillsWhatIsLeftAndLeavesTheTreesAsTheyWere) {
  const std::set<std::string> before = Snapshot(layout_);
  absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(Name(), Supported(), layout_);
  if (!cg.ok() && cg.status().code() == absl::StatusCode::kFailedPrecondition) GTEST_SKIP() << cg.status();
  ASSERT_TRUE(cg.ok()) << cg.status();
  // A sleeper and its own child (two levels), plus a sub-cgroup made by the
  // sandbox itself: all must go.
  Gated sleeper = StartGated([] {
    if (fork() == 0) {
      alarm(60);
      pause();
      _exit(0);
    }
    pause();
    return 0;
  });
  ASSERT_TRUE(cg->AddProcess(sleeper.pid).ok());
  sleeper.Release();
  ASSERT_EQ(mkdir((cg->Paths()[0] + "/nested").c_str(), 0755), 0);
  EXPECT_NE(Ours(Snapshot(layout_)), Ours(before));
  const std::vector<std::string> paths = cg->Paths();
  ASSERT_TRUE(cg->Remove().ok());
  EXPECT_TRUE(AllGone(paths));
  EXPECT_TRUE(Dead(sleeper.pid));
  EXPECT_TRUE(cg->Remove().ok()) << "idempotent";
  const std::set<std::string> after = Snapshot(layout_);
  EXPECT_EQ(Ours(after), Ours(before));
  // Anything else that changed is another test's doing; show it.
  for (const std::string& p : after) {
    if (before.count(p) == 0) std::cerr << "note: appeared meanwhile (not ours): " << p << "\n";
  }
}

TEST_F(CgroupTest, DestructorRemoves) {
  std::vector<std::string> paths;
  {
    absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(Name(), PidsOnly(5), layout_);
    if (!cg.ok() && cg.status().code() == absl::StatusCode::kFailedPrecondition) GTEST_SKIP() << cg.status();
    ASSERT_TRUE(cg.ok()) << cg.status();
    SandboxCgroup moved = std::move(*cg);
    paths = moved.Paths();
    EXPECT_TRUE(cg->Paths().empty());
  }
  EXPECT_FALSE(paths.empty());
  EXPECT_TRUE(AllGone(paths));
}

TEST_F(CgroupTest, ExistingNameAndRefusedLimit) {
  const std::string name = Name();
  absl::StatusOr<SandboxCgroup> a = SandboxCgroup::Create(name, PidsOnly(5), layout_);
  if (!a.ok() && a.status().code() == absl::StatusCode::kFailedPrecondition) GTEST_SKIP() << a.status();
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<SandboxCgroup> b = SandboxCgroup::Create(name, PidsOnly(5), layout_);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kAlreadyExists) << b.status();
  EXPECT_TRUE(IsDir(a->Paths()[0])) << "the first one is untouched";
  // A pids.max the kernel refuses (the parser would have caught it).
  absl::StatusOr<SandboxCgroup> c = SandboxCgroup::Create(Name(), PidsOnly(1LL << 40), layout_);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("pids.max"));
}

TEST_F(CgroupTest, UnprivilegedCallerGetsPermissionDenied) {
  const std::string name = Name();
  const std::vector<std::string> planned = Planned(name, Limits{});
  const pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(10);
    absl::StatusOr<CgroupLayout> l = sandbox::ReadCgroupLayout();
    if (!l.ok()) _exit(11);
    absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(name, Limits{}, *l);
    if (cg.ok()) _exit(12);
    _exit(cg.status().code() == absl::StatusCode::kPermissionDenied ? 0 : 13);
  }
  const int ws = WaitChild(pid);
  EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << "wait status " << ws;
  EXPECT_TRUE(AllGone(planned));
}

// The v2 code on the empty cgroup2 mount of a hybrid host: no controllers,
// so no limits, but creation, CLONE_INTO_CGROUP, cgroup.kill and removal.
// Inside a cgroup namespace whose cgroupfs is the host's mount (a container
// sharing the host's /sys/fs/cgroup, `unshare --cgroup`), /proc/self/cgroup
// says "/" and the mounts' roots are "/.." paths; ReadCgroupLayout still finds
// our real directory in each hierarchy, by the cgroup.procs that lists us.
TEST_F(CgroupTest, LayoutFoundInsideACgroupNamespace) {
  // A child cgroup of ours in every hierarchy (cpuset's would need cpus and
  // mems first), for a child to enter and make its namespace's root.
  const std::string name = Name();
  std::map<std::string, std::string> expected;  // controller -> its new directory
  std::set<std::string> made;
  for (const auto& [controller, dir] : layout_.own_dirs) {
    if (controller == "cpuset") continue;
    const std::string d = dir + "/" + name;
    if (made.count(d) == 0) {
      ASSERT_EQ(mkdir(d.c_str(), 0755), 0) << d << ": " << strerror(errno);
      made.insert(d);
    }
    expected[controller] = d;
  }
  ASSERT_FALSE(expected.empty());
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(20);
    std::string out;
    for (const std::string& d : made) {
      std::ofstream(d + "/cgroup.procs") << getpid() << std::endl;
    }
    if (unshare(CLONE_NEWCGROUP) != 0) {
      out = absl::StrCat("unshare(CLONE_NEWCGROUP): ", strerror(errno), "\n");
    } else {
      out = "self " + Read("/proc/self/cgroup") + "\n";
      absl::StatusOr<CgroupLayout> l = sandbox::ReadCgroupLayout();
      if (!l.ok()) out += absl::StrCat("error ", l.status().ToString(), "\n");
      for (const auto& [controller, dir] : l.ok() ? l->own_dirs : std::map<std::string, std::string>{}) {
        out += absl::StrCat("dir ", controller, " ", dir, "\n");
      }
    }
    (void)!write(report[1], out.data(), out.size());
    _exit(0);
  }
  close(report[1]);
  std::string got;
  char buf[4096];
  pollfd pfd{report[0], POLLIN, 0};
  while (poll(&pfd, 1, 10'000) == 1) {
    const ssize_t n = read(report[0], buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  close(report[0]);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  for (const std::string& d : made) {
    for (int i = 0; i < 100 && rmdir(d.c_str()) != 0 && errno == EBUSY; ++i) std::this_thread::sleep_for(Ms(10));
  }
  if (got.rfind("unshare", 0) == 0) GTEST_SKIP() << got;
  // The namespace's view: our cgroup is its root in every hierarchy we moved into.
  for (const auto& [controller, dir] : expected) {
    EXPECT_THAT(got, HasSubstr(absl::StrCat("dir ", controller, " ", dir, "\n"))) << got;
  }
  if (expected.count("") != 0) {
    EXPECT_THAT(got, HasSubstr("\n0::/\n")) << got;
  }
  if (expected.count("memory") != 0) {
    EXPECT_THAT(got, HasSubstr(":memory:/\n")) << got;
  }
}

TEST_F(CgroupTest, V2WithoutControllers) {
  if (layout_.v2_root.empty() || layout_.kind == CgroupLayout::kV2 || layout_.own_dirs.count("") == 0) {
    GTEST_SKIP() << "not a hybrid host (the other tests ran on v2)";
  }
  CgroupLayout v2 = layout_;
  v2.kind = CgroupLayout::kV2;
  Limits mem;
  mem.memory_bytes = 32LL << 20;
  absl::StatusOr<SandboxCgroup> refused = SandboxCgroup::Create(Name(), mem, v2);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("'memory' controller"));

  const std::string name = Name();
  absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(name, Limits{}, v2, JanitorExe());
  ASSERT_TRUE(cg.ok()) << cg.status();
  ASSERT_EQ(cg->Paths().size(), 1u);
  ASSERT_GE(cg->v2_dir_fd(), 0);
  // clone3 straight into the cgroup.
  struct clone_args args {};
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(cg->v2_dir_fd());
  const long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) {
    alarm(60);
    pause();
    _exit(0);
  }
  ASSERT_GT(pid, 0) << strerror(errno);
  EXPECT_EQ(Read(cg->Paths()[0] + "/cgroup.procs"), absl::StrCat(pid));
  EXPECT_THAT(Read(absl::StrCat("/proc/", pid, "/cgroup")), HasSubstr("0::/" + name));
  EXPECT_FALSE(cg->OomKilled());
  const pid_t janitor = cg->janitor_pid();
  ASSERT_GT(janitor, 0);
  ASSERT_TRUE(cg->Remove().ok());
  EXPECT_TRUE(Dead(static_cast<pid_t>(pid)));
  EXPECT_FALSE(IsDir(layout_.own_dirs.at("") + "/" + name));
  EXPECT_TRUE(Eventually([&] { return Dead(janitor); })) << "Remove() dismisses and reaps the janitor";
}

// ---- the janitor ---------------------------------------------------------

// What a launcher child reports to the test.
struct Report {
  pid_t janitor = -1;
  pid_t sleeper = -1;
};

enum class KillAt { kAfterAddProcess, kAfterCreate };

// Forks a "launcher" that creates the cgroup (janitor started by Create),
// optionally adds a sleeping child, reports, and waits to be killed.
pid_t StartLauncher(const std::string& name, const Limits& limits, const CgroupLayout& layout, KillAt at,
                    int report_fd) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  alarm(60);
  absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(name, limits, layout, JanitorExe());
  if (!cg.ok()) _exit(20);
  Report r;
  r.janitor = cg->janitor_pid();
  if (at == KillAt::kAfterAddProcess) {
    r.sleeper = fork();
    if (r.sleeper == 0) {
      alarm(60);
      pause();
      _exit(0);
    }
    if (!cg->AddProcess(r.sleeper).ok()) _exit(21);
  }
  (void)!write(report_fd, &r, sizeof r);
  for (;;) pause();
}

class JanitorTest : public CgroupTest,
                    public ::testing::WithParamInterface<KillAt> {};

TEST_P(JanitorTest, LauncherSigkilledLeavesNothing) {
  const std::string name = Name();
  const Limits limits = Supported();
  const std::vector<std::string> planned = Planned(name, limits);
  ASSERT_FALSE(planned.empty());
  const std::set<std::string> before = Snapshot(layout_);
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  const pid_t launcher = StartLauncher(name, limits, layout_, GetParam(), p[1]);
  close(p[1]);
  struct pollfd pfd = {p[0], POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 10'000), 1);
  Report r;
  ASSERT_EQ(read(p[0], &r, sizeof r), static_cast<ssize_t>(sizeof r)) << "launcher failed";
  close(p[0]);
  ASSERT_GT(r.janitor, 0);
  for (const std::string& d : planned) EXPECT_TRUE(IsDir(d)) << d;
  EXPECT_TRUE(Eventually([&] { return Read(absl::StrCat("/proc/", r.janitor, "/comm")) == "minipod-janitor"; }));
  // The janitor is in no sandbox cgroup.
  EXPECT_THAT(Read(absl::StrCat("/proc/", r.janitor, "/cgroup")), ::testing::Not(HasSubstr(name)));

  ASSERT_EQ(kill(launcher, SIGKILL), 0);
  EXPECT_EQ(WaitChild(launcher), SIGKILL);
  EXPECT_TRUE(Eventually([&] { return AllGone(planned); })) << "cgroups left after 10 s";
  if (r.sleeper > 0) {
    EXPECT_TRUE(Eventually([&] { return Dead(r.sleeper); })) << "sleeper alive";
  }
  EXPECT_TRUE(Eventually([&] { return Dead(r.janitor); })) << "janitor still running";
  EXPECT_EQ(Ours(Snapshot(layout_)), Ours(before));
}

INSTANTIATE_TEST_SUITE_P(KillPoints, JanitorTest,
                         ::testing::Values(KillAt::kAfterAddProcess, KillAt::kAfterCreate),
                         [](const ::testing::TestParamInfo<KillAt>& param_info) {
                           return param_info.param == KillAt::kAfterCreate ? "AfterCreate" : "AfterAddProcess";
                         });

TEST_F(CgroupTest, LauncherKilledAnywhereDuringSetupLeavesNothing) {
  // SIGKILL at 0 .. 6 ms after the fork: before Create, inside it (janitor
  // forked, mkdir and writes half done), after it.
  for (int i = 0; i < 25; ++i) {
    const std::string name = Name();
    const std::vector<std::string> planned = Planned(name, Supported());
    const pid_t launcher = fork();
    if (launcher == 0) {
      alarm(60);
      absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(name, Supported(), layout_, JanitorExe());
      if (!cg.ok()) _exit(20);
      if (!cg->AddProcess(getpid()).ok()) _exit(21);  // the launcher itself, as the command would be
      for (;;) pause();
    }
    ASSERT_GT(launcher, 0);
    std::this_thread::sleep_for(std::chrono::microseconds(i * 250));
    kill(launcher, SIGKILL);
    const int ws = WaitChild(launcher);
    EXPECT_TRUE(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL) << "iteration " << i << ": status " << ws;
    EXPECT_TRUE(Eventually([&] { return AllGone(planned); })) << "iteration " << i << ": cgroups left";
    EXPECT_TRUE(Eventually([&] { return Descendants(getpid()).empty(); }))
        << "iteration " << i << ": the janitor did not exit";
  }
}

TEST_F(CgroupTest, NormalExitDismissesTheJanitor) {
  const std::string name = Name();
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  const pid_t launcher = fork();
  if (launcher == 0) {
    alarm(60);
    absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(name, Supported(), layout_, JanitorExe());
    if (!cg.ok()) _exit(20);
    const pid_t janitor = cg->janitor_pid();
    (void)!write(p[1], &janitor, sizeof janitor);
    if (!cg->Remove().ok()) _exit(21);
    // Remove() reaped it: no longer our child.
    _exit(waitpid(janitor, nullptr, WNOHANG) == -1 && errno == ECHILD ? 0 : 22);
  }
  close(p[1]);
  pid_t janitor = -1;
  struct pollfd pfd = {p[0], POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 10'000), 1);
  ASSERT_EQ(read(p[0], &janitor, sizeof janitor), static_cast<ssize_t>(sizeof janitor));
  close(p[0]);
  EXPECT_EQ(WaitChild(launcher), 0);
  EXPECT_TRUE(Dead(janitor));
  EXPECT_TRUE(AllGone(Planned(name, Supported())));
}

// ---- the device policy ---------------------------------------------------

// Device nodes a process in the sandbox cgroup opens: Docker's list allows
// the first two, refuses the rest (a block device among them).
struct DeviceProbe {
  const char* path;
  int flags;
  bool allowed;
};
constexpr DeviceProbe kDeviceProbes[] = {
    {"/dev/null", O_RDWR, true},          {"/dev/random", O_RDONLY, true},
    {"/dev/kmsg", O_WRONLY, false},       {"/dev/kmsg", O_RDONLY, false},
    {"/dev/mem", O_RDONLY, false},        {"/dev/loop-control", O_RDWR, false},
    {"/dev/loop0", O_RDONLY, false},
};
constexpr size_t kNumProbes = sizeof kDeviceProbes / sizeof kDeviceProbes[0];
struct DeviceOpens {
  int err[kNumProbes];  // 0 or the errno of each open
};

DeviceOpens OpenDevices() {
  DeviceOpens r;
  for (size_t i = 0; i < kNumProbes; ++i) {
    const int fd = open(kDeviceProbes[i].path, kDeviceProbes[i].flags | O_CLOEXEC | O_NONBLOCK);
    r.err[i] = fd < 0 ? errno : 0;
    if (fd >= 0) close(fd);
  }
  return r;
}

// A child moved into cg tries the opens; their results (all -1 on a
// failure to start or report).
DeviceOpens OpensInside(SandboxCgroup& cg) {
  DeviceOpens r;
  for (int& e : r.err) e = -1;
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return r;
  Gated child = StartGated([&] {
    const DeviceOpens mine = OpenDevices();
    (void)!write(report[1], &mine, sizeof mine);
    return 0;
  });
  close(report[1]);
  if (child.pid > 0 && cg.AddProcess(child.pid).ok()) {
    child.Release();
    struct pollfd pfd = {report[0], POLLIN, 0};
    if (poll(&pfd, 1, 10'000) == 1) (void)!read(report[0], &r, sizeof r);
  }
  if (child.pid > 0) {
    kill(child.pid, SIGKILL);
    WaitChild(child.pid);
  }
  close(report[0]);
  return r;
}

// Checks every probe this process can open itself (the others prove
// nothing: a container, a host without /dev/mem); "" or why the test
// cannot run (no allowed or no refused device to try).
std::string ExpectDevicePolicy(const DeviceOpens& here, const DeviceOpens& inside) {
  int allowed = 0, refused = 0;
  for (size_t i = 0; i < kNumProbes; ++i) {
    const DeviceProbe& d = kDeviceProbes[i];
    if (here.err[i] != 0) continue;
    (d.allowed ? allowed : refused)++;
    EXPECT_EQ(inside.err[i], d.allowed ? 0 : EPERM)
        << d.path << " (flags " << d.flags << "): " << strerror(inside.err[i]);
  }
  if (allowed == 0 || refused == 0) {
    return absl::StrCat("this process itself can open ", allowed, " allowed and ", refused,
                        " refused devices of the probe list (a container, or a host without them)");
  }
  return "";
}

TEST_F(CgroupTest, DevicePolicyV1) {
  if (layout_.own_dirs.count("devices") == 0) {
    GTEST_SKIP() << "no v1 devices hierarchy holding our cgroup (pure v2, or not mounted here)";
  }
  CgroupLayout v1 = layout_;
  v1.kind = CgroupLayout::kV1;
  absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(Name(), sandbox::CgroupRequest(Limits{}, true), v1);
  ASSERT_TRUE(cg.ok()) << cg.status();
  ASSERT_EQ(cg->Paths().size(), 1u);
  const std::string list = Read(cg->Paths()[0] + "/devices.list");
  EXPECT_THAT(list, HasSubstr("c 1:3 rwm"));
  EXPECT_THAT(list, HasSubstr("c 136:* rwm"));
  EXPECT_THAT(list, ::testing::Not(HasSubstr("a *:* rwm")));
  const std::string why = ExpectDevicePolicy(OpenDevices(), OpensInside(*cg));
  EXPECT_TRUE(cg->Remove().ok());
  if (!why.empty()) GTEST_SKIP() << why;
}

// The BPF device program on a cgroup2 directory: the hierarchy needs no
// controller for it, so the empty cgroup2 of a hybrid host serves too.
TEST_F(CgroupTest, DevicePolicyV2) {
  if (layout_.v2_root.empty() || layout_.own_dirs.count("") == 0) {
    GTEST_SKIP() << "no cgroup2 mount holding our cgroup";
  }
  CgroupLayout v2 = layout_;
  v2.kind = CgroupLayout::kV2;
  absl::StatusOr<SandboxCgroup> cg =
      SandboxCgroup::Create(Name(), sandbox::CgroupRequest(Limits{}, true), v2, JanitorExe());
  if (!cg.ok() && (cg.status().code() == absl::StatusCode::kPermissionDenied ||
                   cg.status().code() == absl::StatusCode::kUnimplemented)) {
    GTEST_SKIP() << "no usable cgroup2 directory or no bpf(2) here: " << cg.status();
  }
  ASSERT_TRUE(cg.ok()) << cg.status();
  const std::string why = ExpectDevicePolicy(OpenDevices(), OpensInside(*cg));
  EXPECT_TRUE(cg->Remove().ok());
  if (!why.empty()) GTEST_SKIP() << why;
  // In a cgroup without the policy a process opens what this one opens.
  absl::StatusOr<SandboxCgroup> plain = SandboxCgroup::Create(Name(), Limits{}, v2);
  ASSERT_TRUE(plain.ok()) << plain.status();
  const DeviceOpens here = OpenDevices(), inside = OpensInside(*plain);
  for (size_t i = 0; i < kNumProbes; ++i) EXPECT_EQ(inside.err[i], here.err[i]) << kDeviceProbes[i].path;
  EXPECT_TRUE(plain->Remove().ok());
}

// ---- the janitor's entry point -------------------------------------------

// Runs `minipod __cgroup-janitor <args>` with fd 3 as given (-1: closed);
// its exit status, or -1.
int RunJanitor(const std::vector<std::string>& args, int fd3) {
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(30);
    if (fd3 >= 0) {
      // dup2 onto itself would keep O_CLOEXEC.
      if (fd3 == 3 ? fcntl(3, F_SETFD, 0) != 0 : dup2(fd3, 3) != 3) _exit(120);
    } else {
      close(3);
    }
    syscall(SYS_close_range, 4U, ~0U, 0U);
    std::vector<std::string> all = {"minipod", "__cgroup-janitor"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(JanitorExe(), argv.data());
    _exit(121);
  }
  const int ws = WaitChild(pid);
  return ws >= 0 && WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

TEST_F(CgroupTest, JanitorEntryPointRemovesOnlyCgroups) {
  // Not started by a launcher (fd 3 is no socket): refuses to do anything.
  EXPECT_EQ(RunJanitor({"-", "/tmp"}, -1), 2);
  // With a pipe that closes without "done", it removes what it was given,
  // but only below a cgroup file system.
  char tmp[] = "/tmp/minipod-janitor-XXXXXX";
  ASSERT_NE(mkdtemp(tmp), nullptr);
  const std::string not_cgroup = std::string(tmp) + "/sub";
  ASSERT_EQ(mkdir(not_cgroup.c_str(), 0755), 0);
  const std::vector<std::string> planned = Planned(Name(), Limits{});
  ASSERT_EQ(planned.size(), 1u);
  ASSERT_EQ(mkdir(planned[0].c_str(), 0755), 0);
  int p[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p), 0);
  close(p[1]);
  EXPECT_EQ(RunJanitor({"-", not_cgroup, planned[0]}, p[0]), 0);
  close(p[0]);
  EXPECT_TRUE(IsDir(not_cgroup)) << "a directory outside cgroupfs was removed";
  EXPECT_FALSE(IsDir(planned[0]));
  rmdir(not_cgroup.c_str());
  rmdir(tmp);
}

// A janitor that cannot be exec'd: its exec runs alongside whatever the
// caller does after Create, and WaitJanitorStarted (which the launcher
// calls before the command may run) names the failure; the cgroup then
// goes with the object and leaves nothing.
TEST_F(CgroupTest, JanitorThatCannotStartIsAnError) {
  const std::string name = Name();
  const std::vector<std::string> planned = Planned(name, Limits{});
  ASSERT_FALSE(planned.empty());
  {
    absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(name, Limits{}, layout_, "/dev/null");
    ASSERT_TRUE(cg.ok()) << cg.status();
    const absl::Status started = cg->WaitJanitorStarted();
    ASSERT_FALSE(started.ok());
    EXPECT_THAT(std::string(started.message()), HasSubstr("janitor: execveat(/dev/null)"));
  }
  EXPECT_TRUE(AllGone(planned));
  EXPECT_TRUE(Eventually([&] { return Descendants(getpid()).empty(); })) << "the failed child was not reaped";
}

// A janitor killed by someone else: Remove() still succeeds, and telling
// the dead janitor "done" does not kill the caller with SIGPIPE.
TEST_F(CgroupTest, RemoveAfterTheJanitorDied) {
  const std::string name = Name();
  const pid_t launcher = fork();
  if (launcher == 0) {
    alarm(60);
    signal(SIGPIPE, SIG_DFL);
    absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(name, Limits{}, layout_, JanitorExe());
    if (!cg.ok()) _exit(20);
    const pid_t janitor = cg->janitor_pid();
    if (janitor <= 0 || kill(janitor, SIGKILL) != 0 || waitpid(janitor, nullptr, 0) != janitor) _exit(21);
    _exit(cg->Remove().ok() ? 0 : 22);
  }
  ASSERT_GT(launcher, 0);
  const int ws = WaitChild(launcher);
  EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << "wait status " << ws;
  EXPECT_TRUE(AllGone(Planned(name, Limits{})));
}

}  // namespace
}  // namespace itest
