// `minipod run` end to end, as root (and once as nobody): the probe runs
// inside a root file system built by `minipod rootfs build` and reports
// what it sees and what it may do. Every run is bounded by timeout(1);
// no mount or cgroup may appear after a test that was not there before.
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/statusor.h"
#include "sandbox/cgroup_layout.h"
#include "tests/integration/cgroup_probe.h"
#include "tests/integration/harness.h"
#include "tests/testing/probes.h"

namespace itest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

constexpr uint64_t Cap(int cap) { return uint64_t{1} << cap; }
// Docker's default capability set, what `minipod run` gives as root.
constexpr uint64_t kDockerDefault = 0xa80425fb;

// A capability set as /proc/<pid>/status prints it.
std::string CapLine(const char* field, uint64_t mask) {
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(mask));
  return std::string(field) + ":\t" + hex;
}

// Every minipod-* cgroup directory in every hierarchy mounted below
// /sys/fs/cgroup, each once (the walk does not follow the cpu -> cpu,cpuacct
// links of some hosts).
std::multiset<std::string> Cgroups() {
  std::multiset<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", fs::directory_options::skip_permission_denied,
                                                  ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory() && !it->is_symlink() && it->path().filename().string().rfind("minipod-", 0) == 0) {
      out.insert(it->path().string());
    }
  }
  return out;
}

class RunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    ASSERT_EQ(::chmod(tmp_->path().c_str(), 0755), 0);
    root_ = tmp_->Join("root");
    const ShResult b = Sh("PATH=/usr/sbin:/usr/bin:/sbin:/bin " + Minipod() + " rootfs build --nss -o " + root_ +
                          " sh sleep true false cat " + Probe());
    ASSERT_EQ(b.status, 0) << b.out;
    std::ofstream(root_ + "/etc/not-executable") << "data\n";
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  void SetUp() override {
    // As root, a run makes a network namespace and brings its loopback up
    // (CAP_NET_ADMIN) and mounts (CAP_SYS_ADMIN): a container may withhold
    // them from us.
    if (const auto p = testing_util::EffectiveHas(Cap(CAP_SYS_ADMIN) | Cap(CAP_NET_ADMIN)); !p) {
      GTEST_SKIP() << p.detail << " to run sandboxes as root";
    }
    mounts_before_ = MountPoints();
    cgroups_before_ = Cgroups();
    recorded_ = true;
  }
  void TearDown() override {
    if (!recorded_) return;  // skipped before anything ran
    // Nothing a run made may stay behind: no mount, no cgroup.
    EXPECT_EQ(Appeared(mounts_before_, MountPoints()), "") << "mounts left behind";
    for (int i = 0; i < 100 && !Appeared(cgroups_before_, Cgroups()).empty(); ++i) std::this_thread::sleep_for(Ms(50));
    EXPECT_EQ(Appeared(cgroups_before_, Cgroups()), "") << "cgroups left behind";
  }

  static ShResult Run(const std::string& options, const std::string& probe_args) {
    return Sh(Minipod() + " run --rootfs " + root_ + " " + options + " -- " + Probe() + " " + probe_args);
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
  std::multiset<std::string> mounts_before_, cgroups_before_;
  bool recorded_ = false;
};
TempDir* RunTest::tmp_ = nullptr;
std::string RunTest::root_;

TEST_F(RunTest, EveryNamespaceIsNewButTheUserOne) {
  const ShResult r = Run("", "ns");
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* t : {"mnt", "pid", "ipc", "uts", "net", "cgroup"}) {
    char host[128] = "";
    const ssize_t n = readlink((std::string("/proc/self/ns/") + t).c_str(), host, sizeof host - 1);
    ASSERT_GT(n, 0);
    EXPECT_NE(Value(r.out, std::string("ns ") + t), host) << t;
  }
  char user[128] = "";
  ASSERT_GT(readlink("/proc/self/ns/user", user, sizeof user - 1), 0);
  EXPECT_EQ(Value(r.out, "ns user"), user) << "as root, no user namespace";
}

