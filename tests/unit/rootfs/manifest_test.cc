#include "rootfs/manifest.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rootfs/tree_writer.h"

namespace rootfs {
namespace {

using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/minipod-manifest-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { (void)RemoveTree(path_); }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& rel, const std::string& text, mode_t mode = 0644) {
    const std::string p = path_ + "/" + rel;
    std::ofstream(p) << text;
    chmod(p.c_str(), mode);
    return p;
  }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& p) {
  std::string out;
  const int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<missing>";
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

TEST(NormalizeImagePath, CollapsesAndRefuses) {
  EXPECT_EQ(*NormalizeImagePath("/usr//lib/./x/"), "/usr/lib/x");
  EXPECT_EQ(*NormalizeImagePath("/"), "/");
  EXPECT_EQ(*NormalizeImagePath("//./"), "/");
  EXPECT_FALSE(NormalizeImagePath("usr/lib").ok());
  EXPECT_FALSE(NormalizeImagePath("").ok());
  EXPECT_FALSE(NormalizeImagePath("/usr/../etc").ok());
  EXPECT_FALSE(NormalizeImagePath(absl::string_view("/a\0b", 4)).ok());
}

TEST(ResolveLinkText, RelativeAbsoluteAndDotDot) {
  EXPECT_EQ(ResolveLinkText("/usr/lib64", "ld.so"), "/usr/lib64/ld.so");
  EXPECT_EQ(ResolveLinkText("/", "usr/lib64"), "/usr/lib64");
  EXPECT_EQ(ResolveLinkText("/usr/lib64", "/lib/x/ld.so"), "/lib/x/ld.so");
  EXPECT_EQ(ResolveLinkText("/usr/lib64", "../lib/./x"), "/usr/lib/x");
  EXPECT_EQ(ResolveLinkText("/a", "../../../b"), "/b") << ".. stops at /";
}

TEST(Manifest, ParentsAreImpliedAndConflictsAreErrors) {
  Manifest m;
  ASSERT_TRUE(m.AddFile("/usr/bin/x", "/host/x", 0755).ok());
  ASSERT_TRUE(m.entries().count("/usr"));
  ASSERT_TRUE(m.entries().count("/usr/bin"));
  EXPECT_EQ(m.entries().at("/usr").kind, Entry::Kind::kDir);
  EXPECT_TRUE(m.AddFile("/usr/bin/x", "/host/x", 0755).ok()) << "identical again is fine";
  absl::Status s = m.AddFile("/usr/bin/x", "/other/x", 0755);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(s.message(), HasSubstr("/usr/bin/x"));
  EXPECT_THAT(s.message(), HasSubstr("/other/x"));
  ASSERT_TRUE(m.AddSymlink("/lib", "usr/lib").ok());
  s = m.AddFile("/lib/libc.so.6", "/host/libc", 0644);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("/lib is a symlink to usr/lib, not a directory"));
  EXPECT_TRUE(m.AddDir("/usr", 0700).ok()) << "an explicit mode beats an implied one";
  EXPECT_EQ(m.entries().at("/usr").mode, 0700u);
  EXPECT_EQ(m.file_count(), 1u);
}

