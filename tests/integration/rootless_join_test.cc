// Joins without root, end to end through the minipod command line run as an
// unprivileged uid (65534, through setpriv, with a runtime directory of its
// own): the pod walk-through by hand (a pause with -p, web and shell joining
// its net, ipc and pid namespaces, and with them its user namespace), the
// short form (`pod create` + `--pod`, with the pod's /dev/shm), the
// namespace table showing the user namespace shared with the holder,
// ns:PATH of a namespace the caller made with unshare(1), and joins the
// caller may not make refused with 125 and the reason: a namespace of
// root's, one of another unprivileged user's (65533), a container of
// another state directory, two user namespaces at once, a user namespace
// without 0 in it.
// Skipped with the reason when unprivileged user namespaces are not allowed
// here. Every test removes every pod and container it made on every path
// and checks that no recorded process, state or mount is left; every
// command is bounded by timeout(1).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/http_probe.h"
#include "tests/testing/probes.h"

namespace itest {
namespace {

using ::itest::FreePort;
using ::itest::HttpGet;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr uid_t kUser = 65534;   // the caller of every minipod command here
constexpr uid_t kOther = 65533;  // another unprivileged user
constexpr char kPage[] = "<h1>the rootless pod's page</h1>\n";

json ParseJson(const std::string& text) { return json::parse(text, nullptr, /*allow_exceptions=*/false); }

uint64_t InodeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

// The user namespace that owns /proc/PID/ns/TYPE: its inode and the uid
// that made it ({0, -1} when it cannot be read).
struct Owner {
  uint64_t inode = 0;
  long uid = -1;
};
Owner OwnerOf(pid_t pid, const std::string& type) {
  Owner o;
  const int fd = ::open(("/proc/" + std::to_string(pid) + "/ns/" + type).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return o;
  const int user = type == "user" ? ::dup(fd) : ::ioctl(fd, NS_GET_USERNS);
  ::close(fd);
  if (user < 0) return o;
  struct stat st;
  uid_t uid = 0;
  if (::fstat(user, &st) == 0 && ::ioctl(user, NS_GET_OWNER_UID, &uid) == 0) {
    o.inode = st.st_ino;
    o.uid = static_cast<long>(uid);
  }
  ::close(user);
  return o;
}

// The real uid of /proc/PID/status (-1 when gone).
long HostUid(pid_t pid) {
  std::istringstream in(ReadAll("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Uid:", 0) == 0) return strtol(line.c_str() + 4, nullptr, 10);
  }
  return -1;
}

class RootlessJoinTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    assets_ = new TempDir();
    suite_error_.clear();
    ::chmod(assets_->path().c_str(), 0755);
    pause_root_ = assets_->Join("pause");
    ShResult b = Sh(Minipod() + " rootfs build --init -o " + pause_root_);
    if (b.status != 0) suite_error_ += "rootfs build --init: " + b.out;
    member_root_ = assets_->Join("member");
    b = Sh("PATH=/usr/sbin:/usr/bin:/sbin:/bin " + Minipod() + " rootfs build -o " + member_root_ + " busybox");
    if (b.status != 0) suite_error_ += "rootfs build (member): " + b.out;
    www_ = assets_->Join("www");
    ::mkdir(www_.c_str(), 0755);
    if (FILE* f = fopen((www_ + "/index.html").c_str(), "w")) {
      fputs(kPage, f);
      fclose(f);
      ::chmod((www_ + "/index.html").c_str(), 0644);
    }
  }
  static void TearDownTestSuite() {
    delete assets_;
    assets_ = nullptr;
  }