TEST_F(RunTest, InitIsPid1UnlessNoInit) {
  ShResult r = Run("--hostname box-7 --workdir /etc", "self");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Value(r.out, "pid1"), "init") << "minipod-init, bound at /dev/init";
  EXPECT_EQ(Value(r.out, "pid"), "2");
  EXPECT_EQ(Value(r.out, "hostname"), "box-7");
  EXPECT_EQ(Value(r.out, "cwd"), "/etc");
  EXPECT_EQ(Value(r.out, "uid"), "0");
  r = Run("--no-init --user 1000:100", "self");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Value(r.out, "pid"), "1");
  EXPECT_EQ(Value(r.out, "pid1"), "probe_sandbox");
  EXPECT_EQ(Value(r.out, "uid"), "1000");
  EXPECT_EQ(Value(r.out, "gid"), "100");
  char host[256] = "";
  gethostname(host, sizeof host);
  EXPECT_NE(std::string(host), "box-7");
}

TEST_F(RunTest, TheKernelSurfaceIsLockedDown) {
  const ShResult r = Run("", "escape " + std::to_string(getpid()));
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* op : {"mknod", "mount", "umount", "init_module", "finit_module", "reboot", "keyctl", "ptrace",
                         "raw_socket", "packet_socket", "tiocsti", "unshare_user", "sethostname"}) {
    EXPECT_EQ(Value(r.out, op), "EPERM") << op;
  }
  EXPECT_EQ(Value(r.out, "kill"), "ESRCH") << "host processes are invisible";
  EXPECT_EQ(Value(r.out, "proc_sys_write"), "EROFS");
  // Kernels without magic SysRq or /proc/kcore (this VM's) have neither file.
  EXPECT_EQ(Value(r.out, "sysrq_trigger"), fs::exists("/proc/sysrq-trigger") ? "EROFS" : "ENOENT");
  EXPECT_EQ(Value(r.out, "sys_write"), "EROFS");
  EXPECT_EQ(Value(r.out, "kcore_bytes"), fs::exists("/proc/kcore") ? "ok" : "ENOENT") << "masked: reads as empty";
  // Masks of files the kernel lacks are optional: without CONFIG_KEYS there
  // is no /proc/keys to mask, inside or out.
  const testing_util::Probe has_keys = testing_util::HasKeys();
  EXPECT_EQ(Value(r.out, "keys_bytes"), has_keys ? "ok" : "ENOENT") << has_keys.detail;
  const ShResult keys = Run("", "read /proc/keys");
  EXPECT_EQ(Value(keys.out, "read"), has_keys ? "0" : "ENOENT") << "masked with /dev/null; " << has_keys.detail;
}

TEST_F(RunTest, CapabilitiesNoNewPrivsAndSeccomp) {
  // Docker's default set, less what we do not hold ourselves (inside a
  // container): that part is left out with a warning.
  const uint64_t held = testing_util::CapSet("CapPrm");
  const uint64_t given = kDockerDefault & held;
  ShResult r = Run("", "caps");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr(CapLine("CapBnd", given)));
  EXPECT_THAT(r.out, HasSubstr(CapLine("CapEff", given)));
  EXPECT_THAT(r.out, HasSubstr("CapAmb:\t0000000000000000"));
  EXPECT_THAT(r.out, HasSubstr("NoNewPrivs:\t1"));
  EXPECT_THAT(r.out, HasSubstr("Seccomp:\t2"));
  if (given == kDockerDefault) {
    EXPECT_THAT(r.out, Not(HasSubstr("warning")));
  } else {
    EXPECT_THAT(r.out, HasSubstr("left out of the default set"));
  }
  r = Run("--user 1000", "caps");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("CapEff:\t0000000000000000"));
  EXPECT_THAT(r.out, HasSubstr(CapLine("CapBnd", given)));
  if (const auto p = testing_util::EffectiveHas(Cap(CAP_NET_BIND_SERVICE)); !p) {
    GTEST_SKIP() << p.detail << " to grant it with --cap-add";
  }
  r = Run("--cap-drop ALL --cap-add NET_BIND_SERVICE --seccomp unconfined", "caps");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr(CapLine("CapBnd", Cap(CAP_NET_BIND_SERVICE))));
  EXPECT_THAT(r.out, HasSubstr("Seccomp:\t0"));
}

