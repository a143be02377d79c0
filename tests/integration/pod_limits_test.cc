// A pod's resources, end to end as root through the minipod command line:
// `pod create --memory/--pids/--cpus` limit the pod's cgroup, which the
// holder's and every member's cgroups go below, so the members share them
// (two members that together allocate more than the pod's memory: one is
// OOM-killed and the pod's peak stays under the limit; forks in one member
// are capped by what the others hold); a member's own --memory holds
// beneath the pod's; bad values are a 125 naming the option and leave
// nothing behind. And what the holder looks like in ps.
// Every test has a state directory of its own (MINIPOD_STATE_DIR), removes
// every pod and container it made on every path, and checks that no
// recorded process and no pod cgroup is left; every command is bounded by
// timeout(1), every wait by a deadline.
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sandbox/cgroup_layout.h"
#include "tests/integration/cgroup_probe.h"
#include "tests/integration/harness.h"
#include "tests/testing/probes.h"

namespace itest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

json ParseJson(const std::string& text) { return json::parse(text, nullptr, /*allow_exceptions=*/false); }

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string DirName(const std::string& path) { return path.substr(0, path.rfind('/')); }

// The directories named minipod-pod-POD-* anywhere below /sys/fs/cgroup.
std::vector<std::string> PodCgroupDirs(const std::string& pod) {
  const ShResult r = Sh("find /sys/fs/cgroup -type d -name \"minipod-pod-" + pod + "-*\" 2>/dev/null");
  std::vector<std::string> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Gone, or a zombie (ours to reap: the test process is a subreaper).
bool Gone(pid_t pid) {
  ::waitpid(-1, nullptr, WNOHANG);
  const std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return stat.empty() || (paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] == 'Z');
}

class PodLimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    assets_ = new TempDir();
    suite_error_.clear();
    ::chmod(assets_->path().c_str(), 0755);
    root_ = assets_->Join("root");
    const ShResult b = Sh("PATH=/usr/sbin:/usr/bin:/sbin:/bin " + Minipod() + " rootfs build -o " + root_ +
                          " sh sleep " + Probe());
    if (b.status != 0) suite_error_ = "rootfs build: " + b.out;
  }
  static void TearDownTestSuite() {
    delete assets_;
    assets_ = nullptr;
  }

  void SetUp() override {
    ASSERT_EQ(suite_error_, "");
    absl::StatusOr<sandbox::CgroupLayout> l = sandbox::ReadCgroupLayout();
    ASSERT_TRUE(l.ok()) << l.status();
    v2_ = l->kind == sandbox::CgroupLayout::kV2;
    state_ = std::make_unique<TempDir>();
    ASSERT_EQ(::setenv("MINIPOD_STATE_DIR", state_->path().c_str(), 1), 0);
  }

  void TearDown() override {
    if (state_ == nullptr) return;
    std::vector<pid_t> pids;
    for (const char* kind : {"pods", "containers"}) {
      const ShResult ls = Sh("ls -1 " + state_->Join(kind) + " 2>/dev/null");
      std::istringstream in(ls.out);
      for (std::string name; std::getline(in, name);) {
        const json s = State(kind, name);
        if (s.is_object() && s.contains("init") && s["init"].is_object()) pids.push_back(s["init"].value("pid", 0));
      }
    }
    const json pods = ParseJson(Mp("pod ps --json").out);
    if (pods.is_array()) {
      for (const json& p : pods) {
        const ShResult r = Mp("pod rm -f " + p.value("name", ""));
        EXPECT_EQ(r.status, 0) << r.out;
      }
    }
    const json rest = ParseJson(Mp("ps -a --json").out);
    if (rest.is_array()) {
      for (const json& e : rest) Mp("rm -f " + e.value("name", ""));
    }
    for (pid_t pid : pids) {
      if (pid <= 0) continue;
      EXPECT_TRUE(WaitFor([&] { return Gone(pid); }, Ms(10000))) << "process " << pid << " left";
    }
    for (const std::string& pod : pods_) {
      EXPECT_TRUE(WaitFor([&] { return PodCgroupDirs(pod).empty(); }, Ms(5000)))
          << "left: " << ::testing::PrintToString(PodCgroupDirs(pod));
    }
    ::unsetenv("MINIPOD_STATE_DIR");
    state_.reset();
  }

  static ShResult Mp(const std::string& args, int timeout_s = 30) { return Sh(Minipod() + " " + args, timeout_s); }

  json State(const std::string& kind_dir, const std::string& name) const {
    return ParseJson(ReadAll(state_->Join(kind_dir + "/" + name + "/state.json")));
  }

  ShResult CreatePod(const std::string& name, const std::string& options) {
    pods_.push_back(name);
    return Mp("pod create " + options + " " + name);
  }
  ShResult RunMember(const std::string& pod, const std::string& name, const std::string& options,
                     const std::string& command) {
    return Mp("run -d --pod " + pod + " --name " + name + " " + options + " --rootfs " + root_ + " -- " + command);
  }
  std::string Logs(const std::string& name) { return Mp("logs " + name).out; }

  // The directory of the recorded cgroups (pods: the holder's) in the
  // hierarchy that has `file` ("memory.max" in v2, "memory.limit_in_bytes"
  // in v1, "pids.max"): "" when there is none.
  std::string CgroupWith(const std::string& kind_dir, const std::string& name, const std::string& file) const {
    const json s = State(kind_dir, name);
    if (!s.is_object() || !s.contains("cgroups") || !s["cgroups"].is_array()) return "";
    for (const json& c : s["cgroups"]) {
      const std::string dir = c.get<std::string>();
      struct stat st;
      if (::stat((dir + "/" + file).c_str(), &st) == 0) return dir;
    }
    return "";
  }
  std::string MemoryFile() const { return v2_ ? "memory.max" : "memory.limit_in_bytes"; }
  // The pod's own cgroup in the hierarchy that has `file`.
  std::string PodCgroup(const std::string& pod, const std::string& file) const {
    const std::string holder = CgroupWith("pods", pod, file);
    return holder.empty() ? "" : DirName(holder);
  }

  static TempDir* assets_;
  static std::string suite_error_;
  static std::string root_;
  std::unique_ptr<TempDir> state_;
  std::vector<std::string> pods_;  // checked for leftover cgroups
  bool v2_ = false;
};

TempDir* PodLimitsTest::assets_ = nullptr;
std::string PodLimitsTest::suite_error_;
std::string PodLimitsTest::root_;

TEST_F(PodLimitsTest, MembersShareThePodsMemoryAndOneIsOomKilled) {
  if (const auto p = CgroupLimitsUsable(); !p) GTEST_SKIP() << p.detail;
  ShResult r = CreatePod("lim-mem", "--memory 32m");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string pod_dir = PodCgroup("lim-mem", MemoryFile());
  ASSERT_NE(pod_dir, "") << State("pods", "lim-mem").dump();
  EXPECT_EQ(Trim(ReadAll(pod_dir + "/" + MemoryFile())), "33554432");
  // Each member alone fits (20 MiB), both together do not.
  r = RunMember("lim-mem", "ma", "", Probe() + " hog 20 25");
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(Logs("ma"), "hogged 20"); }, Ms(10000))) << Logs("ma");
  r = RunMember("lim-mem", "mb", "", Probe() + " hog 20 25");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto exited = [&](const std::string& name) { return State("containers", name).value("status", "") == "exited"; };
  ASSERT_TRUE(WaitFor([&] { return exited("ma") || exited("mb"); }, Ms(15000)))
      << "no member was OOM-killed: " << Logs("ma") << Logs("mb");
  int killed = 0;
  for (const char* m : {"ma", "mb"}) {
    const json s = State("containers", m);
    if (s.value("status", "") != "exited") continue;
    ++killed;
    EXPECT_EQ(s.value("exit_code", 0), 137) << m << ": " << s.dump();
    EXPECT_TRUE(s.value("oom", false)) << m << ": " << s.dump();
  }
  // Usually one: the other then fits. The kernel may take both when the
  // second charge comes before the first victim's pages are freed.
  EXPECT_GE(killed, 1);
  // The pod as a whole never went above its limit.
  const std::string peak = pod_dir + (v2_ ? "/memory.peak" : "/memory.max_usage_in_bytes");
  const std::string text = Trim(ReadAll(peak));
  if (!text.empty()) {
    EXPECT_LE(std::stoll(text), 32LL << 20) << peak;
    EXPECT_GT(std::stoll(text), 20LL << 20) << peak;
  } else {
    EXPECT_TRUE(v2_) << peak << " unreadable";  // memory.peak: Linux 5.19+
  }
}

