// The compiled seccomp filters kept in a container's directory for exec
// (seccomp.bpf: magic, two counts, the instructions), on a real directory:
// round trips of hand-made and of the default programs, every truncation,
// a foreign magic, counts over the limit, links, and a write that fails.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rootfs/tree_writer.h"
#include "runtime/exec.h"
#include "sandbox/seccomp.h"
#include "tests/testing/child_report.h"

namespace runtime {
namespace {

using ::testing::HasSubstr;

constexpr size_t kHeader = 16;  // 8 bytes of magic, two uint32_t counts

bool SameFilter(const std::vector<sock_filter>& a, const std::vector<sock_filter>& b) {
  return a.size() == b.size() && (a.empty() || memcmp(a.data(), b.data(), a.size() * sizeof(sock_filter)) == 0);
}

// n instructions, each different in every field.
std::vector<sock_filter> Instructions(size_t n, uint32_t seed) {
  std::vector<sock_filter> out;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t v = seed + static_cast<uint32_t>(i) * 2654435761u;
    out.push_back(sock_filter{static_cast<uint16_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
                              v ^ 0xdeadbeef});
  }
  return out;
}

class SeccompFileTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/minipod-seccomp-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    dir_ = tmp_ + "/ctr";
    ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
    dir_fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(dir_fd_, 0);
  }
  void TearDown() override {
    if (dir_fd_ >= 0) ::close(dir_fd_);
    (void)rootfs::RemoveTree(tmp_);
  }
  std::string Path() const { return dir_ + "/" + kSeccompFile; }
  std::string ReadBytes(const std::string& path) const {
    std::string out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
  }
  bool WriteBytes(const std::string& path, const std::string& bytes) const {
    ::unlink(path.c_str());
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
    return ::close(fd) == 0 && ok;
  }
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir_.c_str());
    if (d == nullptr) return out;
    while (struct dirent* e = ::readdir(d)) {
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) out.emplace_back(e->d_name);
    }
    ::closedir(d);
    return out;
  }
  // A valid file's bytes for a program.
  std::string Encoded(const sandbox::SeccompProgram& p) {
    EXPECT_TRUE(WriteSeccompFile(dir_fd_, p).ok());
    return ReadBytes(Path());
  }
  void ExpectRefused(const std::string& bytes, const char* what) {
    ASSERT_TRUE(WriteBytes(Path(), bytes));
    absl::StatusOr<sandbox::SeccompProgram> p = ReadSeccompFile(dir_fd_);
    ASSERT_FALSE(p.ok()) << what << ": " << bytes.size() << " bytes accepted";
    EXPECT_EQ(p.status().code(), absl::StatusCode::kDataLoss) << what << ": " << p.status();
    EXPECT_THAT(std::string(p.status().message()), HasSubstr(kSeccompFile)) << what;
  }

  std::string tmp_, dir_;
  int dir_fd_ = -1;
};