// Inside a container whose bounding set lacks one of Docker's defaults
// (here NET_RAW, dropped by setpriv for minipod alone), a plain run works
// without it and says so; asking for it by name is refused.
TEST_F(RunTest, DefaultCapabilitiesNotHeldAreLeftOut) {
  if (const auto p = testing_util::HasProgram("setpriv"); !p) GTEST_SKIP() << p.detail;
  if (const auto p = testing_util::EffectiveHas(Cap(CAP_SETPCAP)); !p) {
    GTEST_SKIP() << p.detail << " to reduce the bounding set";
  }
  const std::string reduced = "setpriv --bounding-set -net_raw -- ";
  const uint64_t given = kDockerDefault & testing_util::CapSet("CapPrm") & ~Cap(CAP_NET_RAW);
  ShResult r = Sh(reduced + Minipod() + " run --rootfs " + root_ + " -- " + Probe() + " caps");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr(CapLine("CapBnd", given)));
  EXPECT_THAT(r.out, HasSubstr(CapLine("CapEff", given)));
  EXPECT_THAT(r.out, HasSubstr("warning: CAP_NET_RAW"));
  EXPECT_THAT(r.out, HasSubstr("left out of the default set"));
  r = Sh(reduced + Minipod() + " run --rootfs " + root_ + " --cap-add ALL -- " + Probe() + " caps");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr(CapLine("CapBnd", testing_util::CapSet("CapPrm") & ~Cap(CAP_NET_RAW))))
      << "ALL: whatever minipod holds";
  r = Sh(reduced + Minipod() + " run --rootfs " + root_ + " --cap-add net_raw -- true");
  EXPECT_EQ(r.status, 125) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--cap-add: CAP_NET_RAW: not held by minipod itself"));
}

TEST_F(RunTest, OnlyStdioIsInherited) {
  const ShResult r = Sh("exec 7</etc/hostname 9>/dev/null; " + Minipod() + " run --rootfs " + root_ + " -- " +
                        Probe() + " fds");
  ASSERT_EQ(r.status, 0) << r.out;
  std::set<std::string> fds;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("fd ", 0) == 0) fds.insert(line.substr(3, line.find(' ', 3) - 3));
  }
  EXPECT_EQ(fds, (std::set<std::string>{"0", "1", "2"})) << r.out;
}

TEST_F(RunTest, OverlayWritesVanishReadOnlyAndBindsHold) {
  ShResult r = Run("", "write /etc/new-file");
  EXPECT_EQ(Value(r.out, "write"), "ok") << r.out;
  EXPECT_FALSE(fs::exists(root_ + "/etc/new-file")) << "the overlay's upper layer is thrown away";
  r = Run("--read-only", "write /etc/new-file");
  EXPECT_EQ(Value(r.out, "write"), "EROFS");
  const std::string keep = tmp_->Join("upper");
  r = Run("--upper " + keep, "write /etc/kept");
  EXPECT_EQ(Value(r.out, "write"), "ok");
  EXPECT_TRUE(fs::exists(keep + "/upper/etc/kept"));
  fs::remove_all(keep);

  const std::string data = tmp_->Join("data");
  fs::create_directories(data);
  std::ofstream(data + "/hello") << "hi\n";
  r = Run("--bind " + data + ":/data", "write /data/x");
  EXPECT_EQ(Value(r.out, "write"), "EROFS") << "read-only unless :rw";
  r = Run("--bind " + data + ":/data", "read /data/hello");
  EXPECT_EQ(Value(r.out, "read"), "3");
  r = Run("--bind " + data + ":/srv/data:rw --tmpfs /scratch", "write /srv/data/x");
  EXPECT_EQ(Value(r.out, "write"), "ok");
  EXPECT_TRUE(fs::exists(data + "/x"));
  // Nothing of the host outside the root is reachable.
  r = Run("", "read " + data + "/hello");
  EXPECT_EQ(Value(r.out, "read"), "ENOENT");
  fs::remove_all(data);
}

