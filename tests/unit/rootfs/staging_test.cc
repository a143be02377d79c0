// Staging directories: private, gone with their object, and the ones a
// killed process left behind removed by the next Create(), while a live
// one's stays.
#include "rootfs/staging.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rootfs/tree_writer.h"

namespace rootfs {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

class StagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = absl::StrCat(::testing::TempDir(), "/staging.XXXXXX");
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    tmp_ = t;
    const char* old = ::getenv("TMPDIR");
    if (old != nullptr) old_tmpdir_ = old;
    had_tmpdir_ = old != nullptr;
    ::setenv("TMPDIR", tmp_.c_str(), 1);
  }
  void TearDown() override {
    if (had_tmpdir_) {
      ::setenv("TMPDIR", old_tmpdir_.c_str(), 1);
    } else {
      ::unsetenv("TMPDIR");
    }
    (void)RemoveTree(tmp_);
  }

  // A child makes a staging directory, writes a file in it and dies of
  // SIGKILL with it still there; returns its path.
  std::string LeftByAKilledProcess() {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      absl::StatusOr<Staging> s = Staging::Create();
      if (!s.ok() || !s->WriteFile("f", "data", 0644).ok()) ::_exit(1);
      const std::string dir = s->dir();
      (void)!::write(fds[1], dir.data(), dir.size());
      ::close(fds[1]);
      ::kill(::getpid(), SIGKILL);
      ::_exit(2);
    }
    ::close(fds[1]);
    char buf[512];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    ::close(fds[0]);
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

  std::string tmp_, old_tmpdir_;
  bool had_tmpdir_ = false;
};

TEST_F(StagingTest, PrivateAndGoneWithItsObject) {
  std::string dir;
  {
    absl::StatusOr<Staging> s = Staging::Create();
    ASSERT_TRUE(s.ok()) << s.status();
    dir = s->dir();
    EXPECT_EQ(dir.rfind(tmp_ + "/minipod-rootfs.", 0), 0u) << dir;
    struct stat st;
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    absl::StatusOr<std::string> f = s->WriteFile("a/b", "x", 0600);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_TRUE(Exists(*f));
  }
  EXPECT_FALSE(Exists(dir));
}

TEST_F(StagingTest, TheNextCreateRemovesWhatAKilledProcessLeft) {
  const std::string left = LeftByAKilledProcess();
  ASSERT_FALSE(left.empty());
  ASSERT_TRUE(Exists(left + "/.lock"));
  absl::StatusOr<Staging> live = Staging::Create();
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_FALSE(Exists(left)) << "a killed process's staging directory is still there";
  // A live one is not swept, by another Create or a sweep of its own.
  absl::StatusOr<Staging> second = Staging::Create();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(Staging::SweepStale(tmp_), 0);
  EXPECT_TRUE(Exists(live->dir()));
  EXPECT_TRUE(Exists(second->dir()));
}

TEST_F(StagingTest, LeavesAloneWhatIsNotAStaleDirectoryOfOurs) {
  // No lock file (made before it had one), a wrong mode, another name, a
  // link to a stale directory: none is touched.
  const std::string no_lock = tmp_ + "/minipod-rootfs.AAAAAA";
  ASSERT_EQ(::mkdir(no_lock.c_str(), 0700), 0);
  const std::string left = LeftByAKilledProcess();
  ASSERT_FALSE(left.empty());
  const std::string open_mode = tmp_ + "/minipod-rootfs.BBBBBB";
  ASSERT_EQ(::rename(left.c_str(), open_mode.c_str()), 0);
  ASSERT_EQ(::chmod(open_mode.c_str(), 0755), 0);
  const std::string other = LeftByAKilledProcess();
  const std::string renamed = tmp_ + "/other-rootfs.CCCCCC";
  ASSERT_EQ(::rename(other.c_str(), renamed.c_str()), 0);
  const std::string target = LeftByAKilledProcess();
  const std::string moved = tmp_ + "/elsewhere";
  ASSERT_EQ(::rename(target.c_str(), moved.c_str()), 0);
  ASSERT_EQ(::symlink(moved.c_str(), (tmp_ + "/minipod-rootfs.DDDDDD").c_str()), 0);
  EXPECT_EQ(Staging::SweepStale(tmp_), 0);
  for (const std::string& p : {no_lock, open_mode, renamed, moved + "/.lock"}) EXPECT_TRUE(Exists(p)) << p;
}

// Another user's stale directory, and a stale directory of ours whose lock
// file another user planted: both left alone (root only: chown).
TEST_F(StagingTest, LeavesAloneWhatAnotherUserOwns) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give files to another user (chown)";
  const std::string theirs = LeftByAKilledProcess();
  ASSERT_FALSE(theirs.empty());
  ASSERT_EQ(::chown(theirs.c_str(), 65534, 65534), 0);
  const std::string planted = LeftByAKilledProcess();
  ASSERT_FALSE(planted.empty());
  ASSERT_EQ(::chown((planted + "/.lock").c_str(), 65534, 65534), 0);
  EXPECT_EQ(Staging::SweepStale(tmp_), 0);
  EXPECT_TRUE(Exists(theirs + "/.lock"));
  EXPECT_TRUE(Exists(planted + "/.lock"));
}

}  // namespace
}  // namespace rootfs
