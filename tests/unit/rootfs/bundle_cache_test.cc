// The --bundle cache without root: leftovers of a SIGKILLed build are
// reaped and live ones kept (real flock, real kill), parallel builds of one
// bundle into an empty cache all succeed, and the cache directory is made
// private.
#include "rootfs/bundle_cache.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rootfs/tree_writer.h"

namespace rootfs {
namespace {

using ::testing::HasSubstr;

class BundleCacheTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/minipod-bundle-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (pid_t pid : children_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    (void)RemoveTree(dir_);
    ::unsetenv("MINIPOD_CACHE");
  }
  // A child that holds an flock on path until killed; returns once it does.
  pid_t HoldLock(const std::string& path) {
    int p[2];
    if (::pipe(p) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
      if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(1);
      (void)!::write(p[1], "x", 1);
      ::alarm(60);  // bounded even if the test dies
      for (;;) ::pause();
    }
    ::close(p[1]);
    char c;
    const bool ok = ::read(p[0], &c, 1) == 1;
    ::close(p[0]);
    if (pid > 0) children_.push_back(pid);
    return ok ? pid : -1;
  }
  std::string dir_;
  std::vector<pid_t> children_;
};

bool Exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

TEST_F(BundleCacheTest, ReapsOnlyTheLeftoversOfDeadBuilders) {
  const std::string live = dir_ + "/abc.tmp-live00", dead = dir_ + "/abc.tmp-dead00";
  const std::string done = dir_ + "/abc";
  for (const std::string& d : {live, dead, done, dead + "/sub"}) ASSERT_EQ(::mkdir(d.c_str(), 0700), 0) << d;
  const pid_t live_pid = HoldLock(live);
  ASSERT_GT(live_pid, 0);
  const pid_t dead_pid = HoldLock(dead);
  ASSERT_GT(dead_pid, 0);
  // While both builders run, nothing is reaped.
  absl::StatusOr<int> n = ReapStaleTemporaries(dir_);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0);
  ASSERT_EQ(::kill(dead_pid, SIGKILL), 0);
  ASSERT_EQ(::waitpid(dead_pid, nullptr, 0), dead_pid);
  n = ReapStaleTemporaries(dir_);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  EXPECT_FALSE(Exists(dead));
  EXPECT_TRUE(Exists(live));
  EXPECT_TRUE(Exists(done));
}

TEST_F(BundleCacheTest, ParallelBuildsOfOneBundleAllSucceed) {
  const std::string cache = dir_ + "/cache";
  ASSERT_EQ(::setenv("MINIPOD_CACHE", cache.c_str(), 1), 0);
  constexpr int kRuns = 20;
  std::vector<pid_t> pids;
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  for (int i = 0; i < kRuns; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(p[1]);
      char c;
      (void)!::read(p[0], &c, 1);  // start together
      ::alarm(60);
      absl::StatusOr<std::string> root = BundleRootfs({"/bin/true"});
      if (!root.ok()) {
        fprintf(stderr, "%s\n", std::string(root.status().message()).c_str());
        ::_exit(1);
      }
      ::_exit(Exists(*root + "/usr/bin/true") || Exists(*root + "/bin/true") ? 0 : 2);
    }
    pids.push_back(pid);
  }
  ::close(p[0]);
  ::close(p[1]);  // EOF: everybody starts
  int failed = 0;
  for (pid_t pid : pids) {
    int ws = 0;
    ASSERT_EQ(::waitpid(pid, &ws, 0), pid);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) ++failed;
  }
  EXPECT_EQ(failed, 0);
  // One tree, no temporaries left, a private cache.
  std::string ls;
  FILE* f = ::popen(("ls -A " + cache + "/bundles").c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) ls.append(buf, n);
  ::pclose(f);
  EXPECT_EQ(std::count(ls.begin(), ls.end(), '\n'), 1) << ls;
  EXPECT_THAT(ls, ::testing::Not(HasSubstr(".tmp-")));
  struct stat st;
  ASSERT_EQ(::stat(cache.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(BundleCacheTest, NoSharedFallbackWithoutACacheVariable) {
  if (::geteuid() == 0) GTEST_SKIP() << "root's cache is /var/cache/minipod; this checks a user's";
  const char* keep[] = {"HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"};
  std::vector<std::pair<std::string, std::string>> saved;
  for (const char* k : keep) {
    if (const char* v = ::getenv(k)) saved.emplace_back(k, v);
    ::unsetenv(k);
  }
  absl::StatusOr<std::string> dir = BundleCacheDir();
  for (const auto& [k, v] : saved) ::setenv(k.c_str(), v.c_str(), 1);
  ASSERT_FALSE(dir.ok()) << *dir;
  EXPECT_THAT(dir.status().message(), HasSubstr("MINIPOD_CACHE"));
}

TEST_F(BundleCacheTest, RefusesADirectoryOthersCanWrite) {
  const std::string open_dir = dir_ + "/open";
  ASSERT_EQ(::mkdir(open_dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(open_dir.c_str(), 0777), 0);
  absl::StatusOr<common::UniqueFd> fd = OpenPrivateDir(open_dir);
  ASSERT_FALSE(fd.ok());
  EXPECT_THAT(fd.status().message(), HasSubstr(open_dir + ": writable by others"));
  // Below a sticky shared directory, a directory of one's own is fine.
  ASSERT_EQ(::chmod(open_dir.c_str(), 01777), 0);
  fd = OpenPrivateDir(open_dir + "/mine");
  ASSERT_TRUE(fd.ok()) << fd.status();
}

}  // namespace
}  // namespace rootfs