TEST_F(RunTest, LoopbackWorksAndHostListenersAreUnreachable) {
  const int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(l, 8), 0);
  ASSERT_EQ(getsockname(l, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string port = std::to_string(ntohs(a.sin_port));
  ShResult r = Run("", "loopback");
  EXPECT_EQ(Value(r.out, "loopback"), "ok") << r.out;
  r = Run("", "connect " + port);
  EXPECT_EQ(Value(r.out, "connect"), "ECONNREFUSED");
  r = Run("--net host", "connect " + port);
  EXPECT_EQ(Value(r.out, "connect"), "ok");
  close(l);
}

TEST_F(RunTest, PidsAndMemoryLimitsHoldAndOomIsReported) {
  if (const auto p = CgroupLimitsUsable(); !p) GTEST_SKIP() << p.detail;
  ShResult r = Run("--pids 20", "forkbomb");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string forked = Value(r.out, "forked");
  EXPECT_THAT(forked, HasSubstr("EAGAIN"));
  EXPECT_LT(std::stoi(forked), 20);

  const std::string status = tmp_->Join("status.json");
  r = Sh(Minipod() + " run --rootfs " + root_ + " --memory 32m --status-fd 3 -- " + Probe() + " hog 512 3>" + status);
  EXPECT_EQ(r.status, 137) << r.out;
  EXPECT_THAT(r.out, HasSubstr("OOM killer"));
  EXPECT_THAT(r.out, Not(HasSubstr("hogged")));
  EXPECT_THAT(r.out, HasSubstr("the command was killed by the kernel's OOM killer"));
  const std::string json = ReadAll(status);
  EXPECT_THAT(json, HasSubstr("\"event\":\"start\""));
  EXPECT_THAT(json, HasSubstr("\"cgroup\":\"/sys/fs/cgroup/"));
  EXPECT_THAT(json, HasSubstr("\"exit_code\":137"));
  EXPECT_THAT(json, HasSubstr("\"oom\":true"));
  // One of its processes killed, the command itself alive: said so.
  r = Sh(Minipod() + " run --rootfs " + root_ + " --memory 32m -- sh -c \"" + Probe() + " hog 512; echo survived\"");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("survived"));
  EXPECT_THAT(r.out, HasSubstr("1 of the command's processes was killed by the kernel's OOM killer"));
  EXPECT_THAT(r.out, Not(HasSubstr("the command was killed")));
}

// Inside a cgroup namespace whose cgroupfs is the host's mount (a container
// sharing the host's /sys/fs/cgroup, `unshare --cgroup`) the launcher still
// finds its cgroup and the limits hold. Our cgroup gets a child in every
// hierarchy (but cpuset, which would need cpus and mems) for the launcher to
// enter first, so the namespace's root is below every mount's root.
TEST_F(RunTest, LimitsHoldInsideACgroupNamespace) {
  if (const auto p = CgroupLimitsUsable(); !p) GTEST_SKIP() << p.detail;
  if (const auto p = testing_util::HasProgram("unshare"); !p) GTEST_SKIP() << p.detail;
  absl::StatusOr<sandbox::CgroupLayout> l = sandbox::ReadCgroupLayout();
  ASSERT_TRUE(l.ok()) << l.status();
  std::set<std::string> made;
  const auto remove_made = [&made] {
    for (const std::string& d : made) {
      for (int i = 0; i < 100 && rmdir(d.c_str()) != 0 && errno == EBUSY; ++i) std::this_thread::sleep_for(Ms(50));
      EXPECT_FALSE(fs::exists(d)) << d;
    }
  };
  std::string enter;
  for (const auto& [controller, dir] : l->own_dirs) {
    if (controller == "cpuset") continue;
    const std::string d = dir + "/run-test-cgns-" + std::to_string(getpid());
    if (made.count(d) != 0) continue;
    if (mkdir(d.c_str(), 0755) != 0) {
      const int err = errno;
      remove_made();
      FAIL() << d << ": " << strerror(err);
    }
    made.insert(d);
    enter += "echo $$ > " + d + "/cgroup.procs || exit 99; ";
  }
  const ShResult r = Sh(enter + "exec unshare --cgroup -- " + Minipod() + " run --rootfs " + root_ +
                        " --pids 20 --memory 32m -- " + Probe() + " forkbomb");
  remove_made();
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string forked = Value(r.out, "forked");
  EXPECT_THAT(forked, HasSubstr("EAGAIN"));
  EXPECT_LT(std::stoi(forked), 20);
}