TEST_F(PodLimitsTest, ThePodsPidsLimitCapsForkAcrossMembers) {
  if (const auto p = CgroupLimitsUsable(); !p) GTEST_SKIP() << p.detail;
  ShResult r = CreatePod("lim-pids", "--pids 20");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string pod_dir = PodCgroup("lim-pids", "pids.max");
  ASSERT_NE(pod_dir, "") << State("pods", "lim-pids").dump();
  EXPECT_EQ(Trim(ReadAll(pod_dir + "/pids.max")), "20");
  // One member holds six tasks (its init, four sleeps in the background,
  // the shell replaced by a fifth).
  r = RunMember("lim-pids", "holds", "",
                "sh -c \"sleep 600 & sleep 600 & sleep 600 & sleep 600 & exec sleep 600\"");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto current = [&] { return std::atoi(Trim(ReadAll(pod_dir + "/pids.current")).c_str()); };
  ASSERT_TRUE(WaitFor([&] { return current() >= 7; }, Ms(10000))) << current();
  const int before = current();
  // The other forks until the pod's limit says no: its init and itself,
  // then what is left of 20.
  r = RunMember("lim-pids", "forks", "", Probe() + " forkbomb");
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(Logs("forks"), "forked"); }, Ms(10000))) << Logs("forks");
  const std::string log = Logs("forks");
  const std::string line = log.substr(log.find("forked"));
  EXPECT_THAT(line, HasSubstr("EAGAIN"));
  const int forked = std::atoi(line.c_str() + strlen("forked "));
  EXPECT_GE(forked, 1) << line;
  EXPECT_LE(forked + 2 + before, 20) << line << " with " << before << " tasks in the pod before";
}

TEST_F(PodLimitsTest, AMembersOwnMemoryLimitHoldsBeneathThePods) {
  if (const auto p = CgroupLimitsUsable(); !p) GTEST_SKIP() << p.detail;
  ShResult r = CreatePod("lim-own", "--memory 64m");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string pod_dir = PodCgroup("lim-own", MemoryFile());
  ASSERT_NE(pod_dir, "");
  r = RunMember("lim-own", "small", "--memory 16m", "sleep 600");
  ASSERT_EQ(r.status, 0) << r.out;
  // Both limits are there, the member's below the pod's.
  const std::string own = CgroupWith("containers", "small", MemoryFile());
  ASSERT_NE(own, "") << State("containers", "small").dump();
  EXPECT_EQ(DirName(own), pod_dir);
  EXPECT_EQ(Trim(ReadAll(own + "/" + MemoryFile())), "16777216");
  EXPECT_EQ(Trim(ReadAll(pod_dir + "/" + MemoryFile())), "67108864");
  // 24 MiB: more than the member's 16m, well within the pod's 64m.
  r = Mp("exec small -- " + Probe() + " hog 24");
  EXPECT_EQ(r.status, 137) << r.out;
  EXPECT_THAT(r.out, Not(HasSubstr("hogged")));
  EXPECT_EQ(State("containers", "small").value("status", ""), "running");
  r = RunMember("lim-own", "free", "", Probe() + " hog 24 25");
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(Logs("free"), "hogged 24"); }, Ms(10000))) << Logs("free");
  EXPECT_EQ(State("containers", "free").value("status", ""), "running");
}

