#include "rootfs/archive_writer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rootfs {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::string& p) {
  std::string out;
  const int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<missing>";
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "<popen failed>";
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  pclose(p);
  return out;
}

class ArchiveWriterTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/minipod-archive-XXXXXX";
    dir_ = mkdtemp(tmpl);
    src_ = dir_ + "/hello";
    const int fd = open(src_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0755);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, "#!/bin/sh\necho hello\n", 21), 21);
    close(fd);
    chmod(src_.c_str(), 0755);
    ASSERT_TRUE(m_.AddFile("/bin/hello", src_, 0755).ok());
    ASSERT_TRUE(m_.AddSymlink("/sbin", "bin").ok());
    ASSERT_TRUE(m_.AddCharDevice("/dev/console", 0600, 5, 1).ok());
    ASSERT_TRUE(m_.AddDir("/tmp", 01777).ok());
  }
  void TearDown() override { (void)RemoveTree(dir_); }

  std::string dir_, src_;
  Manifest m_;
};

TEST_F(ArchiveWriterTest, CpioIsReproducibleAndReadableByCpio) {
  ArchiveOptions o;
  const std::string a = dir_ + "/a.cpio", b = dir_ + "/b.cpio";
  auto s = WriteArchive(m_, a, o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->files, 1u);
  EXPECT_EQ(s->bytes, 21u);
  // A second build, with the source touched, gives the same bytes.
  struct timespec times[2] = {{12345, 0}, {12345, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, src_.c_str(), times, 0), 0);
  ASSERT_TRUE(WriteArchive(m_, b, o).ok());
  EXPECT_EQ(ReadFile(a), ReadFile(b));
  EXPECT_EQ(ReadFile(a).substr(0, 6), "070701") << "newc magic";
  const std::string listing = Shell("cpio -itv < " + a + " 2>/dev/null");
  EXPECT_THAT(listing, HasSubstr("bin/hello"));
  EXPECT_THAT(listing, HasSubstr("sbin -> bin"));
  EXPECT_THAT(listing, HasSubstr("crw-------"));
  EXPECT_THAT(listing, HasSubstr("dev/console"));
  EXPECT_THAT(listing, HasSubstr("drwxrwxrwt"));
  EXPECT_THAT(listing, HasSubstr("1970")) << "mtime 0 by default";
}

TEST_F(ArchiveWriterTest, TarGzipAndZstdAreReproducibleAndExtract) {
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd, Compression::kXz}) {
    ArchiveOptions o;
    o.format = ArchiveFormat::kTar;
    o.compression = c;
    o.mtime = 1700000000;
    const std::string a = dir_ + "/a.tar", b = dir_ + "/b.tar";
    ASSERT_TRUE(WriteArchive(m_, a, o).ok());
    o.replace = true;
    ASSERT_TRUE(WriteArchive(m_, b, o).ok());
    EXPECT_EQ(ReadFile(a), ReadFile(b)) << static_cast<int>(c);
    if (c == Compression::kGzip) {
      // Two builds a second apart must agree too: no build time in the
      // gzip header (MTIME, bytes 4-7).
      EXPECT_EQ(ReadFile(a).substr(4, 4), std::string(4, '\0'));
    }
    const std::string listing = Shell("tar -tvf " + a + " 2>&1");
    EXPECT_THAT(listing, HasSubstr(" 0/0 ")) << listing;
    EXPECT_THAT(listing, HasSubstr("bin/hello")) << listing;
    EXPECT_THAT(listing, HasSubstr("2023-11-14")) << listing;
    ASSERT_EQ(unlink(a.c_str()), 0);
    ASSERT_EQ(unlink(b.c_str()), 0);
  }
}

TEST_F(ArchiveWriterTest, ExistingOutputAndFailuresLeaveNothingHalfWritten) {
  const std::string a = dir_ + "/out.cpio";
  ArchiveOptions o;
  ASSERT_TRUE(WriteArchive(m_, a, o).ok());
  const std::string before = ReadFile(a);
  auto again = WriteArchive(m_, a, o);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  Manifest broken;
  ASSERT_TRUE(broken.AddFile("/x", dir_ + "/missing", 0644).ok());
  o.replace = true;
  auto failed = WriteArchive(broken, a, o);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("missing"));
  EXPECT_EQ(ReadFile(a), before) << "the old archive stays";
  EXPECT_EQ(Shell("ls " + dir_ + " | grep -c tmp-"), "0\n") << "no temporary left behind";
}

TEST(ParseCompression, NamesAndErrors) {
  EXPECT_EQ(*ParseCompression("gzip"), Compression::kGzip);
  EXPECT_EQ(*ParseCompression("zstd"), Compression::kZstd);
  EXPECT_EQ(*ParseCompression("xz"), Compression::kXz);
  EXPECT_EQ(*ParseCompression("none"), Compression::kNone);
  auto bad = ParseCompression("bz2");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("'bz2'"));
}

}  // namespace
}  // namespace rootfs