TEST_F(SeccompFileTest, RoundTripsBothFilters) {
  sandbox::SeccompProgram p;
  p.filter = Instructions(37, 1);
  p.second = Instructions(5, 99);
  ASSERT_TRUE(WriteSeccompFile(dir_fd_, p).ok());
  absl::StatusOr<sandbox::SeccompProgram> back = ReadSeccompFile(dir_fd_);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(SameFilter(back->filter, p.filter));
  EXPECT_TRUE(SameFilter(back->second, p.second));
  EXPECT_EQ(ReadBytes(Path()).size(), kHeader + (37 + 5) * sizeof(sock_filter));
  struct stat st;
  ASSERT_EQ(::stat(Path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_THAT(Entries(), testing::ElementsAre(kSeccompFile));  // no temporary left
}

TEST_F(SeccompFileTest, RoundTripsEmptyAndOneSidedPrograms) {
  for (const auto& [filter, second] : {std::pair<size_t, size_t>{0, 0}, {0, 3}, {3, 0}}) {
    sandbox::SeccompProgram p;
    p.filter = Instructions(filter, 7);
    p.second = Instructions(second, 8);
    ASSERT_TRUE(WriteSeccompFile(dir_fd_, p).ok());
    absl::StatusOr<sandbox::SeccompProgram> back = ReadSeccompFile(dir_fd_);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(SameFilter(back->filter, p.filter)) << filter << "/" << second;
    EXPECT_TRUE(SameFilter(back->second, p.second)) << filter << "/" << second;
  }
}

TEST_F(SeccompFileTest, RoundTripsTheDefaultFilters) {
  absl::StatusOr<sandbox::SeccompProgram> p = sandbox::BuildSeccomp("default");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_FALSE(p->filter.empty());
  ASSERT_TRUE(WriteSeccompFile(dir_fd_, *p).ok());
  absl::StatusOr<sandbox::SeccompProgram> back = ReadSeccompFile(dir_fd_);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(SameFilter(back->filter, p->filter));
  EXPECT_TRUE(SameFilter(back->second, p->second));
}

TEST_F(SeccompFileTest, WritingAgainReplacesTheFileByRename) {
  sandbox::SeccompProgram p;
  p.filter = Instructions(4, 1);
  ASSERT_TRUE(WriteSeccompFile(dir_fd_, p).ok());
  struct stat before;
  ASSERT_EQ(::stat(Path().c_str(), &before), 0);
  p.filter = Instructions(2, 2);
  ASSERT_TRUE(WriteSeccompFile(dir_fd_, p).ok());
  struct stat after;
  ASSERT_EQ(::stat(Path().c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);
  absl::StatusOr<sandbox::SeccompProgram> back = ReadSeccompFile(dir_fd_);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(SameFilter(back->filter, p.filter));
}

TEST_F(SeccompFileTest, EveryTruncationIsRefused) {
  sandbox::SeccompProgram p;
  p.filter = Instructions(3, 1);
  p.second = Instructions(2, 2);
  const std::string bytes = Encoded(p);
  ASSERT_EQ(bytes.size(), kHeader + 5 * sizeof(sock_filter));
  for (size_t n = 0; n < bytes.size(); ++n) ExpectRefused(bytes.substr(0, n), "truncated");
  ExpectRefused(bytes.substr(0, kHeader + 1), "truncated");
  ASSERT_TRUE(WriteBytes(Path(), bytes.substr(0, kHeader + 2 * sizeof(sock_filter))));
  EXPECT_THAT(std::string(ReadSeccompFile(dir_fd_).status().message()), HasSubstr("truncated"));
}

TEST_F(SeccompFileTest, AForeignMagicIsRefused) {
  sandbox::SeccompProgram p;
  p.filter = Instructions(2, 1);
  const std::string bytes = Encoded(p);
  for (size_t i = 0; i < 8; ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    ExpectRefused(bad, "magic");
    EXPECT_THAT(std::string(ReadSeccompFile(dir_fd_).status().message()), HasSubstr("not a filter file"));
  }
  // A file of another program altogether.
  ExpectRefused("\x7f" "ELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00", "ELF header");
  ExpectRefused(std::string(64, '\0'), "zeros");
}

std::string WithCounts(const std::string& bytes, uint32_t filter, uint32_t second) {
  std::string out = bytes;
  memcpy(&out[8], &filter, 4);
  memcpy(&out[12], &second, 4);
  return out;
}

// The counts are checked before anything is allocated: a file claiming
// four billion instructions is refused at once.
TEST_F(SeccompFileTest, CountsOverTheLimitAreRefused) {
  sandbox::SeccompProgram p;
  p.filter = Instructions(2, 1);
  const std::string bytes = Encoded(p);
  for (const auto& [filter, second] :
       {std::pair<uint32_t, uint32_t>{65537, 0}, {0, 65537}, {UINT32_MAX, 0}, {0, UINT32_MAX}, {UINT32_MAX, UINT32_MAX},
        {0x80000000u, 0x80000000u}}) {
    ExpectRefused(WithCounts(bytes, filter, second), "count");
    EXPECT_THAT(std::string(ReadSeccompFile(dir_fd_).status().message()), HasSubstr("not a filter file"));
  }
  // Counts larger than the data: truncated.
  ExpectRefused(WithCounts(bytes, 3, 0), "count past the end");
  ExpectRefused(WithCounts(bytes, 2, 1), "count past the end");
  ExpectRefused(WithCounts(bytes, 65536, 65536), "count at the limit, no data");
  // Counts that shift the split between the two filters are the file's
  // own business: the instructions are the same bytes.
  ASSERT_TRUE(WriteBytes(Path(), WithCounts(bytes, 1, 1)));
  absl::StatusOr<sandbox::SeccompProgram> back = ReadSeccompFile(dir_fd_);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->filter.size(), 1u);
  EXPECT_EQ(back->second.size(), 1u);
}

TEST_F(SeccompFileTest, AMissingFileIsNotFound) {
  absl::StatusOr<sandbox::SeccompProgram> p = ReadSeccompFile(dir_fd_);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound) << p.status();
  EXPECT_THAT(std::string(p.status().message()), HasSubstr(kSeccompFile));
}

TEST_F(SeccompFileTest, ALinkInPlaceOfTheFileIsNotFollowed) {
  sandbox::SeccompProgram p;
  p.filter = Instructions(2, 1);
  const std::string bytes = Encoded(p);
  // A valid filter file elsewhere, linked in: not read.
  const std::string elsewhere = tmp_ + "/planted.bpf";
  ASSERT_TRUE(WriteBytes(elsewhere, bytes));
  ASSERT_EQ(::unlink(Path().c_str()), 0);
  ASSERT_EQ(::symlink(elsewhere.c_str(), Path().c_str()), 0);
  EXPECT_FALSE(ReadSeccompFile(dir_fd_).ok());
  // Writing replaces the link itself; the file it pointed to is untouched.
  p.filter = Instructions(6, 3);
  ASSERT_TRUE(WriteSeccompFile(dir_fd_, p).ok());
  struct stat st;
  ASSERT_EQ(::lstat(Path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(ReadBytes(elsewhere), bytes);
  // A link where the temporary goes is not written through either.
  const std::string tmp_name = dir_ + "/" + kSeccompFile + ".tmp-" + std::to_string(::getpid());
  ASSERT_EQ(::symlink(elsewhere.c_str(), tmp_name.c_str()), 0);
  EXPECT_FALSE(WriteSeccompFile(dir_fd_, p).ok());
  EXPECT_EQ(ReadBytes(elsewhere), bytes);
}

TEST_F(SeccompFileTest, ADirectoryInPlaceOfTheFileIsRefused) {
  ASSERT_EQ(::mkdir(Path().c_str(), 0700), 0);
  EXPECT_FALSE(ReadSeccompFile(dir_fd_).ok());
}

// A write that fails (EFBIG under RLIMIT_FSIZE, in a child so the limit
// dies with it) leaves the previous file whole and no temporary.
TEST_F(SeccompFileTest, AFailedWriteLeavesTheOldFileAndNoTemporary) {
  sandbox::SeccompProgram p;
  p.filter = Instructions(2, 1);
  const std::string before = Encoded(p);
  struct Report {
    bool ok;
    char message[256];
  };
  std::optional<Report> r = testing_util::RunInChild<Report>([&](Report& out) {
    ::signal(SIGXFSZ, SIG_IGN);
    const struct rlimit lim = {kHeader + 8, kHeader + 8};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    sandbox::SeccompProgram big;
    big.filter = Instructions(100, 5);
    const absl::Status s = WriteSeccompFile(dir_fd_, big);
    out.ok = s.ok();
    snprintf(out.message, sizeof out.message, "%s", std::string(s.message()).c_str());
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->ok);
  EXPECT_THAT(std::string(r->message), HasSubstr("write(seccomp.bpf)"));
  EXPECT_THAT(Entries(), testing::ElementsAre(kSeccompFile));
  EXPECT_EQ(ReadBytes(Path()), before);
}

}  // namespace
}  // namespace runtime