TEST_F(RunTest, ExitStatusesFollowTheContainerConvention) {
  EXPECT_EQ(Sh(Minipod() + " run --rootfs " + root_ + " -- true").status, 0);
  EXPECT_EQ(Sh(Minipod() + " run --rootfs " + root_ + " -- false").status, 1);
  EXPECT_EQ(Sh(Minipod() + " run --rootfs " + root_ + " -- sh -c \"kill -TERM \\$\\$\"").status, 143);
  for (const char* init : {"", "--no-init "}) {
    ShResult r = Sh(Minipod() + " run --rootfs " + root_ + " " + init + "-- no-such-command");
    EXPECT_EQ(r.status, 127) << init << r.out;
    r = Sh(Minipod() + " run --rootfs " + root_ + " " + init + "-- /etc/not-executable");
    EXPECT_EQ(r.status, 126) << init << r.out;
  }
  const struct {
    std::string args, message;
  } bad[] = {
      {"--rootfs /nonexistent -- true", "--rootfs /nonexistent: No such file or directory"},
      {"--rootfs " + root_ + " --cap-add FROB -- true", "unknown capability 'FROB'"},
      {"--rootfs " + root_ + " --memory lots -- true", "--memory 'lots'"},
      {"--rootfs " + root_ + " --pids 0 -- true", "--pids"},
      {"--rootfs " + root_ + " --seccomp /nonexistent.json -- true", "/nonexistent.json"},
      {"--rootfs " + root_ + " --bind /nonexistent:/x -- true", "--bind /nonexistent"},
      {"--rootfs " + root_ + " --workdir /nonexistent -- true", "working directory /nonexistent"},
      {"--rootfs " + root_ + " --frob -- true", "unknown option '--frob'"},
  };
  for (const auto& b : bad) {
    const ShResult r = Sh(Minipod() + " run " + b.args);
    EXPECT_EQ(r.status, 125) << b.args << ": " << r.out;
    const std::string errors = WithoutCapWarnings(r.out);
    EXPECT_THAT(errors.substr(0, errors.find('\n')), HasSubstr(b.message)) << b.args;
  }
}

TEST_F(RunTest, SignalsToTheLauncherReachTheCommand) {
  const std::string out = tmp_->Join("sig.out");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(Minipod().c_str(), "minipod", "run", "--rootfs", root_.c_str(), "--", Probe().c_str(), "sleep", "20",
          nullptr);
    _exit(99);
  }
  std::this_thread::sleep_for(Ms(700));
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int ws = 0;
  for (int i = 0; i < 100 && waitpid(pid, &ws, WNOHANG) == 0; ++i) std::this_thread::sleep_for(Ms(100));
  ASSERT_TRUE(WIFEXITED(ws)) << ReadAll(out);
  EXPECT_EQ(WEXITSTATUS(ws), 143) << ReadAll(out);
}