TEST(Manifest, HostPathMirrorsSymlinkChainsAndSymlinkedDirectories) {
  TempDir t;
  const std::string d = t.path();
  ASSERT_EQ(mkdir((d + "/usr").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((d + "/usr/lib").c_str(), 0755), 0);
  t.Write("usr/lib/libfoo.so.1.2.3", "ELF", 0644);
  ASSERT_EQ(symlink("libfoo.so.1.2.3", (d + "/usr/lib/libfoo.so.1").c_str()), 0);
  ASSERT_EQ(symlink("usr/lib", (d + "/lib").c_str()), 0);           // merged /usr
  ASSERT_EQ(symlink((d + "/lib/libfoo.so.1").c_str(), (d + "/abs").c_str()), 0);

  Manifest m;
  auto real = m.AddHostPath(d + "/abs");
  ASSERT_TRUE(real.ok()) << real.status();
  EXPECT_EQ(*real, d + "/usr/lib/libfoo.so.1.2.3");
  const auto& e = m.entries();
  ASSERT_TRUE(e.count(d + "/abs"));
  EXPECT_EQ(e.at(d + "/abs").target, d + "/lib/libfoo.so.1") << "link text kept as on the host";
  ASSERT_TRUE(e.count(d + "/lib"));
  EXPECT_EQ(e.at(d + "/lib").kind, Entry::Kind::kSymlink);
  EXPECT_EQ(e.at(d + "/usr/lib/libfoo.so.1").target, "libfoo.so.1.2.3");
  EXPECT_EQ(e.at(d + "/usr/lib/libfoo.so.1.2.3").kind, Entry::Kind::kFile);
  EXPECT_EQ(e.at(d + "/usr/lib/libfoo.so.1.2.3").mode, 0644u);
  EXPECT_EQ(m.file_count(), 1u) << "each file stored once";

  EXPECT_FALSE(m.AddHostPath(d + "/missing").ok());
  ASSERT_EQ(symlink("loop", (d + "/loop").c_str()), 0);
  auto loop = m.AddHostPath(d + "/loop");
  EXPECT_FALSE(loop.ok());
  EXPECT_THAT(loop.status().message(), HasSubstr("too many levels of symbolic links"));
}

TEST(Manifest, DotDotIsTakenPhysicallyAsTheKernelDoes) {
  TempDir t;
  const std::string d = t.path();
  for (const char* dir : {"/jdk", "/jdk/bin", "/jdk/lib", "/usr"}) ASSERT_EQ(mkdir((d + dir).c_str(), 0755), 0);
  t.Write("jdk/lib/libjli.so", "ELF", 0644);
  ASSERT_EQ(symlink("../jdk/bin", (d + "/usr/bin").c_str()), 0);
  // usr/bin/.. is jdk, not usr: lexical ".." would look for usr/lib.
  Manifest m;
  auto real = m.AddHostPath(d + "/usr/bin/../lib/libjli.so");
  ASSERT_TRUE(real.ok()) << real.status();
  EXPECT_EQ(*real, d + "/jdk/lib/libjli.so");
  EXPECT_EQ(m.entries().at(d + "/usr/bin").kind, Entry::Kind::kSymlink);
  EXPECT_EQ(m.entries().at(d + "/jdk/lib/libjli.so").kind, Entry::Kind::kFile);
  EXPECT_FALSE(m.entries().contains(d + "/usr/lib"));
  // ".." above the root stays at the root, and "." is nothing.
  auto up = m.AddHostPath("/../../" + d.substr(1) + "/./jdk/lib/libjli.so");
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(*up, d + "/jdk/lib/libjli.so");
  auto notdir = m.AddHostPath(d + "/jdk/lib/libjli.so/x");
  ASSERT_FALSE(notdir.ok());
  EXPECT_THAT(notdir.status().message(), HasSubstr("Not a directory"));
}

TEST(WriteTree, CopiesAcrossFileSystems) {
  TempDir t;
  const std::string src = t.Write("data", std::string(200000, 'x'), 0640);
  struct stat a, b;
  ASSERT_EQ(stat(src.c_str(), &a), 0);
  if (stat("/dev/shm", &b) != 0 || a.st_dev == b.st_dev) GTEST_SKIP() << "no second file system at /dev/shm";
  char tmpl[] = "/dev/shm/minipod-manifest-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string out = std::string(tmpl) + "/tree";
  Manifest m;
  ASSERT_TRUE(m.AddFile("/d/data", src, 0640).ok());
  auto stats = WriteTree(m, out, false);
  EXPECT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(ReadFile(out + "/d/data"), std::string(200000, 'x'));
  ASSERT_TRUE(RemoveTree(tmpl).ok());
}

TEST(WriteTree, BuildsAtomicallyAndRefusesToOverwrite) {
  TempDir src, dst;
  const std::string f = src.Write("tool", "#!/bin/sh\necho hi\n", 0755);
  ASSERT_EQ(symlink("tool", (src.path() + "/tool-link").c_str()), 0);
  Manifest m;
  ASSERT_TRUE(m.AddHostPath(src.path() + "/tool-link").ok());
  ASSERT_TRUE(m.AddDir("/ro", 0555).ok());
  ASSERT_TRUE(m.AddFile("/ro/inside", f, 0600).ok());
  const std::string out = dst.path() + "/tree";
  auto stats = WriteTree(m, out, false);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->files, 2u);
  EXPECT_EQ(stats->bytes, 2 * std::string("#!/bin/sh\necho hi\n").size());
  EXPECT_EQ(ReadFile(out + src.path() + "/tool"), "#!/bin/sh\necho hi\n");
  struct stat st;
  ASSERT_EQ(lstat((out + src.path() + "/tool-link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(stat((out + src.path() + "/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(stat((out + "/ro").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555u);
  ASSERT_EQ(stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);

  // Refused without replace; OUT untouched and no temporary left behind.
  Manifest other;
  ASSERT_TRUE(other.AddDir("/new").ok());
  auto again = WriteTree(other, out, false);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(again.status().message(), HasSubstr("--force"));
  EXPECT_EQ(access((out + "/ro/inside").c_str(), F_OK), 0);

  // Replaced whole with replace.
  ASSERT_TRUE(WriteTree(other, out, true).ok());
  EXPECT_EQ(access((out + "/new").c_str(), F_OK), 0);
  EXPECT_NE(access((out + "/ro").c_str(), F_OK), 0);

  // A failure midway (a missing source) leaves OUT as it was.
  Manifest broken;
  ASSERT_TRUE(broken.AddFile("/a", src.path() + "/does-not-exist", 0644).ok());
  auto failed = WriteTree(broken, out, true);
  EXPECT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("does-not-exist"));
  EXPECT_EQ(access((out + "/new").c_str(), F_OK), 0);
  int leftovers = 0;
  DIR* dir = opendir(dst.path().c_str());
  ASSERT_NE(dir, nullptr);
  while (struct dirent* d = readdir(dir)) leftovers += std::string(d->d_name).rfind("tree.tmp-", 0) == 0;
  closedir(dir);
  EXPECT_EQ(leftovers, 0) << "no temporary tree left behind";
}

TEST(ResolveInImage, FollowsTheImagesOwnLinksInsideIt) {
  Manifest m;
  ASSERT_TRUE(m.AddSymlink("/bin", "usr/bin").ok());
  ASSERT_TRUE(m.AddSymlink("/lib64", "/usr/lib64").ok());
  ASSERT_TRUE(m.AddSymlink("/usr/lib64/up", "../../../../etc").ok());
  ASSERT_TRUE(m.AddSymlink("/loop", "loop").ok());
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"/bin/tool", "/usr/bin/tool"},
      {"/bin", "/usr/bin"},
      {"/lib64/x.so", "/usr/lib64/x.so"},
      // ".." in a link never climbs above the image's root.
      {"/lib64/up/passwd", "/etc/passwd"},
      {"/opt/new/file", "/opt/new/file"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> r = ResolveInImage(m, c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status();
    EXPECT_EQ(*r, c.out) << c.in;
  }
  EXPECT_THAT(ResolveInImage(m, "/loop/x").status().message(), HasSubstr("too many levels"));
  EXPECT_FALSE(ResolveInImage(m, "relative").ok());
}

}  // namespace
}  // namespace rootfs