TEST_F(PodLimitsTest, BadValuesAreUsageErrorsAndLeaveNothing) {
  const struct {
    std::string options, message;
  } bad[] = {
      {"--memory lots", "--memory 'lots': not a size"},
      {"--memory 1k", "--memory '1k': below the minimum"},
      {"-m 12x", "--memory '12x'"},
      {"--pids 0", "--pids '0': must be at least 1"},
      {"--pids many", "--pids 'many'"},
      {"--cpus 0", "--cpus '0'"},
      {"--cpus 1000000", "--cpus '1000000'"},
      {"--cpus half", "--cpus 'half'"},
  };
  for (const auto& b : bad) {
    SCOPED_TRACE(b.options);
    const ShResult r = CreatePod("lim-bad", b.options);
    EXPECT_EQ(r.status, 125) << r.out;
    const std::string errors = WithoutCapWarnings(r.out);
    EXPECT_THAT(errors.substr(0, errors.find('\n')), HasSubstr(b.message));
  }
  const ShResult ps = Mp("pod ps --json");
  EXPECT_EQ(Trim(ps.out), "[]");
  EXPECT_TRUE(PodCgroupDirs("lim-bad").empty());
  struct stat st;
  EXPECT_NE(::stat(state_->Join("pods/lim-bad").c_str(), &st), 0);
  EXPECT_NE(::stat(state_->Join("shm/lim-bad").c_str(), &st), 0);
}

TEST_F(PodLimitsTest, AMemberMayNotAskForMoreCpuThanThePod) {
  if (const auto p = CgroupLimitsUsable(); !p) GTEST_SKIP() << p.detail;
  ShResult r = CreatePod("lim-cpu", "--cpus 0.5");
  if (r.status != 0 && absl::StrContains(r.out, "needs the cgroup")) GTEST_SKIP() << "no cpu controller: " << r.out;
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string pod_dir = PodCgroup("lim-cpu", v2_ ? "cpu.max" : "cpu.cfs_quota_us");
  ASSERT_NE(pod_dir, "");
  EXPECT_EQ(Trim(ReadAll(pod_dir + (v2_ ? "/cpu.max" : "/cpu.cfs_quota_us"))), v2_ ? "50000 100000" : "50000");
  r = RunMember("lim-cpu", "greedy", "--cpus 1", "sleep 600");
  EXPECT_EQ(r.status, 125) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--cpus '1': more than the 0.5 CPUs of the pod lim-cpu"));
  EXPECT_THAT(Mp("ps -a --json").out, Not(HasSubstr("\"greedy\"")));
  r = RunMember("lim-cpu", "modest", "--cpus 0.25", "sleep 600");
  EXPECT_EQ(r.status, 0) << r.out;
  // inspect shows the pod's limits.
  r = Mp("pod inspect lim-cpu");
  EXPECT_THAT(r.out, HasSubstr("limits: cpus 0.5\n"));
  const json j = ParseJson(Mp("pod inspect --json lim-cpu").out);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["limits"].dump(), R"({"cpus":0.5})");
}