// SIGKILL the launcher at several points of its setup and run: the
// command dies with it and its cgroup goes (the janitor), and no mount is
// left (checked in TearDown). With --user and no limits nothing but the
// parent-death signal kills the command (the kernel clears it when the ids
// change).
TEST_F(RunTest, KillingTheLauncherAnywhereLeavesNothing) {
  const std::vector<std::vector<std::string>> option_sets = {
      {"--memory", "64m", "--pids", "50"}, {"--user", "1000"}, {"--user", "1000", "--no-init"}};
  int set = 0;
  for (const std::vector<std::string>& options : option_sets) {
    ++set;
    for (int delay_ms : {0, 1, 3, 10, 30, 300}) {
      const std::string token = "42" + std::to_string(set) + std::to_string(delay_ms);
      std::vector<std::string> args = {"minipod", "run", "--rootfs", root_};
      args.insert(args.end(), options.begin(), options.end());
      for (const std::string& a : {std::string("--"), Probe(), std::string("sleep"), token}) args.push_back(a);
      pid_t pid = fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        const int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        std::vector<char*> argv;
        for (std::string& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(Minipod().c_str(), argv.data());
        _exit(99);
      }
      std::this_thread::sleep_for(Ms(delay_ms));
      kill(pid, SIGKILL);
      int ws;
      waitpid(pid, &ws, 0);
      // The probe ("sleep <token>") must be gone within a bounded time.
      bool gone = false;
      for (int i = 0; i < 100 && !gone; ++i) {
        gone = true;
        for (const auto& e : fs::directory_iterator("/proc")) {
          const std::string cmdline = ReadAll(e.path().string() + "/cmdline");
          if (cmdline.find(std::string("sleep") + '\0' + token) != std::string::npos) gone = false;
        }
        if (!gone) std::this_thread::sleep_for(Ms(50));
      }
      EXPECT_TRUE(gone) << options[0] << " " << options[1] << ", after " << delay_ms << " ms";
      for (int i = 0; i < 100 && !Appeared(cgroups_before_, Cgroups()).empty(); ++i) {
        std::this_thread::sleep_for(Ms(50));
      }
      EXPECT_EQ(Appeared(cgroups_before_, Cgroups()), "") << "after " << delay_ms << " ms";
      KillAllDescendants();  // what survived a failure, and janitors that are still finishing
    }
  }
}

// A launcher started by the test: its own process group (as a shell's job),
// output to a file, optionally an fd 3.
struct Launched {
  pid_t pid = -1;
  std::string out_path;
};

Launched Launch(const std::string& out_path, std::vector<std::string> args, int fd3 = -1) {
  Launched l;
  l.out_path = out_path;
  l.pid = fork();
  if (l.pid == 0) {
    setpgid(0, 0);
    const int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd3 >= 0) dup2(fd3, 3);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(Minipod().c_str(), argv.data());
    _exit(99);
  }
  return l;
}

// waitpid with WUNTRACED for at most timeout: the status, or -1.
int WaitStatus(pid_t pid, Ms timeout, int flags = 0) {
  const auto deadline = Clock::now() + timeout;
  int ws = 0;
  while (Clock::now() < deadline) {
    const pid_t r = waitpid(pid, &ws, WNOHANG | flags);
    if (r == pid) return ws;
    if (r < 0) return -1;
    std::this_thread::sleep_for(Ms(10));
  }
  return -1;
}

// Every process below pid (the launcher) in state T, within timeout.
bool AllStopped(pid_t pid, Ms timeout, std::string* states) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::string s;
    bool all = true;
    const std::vector<pid_t> below = Descendants(pid);
    for (pid_t p : below) {
      const char st = ProcState(p);
      s += std::to_string(p) + ":" + st + " ";
      all = all && (st == 'T' || st == 't');
    }
    *states = s;
    if (all && !below.empty()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(Ms(20));
  }
}

