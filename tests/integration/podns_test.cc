// A pod's user namespace and its cgroup, end to end as root through the
// minipod command line: `pod create --userns auto` gives the holder a block
// of ids, every member joins that user namespace (an unprivileged host uid,
// its root and binds id-mapped, its own mnt, uts and pid namespaces owned by
// the pod's user namespace, so it can mount its /proc and exec still joins
// it), and an explicit --userns for a member is refused. And the pod's
// cgroup: the holder's and the members' cgroups below it, and gone after
// pod rm -f even when the pod was lost (its holder's monitor killed).
// Every test has a state directory of its own (MINIPOD_STATE_DIR), removes
// every pod and container it made on every path, and checks that no
// recorded process is left; every command is bounded by timeout(1).
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "sandbox/userns.h"
#include "tests/integration/harness.h"
#include "tests/integration/userns_probe.h"
#include "tests/testing/probes.h"

namespace itest {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr uint64_t Cap(int cap) { return uint64_t{1} << cap; }

json ParseJson(const std::string& text) { return json::parse(text, nullptr, /*allow_exceptions=*/false); }

// The inode of /proc/PID/ns/TYPE (0 when it cannot be read).
uint64_t NsInode(pid_t pid, const std::string& type) {
  struct stat st;
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/" + type;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

// The inode of the user namespace that owns /proc/PID/ns/TYPE (0 on error).
uint64_t OwnerInode(pid_t pid, const std::string& type) {
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/" + type;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  const int owner = ::ioctl(fd, NS_GET_USERNS);
  ::close(fd);
  if (owner < 0) return 0;
  struct stat st;
  const uint64_t ino = ::fstat(owner, &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
  ::close(owner);
  return ino;
}

// The real uid of /proc/PID/status (-1 when gone).
long HostUid(pid_t pid) {
  std::istringstream in(ReadAll("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Uid:", 0) == 0) return strtol(line.c_str() + 4, nullptr, 10);
  }
  return -1;
}

class PodnsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    assets_ = new TempDir();
    suite_error_.clear();
    ::chmod(assets_->path().c_str(), 0755);
    member_root_ = assets_->Join("member");
    const ShResult b =
        Sh("PATH=/usr/sbin:/usr/bin:/sbin:/bin " + Minipod() + " rootfs build -o " + member_root_ + " busybox");
    if (b.status != 0) suite_error_ += "rootfs build (member): " + b.out;
  }
  static void TearDownTestSuite() {
    delete assets_;
    assets_ = nullptr;
  }

  void SetUp() override {
    if (const auto p = testing_util::EffectiveHas(Cap(CAP_SYS_ADMIN) | Cap(CAP_SETUID)); !p) {
      GTEST_SKIP() << p.detail << " to give a pod a user namespace";
    }
    if (const auto p = testing_util::HasProgram("busybox"); !p) GTEST_SKIP() << p.detail << " (busybox-static)";
    if (const auto p = UsernsAndIdmapUsable(); !p) GTEST_SKIP() << p.detail;
    ASSERT_EQ(suite_error_, "");
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
        const json s = ParseJson(ReadAll(state_->Join(std::string(kind) + "/" + name + "/state.json")));
        if (s.is_object() && s.contains("init") && s["init"].is_object()) pids.push_back(s["init"].value("pid", 0));
      }
    }
    const ShResult pods = Mp("pod ps --json");
    const json j = ParseJson(pods.out);
    if (j.is_array()) {
      for (const json& p : j) {
        const ShResult r = Mp("pod rm -f " + p.value("name", ""));
        EXPECT_EQ(r.status, 0) << r.out;
      }
    }
    const ShResult rest = Mp("ps -a --json");
    const json c = ParseJson(rest.out);
    if (c.is_array()) {
      for (const json& e : c) Mp("rm -f " + e.value("name", ""));
    }
    for (pid_t pid : pids) {
      if (pid <= 0) continue;
      // Gone or a zombie (ours to reap, as a subreaper).
      EXPECT_TRUE(WaitFor(
          [&] {
            ::waitpid(-1, nullptr, WNOHANG);
            const std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
            const size_t paren = stat.rfind(')');
            return stat.empty() || (paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] == 'Z');
          },
          Ms(10000)))
          << "process " << pid << " left";
    }
    ::unsetenv("MINIPOD_STATE_DIR");
    state_.reset();
  }

  static ShResult Mp(const std::string& args, int timeout_s = 30) { return Sh(Minipod() + " " + args, timeout_s); }

  json State(const std::string& kind_dir, const std::string& name) const {
    return ParseJson(ReadAll(state_->Join(kind_dir + "/" + name + "/state.json")));
  }
  pid_t InitOf(const std::string& kind_dir, const std::string& name) const {
    const json s = State(kind_dir, name);
    return s.is_object() && s.contains("init") ? s["init"].value("pid", 0) : 0;
  }

  ShResult RunMember(const std::string& pod, const std::string& name, const std::string& extra = "") {
    return Mp("run -d --pod " + pod + " --name " + name + " " + extra + " --rootfs " + member_root_ +
              " -- busybox sleep 600");
  }

  void BlockStaysTakenWhileAMemberOfALostPodRuns(const std::string& mode);

  static TempDir* assets_;
  static std::string suite_error_;
  static std::string member_root_;
  std::unique_ptr<TempDir> state_;
};