  void SetUp() override {
    for (const char* tool : {"setpriv", "unshare", "busybox", "timeout"}) {
      if (const auto p = testing_util::HasProgram(tool); !p) GTEST_SKIP() << p.detail;
    }
    ASSERT_EQ(suite_error_, "");
    // The caller's runtime directory, as a login gives one: its own, 0700.
    runtime_ = std::make_unique<TempDir>();
    ASSERT_EQ(::chown(runtime_->path().c_str(), kUser, kUser), 0) << strerror(errno);
    ASSERT_EQ(::chmod(runtime_->path().c_str(), 0700), 0);
    mounts_before_ = MountPoints();
    const ShResult probe = Mp("run --rootfs " + member_root_ + " -- busybox true");
    if (probe.status == 125 && probe.out.find("clone") != std::string::npos) {
      GTEST_SKIP() << "uid " << kUser << " may not create a user namespace here: " << probe.out;
    }
    ASSERT_EQ(probe.status, 0) << probe.out;
  }

  void TearDown() override {
    if (runtime_ == nullptr) return;
    std::vector<std::pair<pid_t, std::string>> procs = RecordedProcesses();
    for (const std::string& name : Names("pod ps --json")) {
      const ShResult r = Mp("pod rm -f " + name);
      EXPECT_EQ(r.status, 0) << "pod rm -f " << name << ": " << r.out;
    }
    for (const std::string& name : Names("ps -a --json")) {
      const ShResult r = Mp("rm -f " + name);
      EXPECT_EQ(r.status, 0) << "rm -f " << name << ": " << r.out;
    }
    for (const auto& [pid, who] : procs) {
      EXPECT_TRUE(WaitFor(
          [&] {
            ReapExitedChildren();
            const char state = ProcState(pid);
            return state == '?' || state == 'Z' || HostUid(pid) != static_cast<long>(kUser);
          },
          Ms(10'000)))
          << who << " (pid " << pid << ") still runs";
    }
    ReapExitedChildren();
    for (const char* kind : {"pods", "containers"}) {
      const ShResult ls = Sh("ls -A " + StateDir() + "/" + kind + " 2>/dev/null");
      EXPECT_EQ(ls.out, "") << "state left in " << kind;
    }
    const std::string appeared = Appeared(mounts_before_, MountPoints());
    EXPECT_EQ(appeared.find(runtime_->path()), std::string::npos) << "mounts left: " << appeared;
    EXPECT_EQ(appeared.find(assets_->path()), std::string::npos) << "mounts left: " << appeared;
    runtime_.reset();
  }

  std::string StateDir() const { return runtime_->Join("minipod"); }

  // minipod as kUser, with its runtime directory, bounded.
  ShResult Mp(const std::string& args, int timeout_s = 30) const { return As(kUser, Minipod() + " " + args, timeout_s); }
  ShResult As(uid_t uid, const std::string& command, int timeout_s = 30) const {
    return Sh("setpriv --reuid=" + std::to_string(uid) + " --regid=" + std::to_string(uid) +
                  " --clear-groups env -u MINIPOD_STATE_DIR XDG_RUNTIME_DIR=" + runtime_->path() + " " + command,
              timeout_s);
  }

  void RunDetached(const std::string& options, const std::string& command) const {
    const ShResult r = Mp("run -d " + options + " -- " + command);
    ASSERT_EQ(r.status, 0) << "run -d " << options << ": " << r.out;
  }

  std::vector<std::string> Names(const std::string& list_command) const {
    std::vector<std::string> names;
    const ShResult r = Mp(list_command);
    const json j = ParseJson(r.out);
    if (!j.is_array()) {
      ADD_FAILURE() << list_command << ": " << r.out;
      return names;
    }
    for (const json& e : j) names.push_back(e.value("name", ""));
    return names;
  }

  json State(const std::string& kind_dir, const std::string& name) const {
    return ParseJson(ReadAll(StateDir() + "/" + kind_dir + "/" + name + "/state.json"));
  }
  pid_t InitOf(const std::string& kind_dir, const std::string& name) const {
    const json s = State(kind_dir, name);
    return s.is_object() && s.contains("init") && s["init"].is_object() ? s["init"].value("pid", 0) : 0;
  }
  std::vector<std::pair<pid_t, std::string>> RecordedProcesses() const {
    std::vector<std::pair<pid_t, std::string>> out;
    for (const char* kind : {"pods", "containers"}) {
      const ShResult ls = Sh("ls -1 " + StateDir() + "/" + kind + " 2>/dev/null");
      std::istringstream in(ls.out);
      for (std::string name; std::getline(in, name);) {
        const json s = State(kind, name);
        if (!s.is_object()) continue;
        for (const char* field : {"monitor", "init"}) {
          if (s.contains(field) && s[field].is_object() && s[field].value("pid", 0) > 0) {
            out.emplace_back(s[field].value("pid", 0), name + "'s " + field);
          }
        }
      }
    }
    return out;
  }

  // The members' namespaces: each joined type the holder's, user included
  // (made by kUser); mnt and uts their own, made inside that user
  // namespace; every process under kUser on the host.
  void ExpectJoined(pid_t holder, const std::vector<pid_t>& members, const std::vector<std::string>& shared,
                    const std::vector<std::string>& own) {
    const Owner holder_user = OwnerOf(holder, "user");
    EXPECT_EQ(holder_user.uid, static_cast<long>(kUser));
    EXPECT_NE(holder_user.inode, InodeOf("/proc/self/ns/user"));
    EXPECT_EQ(HostUid(holder), static_cast<long>(kUser));
    for (pid_t m : members) {
      EXPECT_EQ(HostUid(m), static_cast<long>(kUser)) << m;
      for (const std::string& t : shared) {
        EXPECT_EQ(InodeOf("/proc/" + std::to_string(m) + "/ns/" + t),
                  InodeOf("/proc/" + std::to_string(holder) + "/ns/" + t))
            << t << " of " << m;
      }
      for (const std::string& t : own) {
        EXPECT_NE(InodeOf("/proc/" + std::to_string(m) + "/ns/" + t),
                  InodeOf("/proc/" + std::to_string(holder) + "/ns/" + t))
            << t << " of " << m;
        EXPECT_EQ(OwnerOf(m, t).inode, holder_user.inode) << t << " of " << m << " is not owned by the holder's user namespace";
      }
    }
  }

  static TempDir* assets_;
  static std::string suite_error_, pause_root_, member_root_, www_;
  std::unique_ptr<TempDir> runtime_;
  std::multiset<std::string> mounts_before_;
};
TempDir* RootlessJoinTest::assets_ = nullptr;
std::string RootlessJoinTest::suite_error_, RootlessJoinTest::pause_root_, RootlessJoinTest::member_root_,
    RootlessJoinTest::www_;

// The walk-through, by hand and without root.
TEST_F(RootlessJoinTest, WalkThroughByHand) {
  const int port = FreePort();
  ASSERT_GT(port, 1024);
  RunDetached("--name pause -p 127.0.0.1:" + std::to_string(port) + ":80 --no-init --rootfs " + pause_root_,
              "/sbin/init");
  const std::string join = "--net container:pause --ipc container:pause --pid container:pause --rootfs " + member_root_;
  RunDetached("--name web " + join + " --bind " + www_ + ":/www", "busybox httpd -f -p 80 -h /www");
  RunDetached("--name shell " + join, "busybox sleep 3600");

  // The pod's loopback: shell reaches web's server once it listens.
  ShResult r;
  EXPECT_TRUE(WaitFor(
      [&] {
        r = Mp("exec shell -- busybox wget -qO- http://127.0.0.1/", 10);
        return r.status == 0;
      },
      Ms(10'000)))
      << r.out;
  EXPECT_EQ(r.out, kPage);
  // And the host, through the pause's published port.
  EXPECT_EQ(HttpGet(port), kPage);
  // exec joins the user namespace first: root inside, the pause's init is
  // PID 1 of the shared pid namespace.
  r = Mp("exec shell -- busybox id -u", 10);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "0\n");
  r = Mp("exec web -- busybox cat /proc/1/cmdline", 10);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, std::string("/sbin/init", 11));

  ExpectJoined(InitOf("containers", "pause"), {InitOf("containers", "web"), InitOf("containers", "shell")},
               {"user", "net", "ipc", "pid"}, {"mnt", "uts"});

  // inspect --namespaces: user, net, ipc and pid shared by the three.
  r = Mp("inspect --namespaces pause web shell --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const json t = ParseJson(r.out);
  ASSERT_TRUE(t.is_object()) << r.out;
  for (const std::string kind : {"user", "net", "ipc", "pid"}) {
    const json& cells = t["namespaces"][kind];
    ASSERT_EQ(cells.size(), 4u) << r.out;
    EXPECT_EQ(cells[0]["inode"], InodeOf("/proc/self/ns/" + kind)) << kind;
    for (size_t i = 1; i < 4; ++i) {
      EXPECT_EQ(cells[i]["owner"], "shared") << kind << ": " << cells.dump();
      EXPECT_EQ(cells[i]["inode"], cells[1]["inode"]) << kind;
    }
    EXPECT_NE(cells[1]["inode"], cells[0]["inode"]) << kind << ": the host's";
  }
  for (const std::string kind : {"mnt", "uts"}) {
    for (size_t i = 1; i < 4; ++i) EXPECT_EQ(t["namespaces"][kind][i]["owner"], "own") << kind;
  }
}

// pod create + --pod without root: the members join the holder's user
// namespace along with the namespaces the pod shares, and share a /dev/shm.
TEST_F(RootlessJoinTest, PodCreateAndMembers) {
  const int port = FreePort();
  ASSERT_GT(port, 1024);
  ShResult r = Mp("pod create web -p 127.0.0.1:" + std::to_string(port) + ":80");
  ASSERT_EQ(r.status, 0) << r.out;
  RunDetached("--name app --pod web --rootfs " + member_root_ + " --bind " + www_ + ":/www",
              "busybox httpd -f -p 80 -h /www");
  RunDetached("--name shell --pod web --rootfs " + member_root_, "busybox sleep 3600");
  EXPECT_TRUE(WaitFor(
      [&] {
        r = Mp("exec shell -- busybox wget -qO- http://127.0.0.1/", 10);
        return r.status == 0;
      },
      Ms(10'000)))
      << r.out;
  EXPECT_EQ(r.out, kPage);
  EXPECT_EQ(HttpGet(port), kPage);

  ExpectJoined(InitOf("pods", "web"), {InitOf("containers", "app"), InitOf("containers", "shell")},
               {"user", "net", "ipc"}, {"mnt", "uts", "pid"});

  // The pod lists its user namespace among what it shares; the table shows
  // it as the pod's in the holder's column and every member's.
  r = Mp("pod ps --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const json pods = ParseJson(r.out);
  ASSERT_TRUE(pods.is_array() && pods.size() == 1) << r.out;
  EXPECT_THAT(pods[0].dump(), HasSubstr("user")) << r.out;
  for (const std::string command : {"pod inspect web --json", "inspect --namespaces app shell --json"}) {
    r = Mp(command);
    ASSERT_EQ(r.status, 0) << command << ": " << r.out;
    const json t = ParseJson(r.out);
    ASSERT_TRUE(t.is_object()) << r.out;
    ASSERT_EQ(t["columns"].size(), 4u) << r.out;
    EXPECT_EQ(t["columns"][1]["role"], "holder") << r.out;
    const json& user = t["namespaces"]["user"];
    EXPECT_EQ(user[0]["owner"], "host") << command;
    for (size_t i = 1; i < 4; ++i) {
      EXPECT_EQ(user[i]["owner"], "pod") << command << ": " << user.dump();
      EXPECT_EQ(user[i]["inode"], user[1]["inode"]) << command;
    }
  }

  // One /dev/shm for the pod (POSIX shared memory is files there): what
  // one member writes the other reads; pod rm removes it, with what the
  // members left in it (a link is removed, not followed).
  r = Mp("exec app -- busybox sh -c \"echo shared >/dev/shm/x && busybox mkdir /dev/shm/d && busybox chmod 0 "
         "/dev/shm/d && busybox ln -s " + www_ + "/index.html /dev/shm/link\"",
         10);
  EXPECT_EQ(r.status, 0) << r.out;
  r = Mp("exec shell -- busybox cat /dev/shm/x", 10);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "shared\n");
  // Nothing runs from it, as from a root pod's tmpfs: a copy of busybox
  // there does not execute.
  r = Mp("exec app -- busybox sh -c \"busybox cp /proc/self/exe /dev/shm/bb && /dev/shm/bb true; echo status=\\$?\"", 10);
  EXPECT_THAT(r.out, HasSubstr("status=126")) << r.out;

  // A member's own --userns is refused: it joins the pod's.
  r = Mp("run -d --name odd --pod web --userns keep-id --rootfs " + member_root_ + " -- busybox true");
  EXPECT_EQ(r.status, 125) << r.out;
  EXPECT_THAT(r.out, HasSubstr("leave --userns out"));

  r = Mp("pod rm -f web");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Sh("ls -A " + StateDir() + "/shm").out, "") << "the pod's /dev/shm is left";
  EXPECT_EQ(ReadAll(www_ + "/index.html"), kPage);
}

// `unshare --user [--map-root-user] --net sleep 60` as uid, in a forked
// child; killed and reaped by the destructor. ok() once sleep runs in a net
// namespace owned by a user namespace of uid's.
class UnsharedSleeper {
 public:
  UnsharedSleeper(uid_t uid, bool map_root) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::alarm(60);
      const std::string id = std::to_string(uid);
      const std::string reuid = "--reuid=" + id, regid = "--regid=" + id;
      if (map_root) {
        ::execlp("setpriv", "setpriv", reuid.c_str(), regid.c_str(), "--clear-groups", "unshare", "--user",
                 "--map-root-user", "--net", "sleep", "60", static_cast<char*>(nullptr));
      } else {
        ::execlp("setpriv", "setpriv", reuid.c_str(), regid.c_str(), "--clear-groups", "unshare", "--user", "--net",
                 "sleep", "60", static_cast<char*>(nullptr));
      }
      ::_exit(127);
    }
    ok_ = pid_ > 0 && WaitFor(
                          [&] {
                            return ReadAll("/proc/" + std::to_string(pid_) + "/comm") == "sleep\n" &&
                                   OwnerOf(pid_, "net").uid == static_cast<long>(uid);
                          },
                          Ms(10'000));
  }
  ~UnsharedSleeper() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool ok() const { return ok_; }
  pid_t pid() const { return pid_; }
  std::string NsPath(const std::string& type) const { return "/proc/" + std::to_string(pid_) + "/ns/" + type; }

 private:
  pid_t pid_ = -1;
  bool ok_ = false;
};

// ns:PATH of a namespace the caller made with unshare(1): joined, with the
// user namespace it belongs to (in which the run makes its own mnt, uts and
// pid namespaces), and a sysfs of that network mounted anew. Without a uid
// and gid 0 in that user namespace the run cannot become its root: a 125
// that says so.
TEST_F(RootlessJoinTest, NamespaceFileOfTheCallersOwn) {
  {
    UnsharedSleeper mine(kUser, /*map_root=*/true);
    ASSERT_TRUE(mine.ok()) << "unshare --user --map-root-user --net as uid " << kUser << " did not start";
    const ShResult r = Mp("run --net ns:" + mine.NsPath("net") + " --rootfs " + member_root_ +
                          " -- busybox sh -c \"busybox readlink /proc/self/ns/net; busybox readlink /proc/self/ns/user; "
                          "busybox ls /sys/class/net; busybox id -u\"");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(r.out, "net:[" + std::to_string(InodeOf(mine.NsPath("net"))) + "]\nuser:[" +
                         std::to_string(InodeOf(mine.NsPath("user"))) + "]\nlo\n0\n");
  }
  UnsharedSleeper unmapped(kUser, /*map_root=*/false);
  ASSERT_TRUE(unmapped.ok()) << "unshare --user --net as uid " << kUser << " did not start";
  const ShResult r = Mp("run --net ns:" + unmapped.NsPath("net") + " --rootfs " + member_root_ + " -- busybox true");
  EXPECT_EQ(r.status, 125) << r.out;
  EXPECT_THAT(r.out, HasSubstr("in the user namespace joined (user, the owner of the namespaces joined), which maps no"));
}

// What the caller may not join: 125, with the reason, before anything runs.
TEST_F(RootlessJoinTest, JoinsOfNamespacesNotOursAreRefused) {
  TempDir files, root_state;  // outlive the cleanup below
  ASSERT_EQ(::chmod(files.path().c_str(), 0755), 0);
  // Undone on every way out: the bind mounts of namespace files and
  // root's container.
  struct Cleanup {
    std::vector<std::string> mounts;
    std::string root_state;
    ~Cleanup() {
      for (const std::string& m : mounts) ::umount2(m.c_str(), MNT_DETACH);
      if (!root_state.empty()) Sh("MINIPOD_STATE_DIR=" + root_state + " " + Minipod() + " rm -f rootbox", 30);
      ReapExitedChildren();
    }
  } cleanup;

  // A network namespace of root's, bind-mounted where everyone can open it.
  const std::string root_net = files.WriteFile("root-net", "", 0644);
  ShResult r = Sh("unshare --net=" + root_net + " true");
  ASSERT_EQ(r.status, 0) << r.out;
  cleanup.mounts.push_back(root_net);
  r = Mp("run --net ns:" + root_net + " --rootfs " + member_root_ + " -- busybox true");
  EXPECT_EQ(r.status, 125) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--net ns:" + root_net + ": belongs to a user namespace made by uid 0, not by you (uid " +
                               std::to_string(kUser) + ")"));

  // One of another unprivileged user's: a net namespace made inside a user
  // namespace of kOther's, bound by root for everyone to open.
  const std::string other_net = files.WriteFile("other-net", "", 0644);
  UnsharedSleeper other(kOther, /*map_root=*/true);
  ASSERT_TRUE(other.ok()) << "uid " << kOther << " did not get a user and a net namespace";
  ASSERT_EQ(::mount(other.NsPath("net").c_str(), other_net.c_str(), nullptr, MS_BIND, nullptr), 0) << strerror(errno);
  cleanup.mounts.push_back(other_net);
  r = Mp("run --net ns:" + other_net + " --rootfs " + member_root_ + " -- busybox true");
  EXPECT_EQ(r.status, 125) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--net ns:" + other_net + ": belongs to a user namespace made by uid " +
                               std::to_string(kOther) + ", not by you (uid " + std::to_string(kUser) + ")"));

  // A container of another state directory (root's) is no name of ours.
  cleanup.root_state = root_state.path();
  r = Sh("MINIPOD_STATE_DIR=" + root_state.path() + " " + Minipod() + " run -d --name rootbox --rootfs " +
             member_root_ + " -- busybox sleep 600",
         30);
  ASSERT_EQ(r.status, 0) << r.out;
  r = Mp("run --net container:rootbox --rootfs " + member_root_ + " -- busybox true");
  EXPECT_EQ(r.status, 125) << r.out;
  EXPECT_THAT(r.out, HasSubstr("container:rootbox"));

  // Namespaces of two of our own containers (two user namespaces) cannot
  // be joined together.
  RunDetached("--name a --rootfs " + member_root_, "busybox sleep 600");
  RunDetached("--name b --rootfs " + member_root_, "busybox sleep 600");
  r = Mp("run --net container:a --ipc container:b --rootfs " + member_root_ + " -- busybox true");
  EXPECT_EQ(r.status, 125) << r.out;
  EXPECT_THAT(r.out, HasSubstr("belongs to another user namespace than"));
}

}  // namespace
}  // namespace itest