// Ctrl-C reaches the whole command, as on a terminal: the shell's sleep
// too, not only the shell.
TEST_F(RunTest, InterruptReachesTheWholeCommand) {
  for (const char* init : {"", "--no-init"}) {
    std::vector<std::string> args = {"minipod", "run", "--rootfs", root_};
    if (*init != '\0') args.push_back(init);
    for (const char* a : {"--", "sh", "-c", "sleep 10; echo done"}) args.push_back(a);
    const Launched l = Launch(tmp_->Join("int.out"), args);
    ASSERT_GT(l.pid, 0);
    std::this_thread::sleep_for(Ms(700));
    const auto sent = Clock::now();
    ASSERT_EQ(kill(l.pid, SIGINT), 0);
    const int ws = WaitStatus(l.pid, Ms(5000));
    const auto took = std::chrono::duration_cast<Ms>(Clock::now() - sent);
    if (ws == -1) {
      kill(l.pid, SIGKILL);
      waitpid(l.pid, nullptr, 0);
    }
    KillAllDescendants();
    ASSERT_NE(ws, -1) << init << ": still running 5 s after SIGINT";
    EXPECT_LT(took.count(), 3000) << init;
    ASSERT_TRUE(WIFEXITED(ws)) << init;
    if (*init == '\0') {
      EXPECT_EQ(WEXITSTATUS(ws), 130) << ReadAll(l.out_path);
      EXPECT_THAT(ReadAll(l.out_path), Not(HasSubstr("done")));
    }
    // With --no-init sh is PID 1 of its namespace: the kernel keeps SIGINT
    // from it (no handler), but its sleep gets it and the script goes on.
  }
}

// Ctrl-Z stops every process of the command and then the launcher; SIGCONT
// to the launcher (the shell's fg) resumes both.
TEST_F(RunTest, StopAndContinueActOnTheWholeCommand) {
  for (const char* init : {"", "--no-init"}) {
    std::vector<std::string> args = {"minipod", "run", "--rootfs", root_};
    if (*init != '\0') args.push_back(init);
    for (const char* a : {"--", "sh", "-c", "sleep 1; echo done"}) args.push_back(a);
    const Launched l = Launch(tmp_->Join("tstp.out"), args);
    ASSERT_GT(l.pid, 0);
    std::this_thread::sleep_for(Ms(500));
    ASSERT_EQ(kill(l.pid, SIGTSTP), 0);
    const int stopped = WaitStatus(l.pid, Ms(5000), WUNTRACED);
    std::string states;
    const bool all = AllStopped(l.pid, Ms(2000), &states);
    EXPECT_TRUE(stopped != -1 && WIFSTOPPED(stopped)) << init << ": the launcher did not stop";
    EXPECT_TRUE(all) << init << ": " << states;
    std::this_thread::sleep_for(Ms(1500));  // past the sleep: stopped, it did not finish
    EXPECT_THAT(ReadAll(l.out_path), Not(HasSubstr("done"))) << init;
    ASSERT_EQ(kill(l.pid, SIGCONT), 0);
    const int ws = WaitStatus(l.pid, Ms(5000));
    if (ws == -1) {
      kill(l.pid, SIGKILL);
      waitpid(l.pid, nullptr, 0);
    }
    KillAllDescendants();
    ASSERT_NE(ws, -1) << init << ": did not finish after SIGCONT; " << states;
    EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << init << " " << ws;
    EXPECT_THAT(ReadAll(l.out_path), HasSubstr("done")) << init;
  }
}

// A --status-fd reader that went away: minipod survives EPIPE and still
// exits with the command's status.
TEST_F(RunTest, StatusFdReaderGoneKeepsTheStatus) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  close(p[0]);
  const Launched l =
      Launch(tmp_->Join("epipe.out"), {"minipod", "run", "--rootfs", root_, "--status-fd", "3", "--", "sh", "-c",
                                       "exit 3"},
             p[1]);
  close(p[1]);
  const int ws = WaitStatus(l.pid, Ms(10000));
  if (ws == -1) kill(l.pid, SIGKILL);
  ASSERT_NE(ws, -1);
  ASSERT_TRUE(WIFEXITED(ws)) << "killed by signal " << WTERMSIG(ws);
  EXPECT_EQ(WEXITSTATUS(ws), 3) << ReadAll(l.out_path);
}