TempDir* PodnsTest::assets_ = nullptr;
std::string PodnsTest::suite_error_;
std::string PodnsTest::member_root_;

TEST_F(PodnsTest, MembersJoinThePodsUserNamespace) {
  ShResult r = Mp("pod create --userns auto --share net,ipc,uts pu");
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* m : {"ua", "ub"}) {
    r = RunMember("pu", m);
    ASSERT_EQ(r.status, 0) << r.out;
  }
  const pid_t holder = InitOf("pods", "pu");
  ASSERT_GT(holder, 0);
  const uint64_t pod_user = NsInode(holder, "user");
  ASSERT_NE(pod_user, 0u);
  EXPECT_NE(pod_user, NsInode(::getpid(), "user"));
  const long block_uid = HostUid(holder);
  EXPECT_GT(block_uid, 0) << "the holder runs as an id of its block, not root";

  for (const char* m : {"ua", "ub"}) {
    SCOPED_TRACE(m);
    const pid_t init = InitOf("containers", m);
    ASSERT_GT(init, 0);
    // The holder's block: an unprivileged uid on the host.
    EXPECT_EQ(HostUid(init), block_uid);
    EXPECT_EQ(NsInode(init, "user"), pod_user);
    for (const char* shared : {"net", "ipc", "uts"}) EXPECT_EQ(NsInode(init, shared), NsInode(holder, shared)) << shared;
    // Its own mnt and pid namespaces, made inside the pod's user namespace.
    for (const char* own : {"mnt", "pid"}) {
      EXPECT_NE(NsInode(init, own), NsInode(holder, own)) << own;
      EXPECT_EQ(OwnerInode(init, own), pod_user) << own << " is not owned by the pod's user namespace";
    }
  }
  // exec joins the member's user namespace: root inside, the block outside,
  // and the root's files (the host's root's) id-mapped to root.
  r = Mp("exec ua busybox sh -c \"busybox id -u; busybox cat /proc/self/uid_map; busybox stat -c %u /usr/bin/busybox\"");
  ASSERT_EQ(r.status, 0) << r.out;
  std::istringstream lines(r.out);
  std::string uid, map_inside, map_outside, map_count, owner;
  lines >> uid >> map_inside >> map_outside >> map_count >> owner;
  EXPECT_EQ(uid, "0") << r.out;
  EXPECT_EQ(map_inside, "0") << r.out;
  EXPECT_EQ(map_outside, std::to_string(block_uid)) << r.out;
  EXPECT_EQ(owner, "0") << "the root is not id-mapped: " << r.out;

  // The namespace table: user is the pod's in every member's column.
  r = Mp("pod inspect --json pu");
  ASSERT_EQ(r.status, 0) << r.out;
  const json j = ParseJson(r.out);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_THAT(j.value("share", json::array()).dump(), HasSubstr("\"user\""));
  const json& columns = j["columns"];
  const json& user = j["namespaces"]["user"];
  ASSERT_EQ(columns.size(), user.size());
  int members = 0;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].value("role", "") == "host") continue;
    EXPECT_EQ(user[i].value("owner", ""), "pod") << columns[i].value("label", "");
    members += columns[i].value("role", "") == "container";
  }
  EXPECT_EQ(members, 2);
}