// Without root a pod has no cgroup: limits would silently be missing, so
// they are refused, before anything is made.
TEST_F(PodLimitsTest, WithoutRootPodLimitsAreRefused) {
  if (const auto p = testing_util::HasProgram("setpriv"); !p) GTEST_SKIP() << p.detail;
  TempDir runtime_parent;
  ASSERT_EQ(::chmod(runtime_parent.path().c_str(), 0755), 0);
  const std::string runtime = runtime_parent.Join("run");
  ASSERT_EQ(::mkdir(runtime.c_str(), 0700), 0);
  ASSERT_EQ(::chown(runtime.c_str(), 65534, 65534), 0);
  const ShResult r = Sh("env -u MINIPOD_STATE_DIR XDG_RUNTIME_DIR=" + runtime +
                        " setpriv --reuid=65534 --regid=65534 --clear-groups " + Minipod() +
                        " pod create --memory 32m nobodys");
  EXPECT_EQ(r.status, 125) << r.out;
  EXPECT_THAT(r.out, HasSubstr("a pod's limits need root")) << r.out;
  EXPECT_EQ(Sh("ls -A " + runtime + "/minipod/pods").out, "");
  EXPECT_TRUE(PodCgroupDirs("nobodys").empty());
}

// The holder is minipod-init as Kubernetes' pause: "/pause" in ps, PID 1
// of its pid namespace (shared here, so the members see it); pod ps counts
// the members and the running ones.
TEST_F(PodLimitsTest, TheHolderShowsAsPauseAndPodPsCountsMembers) {
  ShResult r = CreatePod("lim-ps", "--share net,ipc,pid");
  ASSERT_EQ(r.status, 0) << r.out;
  const pid_t holder = State("pods", "lim-ps")["init"].value("pid", 0);
  ASSERT_GT(holder, 0);
  std::string cmdline = ReadAll("/proc/" + std::to_string(holder) + "/cmdline");
  EXPECT_EQ(cmdline, std::string("/pause\0", 7));
  EXPECT_EQ(Trim(ReadAll("/proc/" + std::to_string(holder) + "/comm")), "pause");
  r = RunMember("lim-ps", "stays", "", "sleep 600");
  ASSERT_EQ(r.status, 0) << r.out;
  r = RunMember("lim-ps", "ends", "", "sleep 0");
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_TRUE(WaitFor([&] { return State("containers", "ends").value("status", "") == "exited"; }, Ms(10000)));
  // Seen from a member: PID 1 is the pause.
  r = Mp("exec stays -- sh -c \"read c < /proc/1/comm; echo pid1=\\$c\"");
  EXPECT_THAT(r.out, HasSubstr("pid1=pause")) << r.out;
  const json ps = ParseJson(Mp("pod ps --json").out);
  ASSERT_TRUE(ps.is_array() && ps.size() == 1) << ps.dump();
  const json& p = ps[0];
  EXPECT_EQ(p.value("name", ""), "lim-ps");
  EXPECT_EQ(p.value("id", "").size(), 32u);
  EXPECT_EQ(p.value("status", ""), "running");
  EXPECT_EQ(p["containers"].size(), 2u);
  EXPECT_EQ(p.value("running", -1), 1);
  EXPECT_EQ(p.value("holder_pid", 0), holder);
  EXPECT_EQ(p["holder_command"].dump(), R"(["/pause"])");
  EXPECT_EQ(p["limits"].dump(), "{}");
  r = Mp("pod ps");
  std::istringstream lines(r.out);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  std::istringstream h(header), v(row);
  std::vector<std::string> heads, cells;
  for (std::string w; h >> w;) heads.push_back(w);
  for (std::string w; v >> w;) cells.push_back(w);
  ASSERT_EQ(heads, (std::vector<std::string>{"POD", "ID", "STATUS", "CREATED", "CONTAINERS", "RUNNING", "HOLDER",
                                             "SHARE", "LIMITS", "PORTS"}))
      << r.out;
  ASSERT_EQ(cells.size(), heads.size()) << r.out;
  EXPECT_EQ(cells[0], "lim-ps");
  EXPECT_EQ(cells[1], p.value("id", "").substr(0, 12));
  EXPECT_EQ(cells[4], "2");
  EXPECT_EQ(cells[5], "1");
  EXPECT_EQ(cells[6], std::to_string(holder));
  EXPECT_EQ(cells[7], "net,ipc,pid");
  EXPECT_EQ(cells[8], "-");
}

}  // namespace
}  // namespace itest