// The exit line names the signal the command died of, with the init too.
TEST_F(RunTest, StatusFdReportsTheSignal) {
  // (With --no-init the command is PID 1 of its namespace, which no signal
  // of its own kills: the wait status says it all there.)
  const std::string status = tmp_->Join("sig.json");
  const ShResult r =
      Sh(Minipod() + " run --rootfs " + root_ + " --status-fd 3 -- sh -c \"kill -TERM \\$\\$\" 3>" + status);
  EXPECT_EQ(r.status, 143) << r.out;
  const std::string json = ReadAll(status);
  EXPECT_THAT(json, HasSubstr("\"exit_code\":143")) << json;
  EXPECT_THAT(json, HasSubstr("\"signal\":15")) << json;
}

TEST_F(RunTest, BundleIsBuiltOnceAndReused) {
  const std::string cache = tmp_->Join("cache");
  const std::string run = "PATH=/usr/bin:/bin MINIPOD_CACHE=" + cache + " " + Minipod() +
                          " run --bundle sh --bundle cat -- sh -c \"echo bundled; cat /proc/1/comm\"";
  ShResult r = Sh(run);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(WithoutCapWarnings(r.out), "bundled\ninit\n");
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(cache + "/bundles")) entries.push_back(e.path().string());
  ASSERT_EQ(entries.size(), 1u);
  const auto built = fs::last_write_time(entries[0]);
  r = Sh(run);
  EXPECT_EQ(WithoutCapWarnings(r.out), "bundled\ninit\n");
  EXPECT_EQ(fs::last_write_time(entries[0]), built) << "the second run reuses the first one's tree";
  size_t count = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(cache + "/bundles")) ++count;
  EXPECT_EQ(count, 1u);
  fs::remove_all(cache);
}

// Runs as nobody need none of our capabilities: no skip for a reduced set.
class RunRootlessTest : public RunTest {
 protected:
  void SetUp() override {
    mounts_before_ = MountPoints();
    cgroups_before_ = Cgroups();
    recorded_ = true;
  }
};

TEST_F(RunRootlessTest, RootlessAsNobody) {
  const std::string nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  ShResult r = Sh(nobody + Minipod() + " run --rootfs " + root_ + " -- " + Probe() + " self");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Value(r.out, "uid"), "0") << "the caller is root inside its user namespace";
  EXPECT_EQ(Value(r.out, "pid1"), "init") << "minipod-init, bound at /dev/init";
  r = Sh(nobody + Minipod() + " run --rootfs " + root_ + " -- " + Probe() + " ns");
  ASSERT_EQ(r.status, 0) << r.out;
  char user[128] = "";
  ASSERT_GT(readlink("/proc/self/ns/user", user, sizeof user - 1), 0);
  EXPECT_NE(Value(r.out, "ns user"), user);
  r = Sh(nobody + Minipod() + " run --rootfs " + root_ + " --memory 64m -- " + Probe() + " self");
  if (absl::StatusOr<sandbox::CgroupLayout> l = sandbox::ReadCgroupLayout();
      l.ok() && l->kind != sandbox::CgroupLayout::kNone) {
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("cgroup limits unavailable"));
  } else {
    // No hierarchy to be refused by: the limit cannot be had at all.
    EXPECT_EQ(r.status, 125) << r.out;
    EXPECT_THAT(r.out, HasSubstr("no usable cgroup hierarchy"));
  }
  r = Sh(nobody + Minipod() + " run --rootfs " + root_ + " -- " + Probe() + " escape 1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Value(r.out, "mount"), "EPERM");
  // Files of the real root: refused before the read-only mount is asked.
  EXPECT_THAT(Value(r.out, "proc_sys_write"), ::testing::AnyOf("EROFS", "EACCES"));
}

}  // namespace
}  // namespace itest
