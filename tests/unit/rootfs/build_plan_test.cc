#include "rootfs/build_plan.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rootfs/tree_writer.h"

namespace rootfs {
namespace {

using ::testing::HasSubstr;
using Kind = OutputSpec::Kind;

TEST(ChooseOutput, FromTheSuffix) {
  struct Case {
    const char* out;
    Kind kind;
    Compression c;
  } cases[] = {
      {"out", Kind::kDir, Compression::kNone},
      {"out/", Kind::kDir, Compression::kNone},
      {"a.cpio", Kind::kCpio, Compression::kNone},
      {"a.cpio.gz", Kind::kCpio, Compression::kGzip},
      {"a.cpio.zst", Kind::kCpio, Compression::kZstd},
      {"a.cpio.xz", Kind::kCpio, Compression::kXz},
      {"a.tar", Kind::kTar, Compression::kNone},
      {"a.tgz", Kind::kTar, Compression::kGzip},
      {"a.tar.gz", Kind::kTar, Compression::kGzip},
      {"a.tar.zst", Kind::kTar, Compression::kZstd},
      {"/x/y.tar.xz", Kind::kTar, Compression::kXz},
      {".tar", Kind::kDir, Compression::kNone},  // a name, not a suffix
      {"a.gz", Kind::kDir, Compression::kNone},  // ambiguous: not guessed
  };
  for (const Case& c : cases) {
    auto s = ChooseOutput(c.out, "", "");
    ASSERT_TRUE(s.ok()) << c.out << ": " << s.status();
    EXPECT_EQ(s->kind, c.kind) << c.out;
    EXPECT_EQ(s->compression, c.c) << c.out;
  }
}

TEST(ChooseOutput, FlagsOverrideOrConflict) {
  auto s = ChooseOutput("image", "cpio", "zstd");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, Kind::kCpio);
  EXPECT_EQ(s->compression, Compression::kZstd);
  s = ChooseOutput("a.cpio.gz", "cpio", "");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->compression, Compression::kGzip);
  EXPECT_EQ(ChooseOutput("layout", "oci", "").value().kind, Kind::kOci);

  struct Bad {
    const char *out, *format, *compress, *message;
  } bad[] = {
      {"a.tar", "cpio", "", "ends in '.tar' but --format is cpio"},
      {"a.cpio.gz", "", "xz", "ends in '.cpio.gz' but --compress is xz"},
      {"dir", "", "gzip", "--compress applies to cpio and tar output only"},
      {"dir", "zip", "", "unknown format 'zip'"},
      {"a.cpio", "", "lz4", "unknown compression 'lz4'"},
  };
  for (const Bad& b : bad) {
    auto r = ChooseOutput(b.out, b.format, b.compress);
    ASSERT_FALSE(r.ok()) << b.out;
    EXPECT_THAT(r.status().message(), HasSubstr(b.message));
  }
}

TEST(ParseAddSpec, SourceAndDestination) {
  auto a = ParseAddSpec("/etc/hosts");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->source, "/etc/hosts");
  EXPECT_EQ(a->dest, "/etc/hosts");
  a = ParseAddSpec("/etc/hosts:/etc//x/");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->dest, "/etc/x");
  EXPECT_FALSE(ParseAddSpec("").ok());
  EXPECT_FALSE(ParseAddSpec(":/x").ok());
  EXPECT_FALSE(ParseAddSpec("/a:relative").ok());
  EXPECT_FALSE(ParseAddSpec("/a:/../b").ok());
  EXPECT_FALSE(ParseAddSpec("does-not-exist-here").ok()) << "relative source must exist";
}