TEST_F(PodnsTest, MemberWithItsOwnUsernsIsRefused) {
  ShResult r = Mp("pod create --userns auto pv");
  ASSERT_EQ(r.status, 0) << r.out;
  r = RunMember("pv", "vx", "--userns auto");
  EXPECT_EQ(r.status, 125) << r.out;
  EXPECT_THAT(r.out, HasSubstr("leave --userns out"));
  r = Mp("ps -a --json");
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("\"vx\"")));
  r = Mp("pod create --userns sometimes pw");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("--userns 'sometimes'"));
  // user is no --share choice: --userns gives a pod its user namespace.
  r = Mp("pod create --share net,user pz");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("user is not one of"));
}

TEST_F(PodnsTest, PodWithoutUsernsKeepsTheHosts) {
  ShResult r = Mp("pod create ph");
  ASSERT_EQ(r.status, 0) << r.out;
  r = RunMember("ph", "hm");
  ASSERT_EQ(r.status, 0) << r.out;
  const pid_t init = InitOf("containers", "hm");
  ASSERT_GT(init, 0);
  EXPECT_EQ(NsInode(init, "user"), NsInode(::getpid(), "user"));
  EXPECT_EQ(HostUid(init), 0);
}

// The directories named minipod-pod-POD-* anywhere below /sys/fs/cgroup.
std::vector<std::string> PodCgroupDirs(const std::string& pod) {
  const ShResult r = Sh("find /sys/fs/cgroup -type d -name \"minipod-pod-" + pod + "-*\" 2>/dev/null");
  std::vector<std::string> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST_F(PodnsTest, MembersCgroupsAreBelowThePodsAndGoWithALostPod) {
  if (Sh("find /sys/fs/cgroup -maxdepth 0 -type d").status != 0) GTEST_SKIP() << "no /sys/fs/cgroup";
  ShResult r = Mp("pod create pg");
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* m : {"ga", "gb"}) {
    r = RunMember("pg", m);
    ASSERT_EQ(r.status, 0) << r.out;
  }
  // The holder's cgroup and each member's: below one pod cgroup.
  std::string group;
  for (const auto& [kind, name] : std::vector<std::pair<std::string, std::string>>{
           {"pods", "pg"}, {"containers", "ga"}, {"containers", "gb"}}) {
    SCOPED_TRACE(name);
    const json s = State(kind, name);
    ASSERT_TRUE(s.is_object() && s.contains("cgroups") && s["cgroups"].is_array() && !s["cgroups"].empty())
        << s.dump();
    for (const json& c : s["cgroups"]) {
      const std::string path = c.get<std::string>();
      const std::string dir = path.substr(0, path.rfind('/'));
      const std::string base = dir.substr(dir.rfind('/') + 1);
      EXPECT_EQ(base.rfind("minipod-pod-pg-", 0), 0u) << path;
      if (group.empty()) group = base;
      EXPECT_EQ(base, group) << path;
      struct stat st;
      EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    }
  }
  EXPECT_FALSE(PodCgroupDirs("pg").empty());
  // A lost pod: its holder's monitor killed (the holder dies with it, the
  // members do not); pod rm -f still removes the pod cgroup.
  const json holder = State("pods", "pg");
  const pid_t monitor = holder["monitor"].value("pid", 0);
  ASSERT_GT(monitor, 0);
  ASSERT_EQ(::kill(monitor, SIGKILL), 0);
  const pid_t holder_init = holder["init"].value("pid", 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        ::waitpid(-1, nullptr, WNOHANG);
        const std::string stat = ReadAll("/proc/" + std::to_string(holder_init) + "/stat");
        const size_t paren = stat.rfind(')');
        return stat.empty() || (paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] == 'Z');
      },
      Ms(10000)));
  r = Mp("pod rm -f pg");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(WaitFor([&] { return PodCgroupDirs("pg").empty(); }, Ms(5000)))
      << "left: " << ::testing::PrintToString(PodCgroupDirs("pg"));
}