TEST(AddHostTree, CopiesFilesDirsAndLinksInOrder) {
  char tmpl[] = "/tmp/minipod-tree-XXXXXX";
  const std::string d = mkdtemp(tmpl);
  ASSERT_EQ(mkdir((d + "/sub").c_str(), 0750), 0);
  ASSERT_EQ(symlink("sub", (d + "/link").c_str()), 0);
  FILE* f = fopen((d + "/sub/file").c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("x", f);
  fclose(f);
  Manifest m;
  ASSERT_TRUE(AddHostTree(m, d, "/data").ok());
  const auto& e = m.entries();
  ASSERT_TRUE(e.count("/data/sub/file"));
  EXPECT_EQ(e.at("/data/sub").mode, 0750u);
  EXPECT_EQ(e.at("/data/link").kind, Entry::Kind::kSymlink);
  EXPECT_EQ(e.at("/data/link").target, "sub");
  auto bad = AddHostTree(m, "/dev/null", "/null");
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(bad.message(), HasSubstr("/dev/null: not a regular file"));
  (void)RemoveTree(d);
}

TEST(AddInitSkeleton, WhatAnInitramfsNeeds) {
  Manifest m;
  ASSERT_TRUE(m.AddSymlink("/sbin", "usr/sbin").ok());
  ASSERT_TRUE(AddInitSkeleton(m, "/bin/true").ok());
  const auto& e = m.entries();
  EXPECT_EQ(e.at("/init").kind, Entry::Kind::kFile);
  EXPECT_EQ(e.at("/init").mode, 0755u);
  EXPECT_EQ(e.at("/usr/sbin/init").target, "/init");
  EXPECT_EQ(e.at("/dev/console").kind, Entry::Kind::kCharDevice);
  EXPECT_EQ(e.at("/dev/console").major, 5u);
  EXPECT_EQ(e.at("/dev/console").minor, 1u);
  EXPECT_EQ(e.at("/tmp").mode, 01777u);
  for (const char* d : {"/proc", "/sys", "/run", "/root"}) EXPECT_TRUE(e.count(d)) << d;
  EXPECT_EQ(m.file_count(), 1u) << "one copy of the init";
  Manifest n;
  EXPECT_FALSE(AddInitSkeleton(n, "/no/such/init").ok());
}

TEST(ParseAddSpec, BackslashEscapesAColonInTheSource) {
  absl::StatusOr<AddSpec> a = ParseAddSpec("/tmp/a\\:b:/opt/x");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->source, "/tmp/a:b");
  EXPECT_EQ(a->dest, "/opt/x");
  a = ParseAddSpec("/tmp/c\\\\:/d");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->source, "/tmp/c\\");
  EXPECT_EQ(a->dest, "/d");
  a = ParseAddSpec("/tmp/a\\:b");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->source, "/tmp/a:b");
  EXPECT_EQ(a->dest, "/tmp/a:b");
  // Any other backslash is part of the name.
  a = ParseAddSpec("/tmp/a\\b");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->source, "/tmp/a\\b");
}

TEST(ChooseOutput, OciInATar) {
  absl::StatusOr<OutputSpec> s = ChooseOutput("img.tar", "oci", "");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->kind, OutputSpec::Kind::kOci);
  EXPECT_TRUE(s->oci_tar);
  s = ChooseOutput("img", "oci", "");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->oci_tar);
  EXPECT_FALSE(ChooseOutput("img.tar.gz", "oci", "").ok());
  EXPECT_FALSE(ChooseOutput("img.tar", "oci", "gzip").ok());
  s = ChooseOutput("img.tar", "", "");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, OutputSpec::Kind::kTar);
}

TEST(AddHostTree, DirectoriesMergeThroughTheImagesLinks) {
  char tmpl[] = "/tmp/minipod-addtree-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string d = tmpl;
  ASSERT_EQ(std::system(("mkdir -p " + d + "/bin && echo x > " + d + "/bin/tool && ln -s tool " + d +
                         "/bin/alias").c_str()),
            0);
  Manifest m;
  ASSERT_TRUE(m.AddSymlink("/bin", "usr/bin").ok());
  absl::Status s = AddHostTree(m, d, "/");
  std::system(("rm -rf " + d).c_str());
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(m.Contains("/usr/bin/tool"));
  EXPECT_EQ(m.entries().at("/usr/bin/tool").kind, Entry::Kind::kFile);
  ASSERT_TRUE(m.Contains("/usr/bin/alias"));
  EXPECT_EQ(m.entries().at("/usr/bin/alias").kind, Entry::Kind::kSymlink);
  EXPECT_EQ(m.entries().at("/bin").kind, Entry::Kind::kSymlink);
}

}  // namespace
}  // namespace rootfs