// The host uid a process's user namespace maps its ids onto, outside the
// one id keep-id maps onto itself (0 when there is none).
long BlockUidOf(pid_t pid) {
  std::istringstream in(ReadAll("/proc/" + std::to_string(pid) + "/uid_map"));
  for (long inside, outside, count; in >> inside >> outside >> count;) {
    if (inside != outside) return outside - inside;
  }
  return 0;
}

// A pod's members hold its id block too: with the holder gone (its monitor
// killed) a member still runs under those ids, so they are not handed to
// the next container. For auto (the block from 0) and keep-id (root kept
// as itself, the rest of the block around it).
void PodnsTest::BlockStaysTakenWhileAMemberOfALostPodRuns(const std::string& mode) {
  const std::string pod = "pk-" + mode;
  ShResult r = Mp("pod create --userns " + mode + " " + pod);
  ASSERT_EQ(r.status, 0) << r.out;
  r = RunMember(pod, "ka");
  ASSERT_EQ(r.status, 0) << r.out;
  const pid_t member = InitOf("containers", "ka");
  ASSERT_GT(member, 0);
  const long block_uid = BlockUidOf(member);
  ASSERT_GT(block_uid, 0) << ReadAll("/proc/" + std::to_string(member) + "/uid_map");
  EXPECT_EQ(HostUid(member), mode == "auto" ? block_uid : 0);
  // The holder's monitor killed: the holder dies, the member runs on in
  // the pod's user namespace, so its ids must not go to another container.
  const json holder = State("pods", pod);
  const pid_t monitor = holder["monitor"].value("pid", 0);
  const pid_t holder_init = holder["init"].value("pid", 0);
  ASSERT_GT(monitor, 0);
  ASSERT_EQ(::kill(monitor, SIGKILL), 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        ::waitpid(-1, nullptr, WNOHANG);
        const std::string stat = ReadAll("/proc/" + std::to_string(holder_init) + "/stat");
        const size_t paren = stat.rfind(')');
        return stat.empty() || (paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] == 'Z');
      },
      Ms(10000)));
  const std::string record = ReadAll("/run/minipod/userns");
  bool held = false;
  for (absl::string_view line : absl::StrSplit(record, '\n')) {
    if (absl::StartsWith(line, std::to_string(block_uid) + " ") &&
        absl::StrContains(line, " " + std::to_string(member) + ":")) {
      held = true;
    }
  }
  EXPECT_TRUE(held) << "the block of the member (uid " << block_uid << ") is not recorded as held by it:\n" << record;
  // And the next container gets other ids.
  r = Mp("run -d --name kb --userns auto --rootfs " + member_root_ + " -- busybox sleep 600");
  ASSERT_EQ(r.status, 0) << r.out;
  const pid_t other = InitOf("containers", "kb");
  ASSERT_GT(other, 0);
  EXPECT_NE(BlockUidOf(other), block_uid) << "the ids of a running member went to another container";
  r = Mp("rm -f kb");
  EXPECT_EQ(r.status, 0) << r.out;
  r = Mp("pod rm -f " + pod);
  ASSERT_EQ(r.status, 0) << r.out;
}

TEST_F(PodnsTest, AnAutoPodsBlockStaysTakenWhileAMemberOfALostPodRuns) {
  BlockStaysTakenWhileAMemberOfALostPodRuns("auto");
}

TEST_F(PodnsTest, AKeepIdPodsBlockStaysTakenWhileAMemberOfALostPodRuns) {
  BlockStaysTakenWhileAMemberOfALostPodRuns("keep-id");
}

}  // namespace
}  // namespace itest
