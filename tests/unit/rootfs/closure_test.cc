// Resolution rules checked on objects the test builds with gcc, and where
// it can, against the real loader: a fixture that ld.so runs must resolve,
// one it refuses must fail here too.
#include "rootfs/closure.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rootfs/ld_paths.h"
#include "rootfs/manifest.h"

namespace rootfs {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const char kLibC[] = "int c(void) { return 3; }\n";
const char kLibB[] = "int c(void); int b(void) { return c() + 2; }\n";
const char kLibA[] = "int b(void); int a(void) { return b() + 1; }\n";
const char kMainA[] = "int a(void); int main(void) { return a() == 6 ? 0 : 1; }\n";
const char kMainC[] = "int c(void); int main(void) { return c() == 3 ? 0 : 1; }\n";

int Sh(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Every fixture lives under one directory made once per test program.
class ClosureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char templ[] = "/tmp/minipod-closure-test.XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    root_ = new std::string(templ);
    const std::string& r = *root_;
    WriteText(r + "/c.c", kLibC);
    WriteText(r + "/b.c", kLibB);
    WriteText(r + "/a.c", kLibA);
    WriteText(r + "/main_a.c", kMainA);
    WriteText(r + "/main_c.c", kMainC);
    skip_ = new std::string;
    // The fixtures are built by gcc and the expectations name Debian's
    // x86-64 multiarch paths: probe both, and skip with the reason.
    if (::access("/lib/x86_64-linux-gnu/libc.so.6", R_OK) != 0 ||
        ::access("/lib64/ld-linux-x86-64.so.2", R_OK) != 0) {
      *skip_ = "expects an x86-64 glibc host with Debian's multiarch paths (/lib/x86_64-linux-gnu)";
      return;
    }
    // A plain set to link against: libmpc, libmpb -> libmpc, libmpa -> libmpb.
    if (Sh(absl::StrCat("cd ", r, " && mkdir -p link && gcc -shared -fPIC -o link/libmpc.so c.c",
                        " && gcc -shared -fPIC -o link/libmpb.so b.c -Wl,-rpath-link,link -Llink -lmpc",
                        " && gcc -shared -fPIC -o link/libmpa.so a.c -Wl,-rpath-link,link -Llink -lmpb")) != 0) {
      *skip_ = "gcc cannot build shared objects here";
    }
  }
  void SetUp() override {
    if (!skip_->empty()) GTEST_SKIP() << *skip_;
  }
  static void TearDownTestSuite() {
    Sh("rm -rf " + *root_);
    delete root_;
    delete skip_;
  }

  static std::string Root() { return *root_; }

  // A directory of its own for one test.
  std::string Dir(const std::string& name) {
    const std::string d = absl::StrCat(Root(), "/", name);
    EXPECT_EQ(Sh("mkdir -p " + d), 0);
    return d;
  }

  static ClosureOptions Options() {
    ClosureOptions o;
    o.ld_so_conf = "/nonexistent/ld.so.conf";
    o.default_dirs = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"};
    return o;
  }

  static std::vector<std::string> Names(const Closure& c) {
    std::vector<std::string> v;
    for (const Dependency& d : c.tree) v.push_back(d.name);
    return v;
  }
  static const Dependency* Find(const Closure& c, const std::string& name) {
    for (const Dependency& d : c.tree) {
      if (d.name == name) return &d;
    }
    return nullptr;
  }

  static std::string* root_;
  static std::string* skip_;  // why every test here is skipped; empty: none
};
std::string* ClosureTest::root_ = nullptr;
std::string* ClosureTest::skip_ = nullptr;

TEST_F(ClosureTest, ChainOfThreeWithOriginRunpathInBreadthFirstOrder) {
  const std::string d = Dir("chain");
  ASSERT_EQ(Sh(absl::StrCat("cd ", d, " && mkdir -p bin lib && cd ", Root(),
                            " && gcc -shared -fPIC -o ", d, "/lib/libmpc.so c.c",
                            " && gcc -shared -fPIC -o ", d, "/lib/libmpb.so b.c -Wl,-rpath-link,link -Llink -lmpc -Wl,--enable-new-dtags,-rpath,'$ORIGIN'",
                            " && gcc -shared -fPIC -o ", d, "/lib/libmpa.so a.c -Wl,-rpath-link,link -Llink -lmpb -Wl,--enable-new-dtags,-rpath,'$ORIGIN'",
                            " && gcc -o ", d, "/bin/main main_a.c -Wl,-rpath-link,link -Llink -lmpa -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib'")),
            0);
  ASSERT_EQ(Sh(d + "/bin/main"), 0) << "ld.so itself cannot run the fixture";

  auto c = ResolveClosure(d + "/bin/main", Options());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(Names(*c), ElementsAre(d + "/bin/main", "/lib64/ld-linux-x86-64.so.2", "libmpa.so", "libc.so.6",
                                     "libmpb.so", "libmpc.so"));
  const Dependency* a = Find(*c, "libmpa.so");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->path, d + "/bin/../lib/libmpa.so");  // $ORIGIN is not normalized by ld.so either
  EXPECT_EQ(a->rule, Rule::kRunpath);
  EXPECT_EQ(a->depth, 1);
  const Dependency* cc = Find(*c, "libmpc.so");
  ASSERT_NE(cc, nullptr);
  EXPECT_EQ(cc->rule, Rule::kRunpath);
  EXPECT_EQ(cc->depth, 3);
  EXPECT_EQ(cc->needed_by, d + "/bin/../lib/libmpb.so");
  EXPECT_EQ(Find(*c, "libc.so.6")->rule, Rule::kDefault);
  EXPECT_EQ(Find(*c, "/lib64/ld-linux-x86-64.so.2")->rule, Rule::kInterp);
  // Each file once, though libc is needed by all four.
  EXPECT_EQ(c->files.size(), 6u);
  EXPECT_EQ(std::count(c->files.begin(), c->files.end(), "/lib/x86_64-linux-gnu/libc.so.6"), 1);
}

TEST_F(ClosureTest, RpathIsInheritedDownTheChainOfLoaders) {
  const std::string d = Dir("rpath");
  ASSERT_EQ(Sh(absl::StrCat("cd ", d, " && mkdir -p bin lib && cd ", Root(),
                            " && gcc -shared -fPIC -o ", d, "/lib/libmpc.so c.c",
                            " && gcc -shared -fPIC -o ", d, "/lib/libmpb.so b.c -Wl,-rpath-link,link -Llink -lmpc",
                            " && gcc -shared -fPIC -o ", d, "/lib/libmpa.so a.c -Wl,-rpath-link,link -Llink -lmpb",
                            " && gcc -o ", d, "/bin/main main_a.c -Wl,-rpath-link,link -Llink -lmpa -Wl,--disable-new-dtags,-rpath,'$ORIGIN/../lib'")),
            0);
  ASSERT_EQ(Sh(d + "/bin/main"), 0);
  auto c = ResolveClosure(d + "/bin/main", Options());
  ASSERT_TRUE(c.ok()) << c.status();
  for (const char* lib : {"libmpa.so", "libmpb.so", "libmpc.so"}) {
    const Dependency* dep = Find(*c, lib);
    ASSERT_NE(dep, nullptr) << lib;
    EXPECT_EQ(dep->rule, Rule::kRpath) << lib;
    EXPECT_EQ(dep->path, absl::StrCat(d, "/bin/../lib/", lib));
  }
}

TEST_F(ClosureTest, RunpathServesOnlyTheObjectsOwnNeeds) {
  const std::string d = Dir("runpath");
  ASSERT_EQ(Sh(absl::StrCat("cd ", d, " && mkdir -p bin lib && cd ", Root(),
                            " && gcc -shared -fPIC -o ", d, "/lib/libmpc.so c.c",
                            " && gcc -shared -fPIC -o ", d, "/lib/libmpb.so b.c -Wl,-rpath-link,link -Llink -lmpc",
                            " && gcc -shared -fPIC -o ", d, "/lib/libmpa.so a.c -Wl,-rpath-link,link -Llink -lmpb",
                            " && gcc -o ", d, "/bin/main main_a.c -Wl,-rpath-link,link -Llink -lmpa -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib'")),
            0);
  ASSERT_NE(Sh(d + "/bin/main 2>/dev/null"), 0) << "ld.so found libmpb.so through an inherited RUNPATH?";

  auto c = ResolveClosure(d + "/bin/main", Options());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(c.status().message(),
              HasSubstr(absl::StrCat(d, "/bin/main: libmpb.so (needed by ", d, "/bin/../lib/libmpa.so) not found")));

  ClosureOptions o = Options();
  o.allow_missing = true;
  c = ResolveClosure(d + "/bin/main", o);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_THAT(c->warnings[0], HasSubstr("libmpb.so (needed by"));
  const Dependency* b = Find(*c, "libmpb.so");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->rule, Rule::kMissing);
  EXPECT_EQ(Find(*c, "libmpc.so"), nullptr);  // nothing below a missing library
}

// ld can write DT_RPATH or DT_RUNPATH but not both; the test turns the
// executable's DT_DEBUG entry into a DT_RUNPATH pointing into the RPATH
// string: "/x/first:/x/second" as RPATH, "/x/second" as RUNPATH.
void AddRunpathToRpathBinary(const std::string& path) {
  std::string bytes = common::ReadFileToString(path).value_or("");
  ASSERT_GT(bytes.size(), 64u);
  size_t rpath_at = std::string::npos, debug_at = std::string::npos;
  for (size_t off = 0; off + 16 <= bytes.size(); off += 8) {
    uint64_t tag, val;
    memcpy(&tag, &bytes[off], 8);
    memcpy(&val, &bytes[off + 8], 8);
    if (tag == 15 /*DT_RPATH*/ && val < 0x10000) rpath_at = off;
    if (tag == 21 /*DT_DEBUG*/ && val == 0 && rpath_at != std::string::npos && off - rpath_at < 1024) {
      debug_at = off;
      break;
    }
  }
  ASSERT_NE(debug_at, std::string::npos) << "no DT_RPATH and DT_DEBUG in " << path;
  uint64_t rpath_offset;
  memcpy(&rpath_offset, &bytes[rpath_at + 8], 8);
  // The string table holds the RPATH text; find its ':' from the file.
  const size_t colon = bytes.find(":/", bytes.find("/rpath-first"));
  ASSERT_NE(colon, std::string::npos);
  const size_t text_start = bytes.rfind('\0', colon) + 1;
  const uint64_t runpath_offset = rpath_offset + (colon + 1 - text_start);
  const uint64_t tag = 29;  // DT_RUNPATH
  memcpy(&bytes[debug_at], &tag, 8);
  memcpy(&bytes[debug_at + 8], &runpath_offset, 8);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// The executable's $ORIGIN is its real directory (the kernel's
// /proc/self/exe), so a binary reached through a symlink finds its
// libraries next to the real file, and "bin/../lib" must go through the
// real bin/ too.
TEST_F(ClosureTest, OriginOfASymlinkedExecutableIsItsRealDirectory) {
  const std::string d = Dir("java");
  ASSERT_EQ(Sh(absl::StrCat("cd ", d, " && mkdir -p jdk/bin jdk/lib usr && ln -s ../jdk/bin usr/bin && cd ", Root(),
                            " && gcc -shared -fPIC -o ", d, "/jdk/lib/libmpc.so c.c",
                            " && gcc -o ", d, "/jdk/bin/java main_c.c -Wl,-rpath-link,link -Llink -lmpc",
                            " -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib'")),
            0);
  ASSERT_EQ(Sh(d + "/usr/bin/java"), 0);
  auto c = ResolveClosure(d + "/usr/bin/java", Options());
  ASSERT_TRUE(c.ok()) << c.status();
  const Dependency* dep = Find(*c, "libmpc.so");
  ASSERT_NE(dep, nullptr);
  EXPECT_EQ(dep->path, d + "/jdk/bin/../lib/libmpc.so");
  Manifest m;
  for (const std::string& f : c->files) ASSERT_TRUE(m.AddHostPath(f).ok()) << f;
  EXPECT_EQ(m.entries().at(d + "/jdk/lib/libmpc.so").kind, Entry::Kind::kFile);
  EXPECT_EQ(m.entries().at(d + "/usr/bin").kind, Entry::Kind::kSymlink);
}

TEST_F(ClosureTest, RunpathOverridesRpath) {
  const std::string d = Dir("both");
  ASSERT_EQ(Sh(absl::StrCat("cd ", d, " && mkdir -p rpath-first rpath-second && cd ", Root(),
                            " && gcc -shared -fPIC -o ", d, "/rpath-first/libmpc.so c.c",
                            " && gcc -shared -fPIC -o ", d, "/rpath-second/libmpc.so c.c",
                            " && gcc -o ", d, "/main main_c.c -Wl,-rpath-link,link -Llink -lmpc -Wl,--disable-new-dtags,-rpath,",
                            d, "/rpath-first:", d, "/rpath-second")),
            0);
  AddRunpathToRpathBinary(d + "/main");
  ASSERT_EQ(Sh(absl::StrCat("LD_DEBUG=libs ", d, "/main 2>&1 | grep -q 'trying file=", d,
                            "/rpath-second/libmpc.so'")),
            0)
      << "the patched fixture does not make ld.so prefer DT_RUNPATH";

  auto c = ResolveClosure(d + "/main", Options());
  ASSERT_TRUE(c.ok()) << c.status();
  const Dependency* dep = Find(*c, "libmpc.so");
  ASSERT_NE(dep, nullptr);
  EXPECT_EQ(dep->path, d + "/rpath-second/libmpc.so");
  EXPECT_EQ(dep->rule, Rule::kRunpath);
}

TEST_F(ClosureTest, LdSoConfIncludesAreFollowed) {
  const std::string d = Dir("conf");
  ASSERT_EQ(Sh(absl::StrCat("cd ", d, " && mkdir -p etc/ld.so.conf.d libs && cd ", Root(),
                            " && gcc -shared -fPIC -o ", d, "/libs/libmpc.so c.c",
                            " && gcc -o ", d, "/main main_c.c -Wl,-rpath-link,link -Llink -lmpc")),
            0);
  WriteText(d + "/etc/ld.so.conf", "# test\ninclude ld.so.conf.d/*.conf\n");
  WriteText(d + "/etc/ld.so.conf.d/10-none.conf", "/nonexistent/dir\n");
  WriteText(d + "/etc/ld.so.conf.d/20-libs.conf", absl::StrCat("  ", d, "/libs/  # trailing comment\n"));
  ClosureOptions o = Options();
  o.ld_so_conf = d + "/etc/ld.so.conf";
  auto c = ResolveClosure(d + "/main", o);
  ASSERT_TRUE(c.ok()) << c.status();
  const Dependency* dep = Find(*c, "libmpc.so");
  ASSERT_NE(dep, nullptr);
  EXPECT_EQ(dep->path, d + "/libs/libmpc.so");
  EXPECT_EQ(dep->rule, Rule::kLdSoConf);
}

TEST_F(ClosureTest, EveryHwcapsVariantComesWithTheBaseline) {
  const std::string d = Dir("hwcaps");
  ASSERT_EQ(Sh(absl::StrCat("cd ", d, " && mkdir -p lib/glibc-hwcaps/x86-64-v3 lib/glibc-hwcaps/x86-64-v2 && cd ", Root(),
                            " && gcc -shared -fPIC -o ", d, "/lib/libmpc.so c.c",
                            " && cp ", d, "/lib/libmpc.so ", d, "/lib/glibc-hwcaps/x86-64-v3/",
                            " && cp ", d, "/lib/libmpc.so ", d, "/lib/glibc-hwcaps/x86-64-v2/",
                            " && gcc -o ", d, "/main main_c.c -Wl,-rpath-link,link -Llink -lmpc -Wl,--enable-new-dtags,-rpath,", d, "/lib")),
            0);
  ASSERT_EQ(Sh(d + "/main"), 0);
  auto c = ResolveClosure(d + "/main", Options());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->files, Contains(d + "/lib/libmpc.so"));
  EXPECT_THAT(c->files, Contains(d + "/lib/glibc-hwcaps/x86-64-v3/libmpc.so"));
  EXPECT_THAT(c->files, Contains(d + "/lib/glibc-hwcaps/x86-64-v2/libmpc.so"));
  int variants = 0;
  for (const Dependency& dep : c->tree) {
    if (dep.name == "libmpc.so" && dep.rule == Rule::kHwcaps) ++variants;
    if (dep.name == "libmpc.so" && dep.rule == Rule::kRunpath) {
      EXPECT_EQ(dep.path, d + "/lib/libmpc.so");
    }
  }
  EXPECT_EQ(variants, 2);
}

TEST_F(ClosureTest, SonameSymlinkChainIsKept) {
  const std::string d = Dir("symlinks");
  ASSERT_EQ(Sh(absl::StrCat("cd ", Root(), " && gcc -shared -fPIC -Wl,-soname,libmpc.so.1 -o ", d,
                            "/libmpc.so.1.2.3 c.c && cd ", d,
                            " && ln -sf libmpc.so.1.2.3 libmpc.so.1 && ln -sf libmpc.so.1 libmpc.so && cd ", Root(),
                            " && gcc -o ", d, "/main main_c.c -L", d, " -lmpc -Wl,--enable-new-dtags,-rpath,", d)),
            0);
  ASSERT_EQ(Sh(d + "/main"), 0);
  auto c = ResolveClosure(d + "/main", Options());
  ASSERT_TRUE(c.ok()) << c.status();
  const Dependency* dep = Find(*c, "libmpc.so.1");
  ASSERT_NE(dep, nullptr);
  EXPECT_EQ(dep->path, d + "/libmpc.so.1");

  Manifest m;
  for (const std::string& f : c->files) ASSERT_TRUE(m.AddHostPath(f).ok()) << f;
  const auto& e = m.entries();
  ASSERT_TRUE(e.contains(d + "/libmpc.so.1"));
  EXPECT_EQ(e.at(d + "/libmpc.so.1").kind, Entry::Kind::kSymlink);
  EXPECT_EQ(e.at(d + "/libmpc.so.1").target, "libmpc.so.1.2.3");
  ASSERT_TRUE(e.contains(d + "/libmpc.so.1.2.3"));
  EXPECT_EQ(e.at(d + "/libmpc.so.1.2.3").kind, Entry::Kind::kFile);
  EXPECT_FALSE(e.contains(d + "/libmpc.so"));  // the link-time name is not needed
}

TEST_F(ClosureTest, OtherMachinesAreSkippedAsLdSoDoes) {
  const std::string d = Dir("machine");
  ASSERT_EQ(Sh(absl::StrCat("cd ", d, " && mkdir -p arm good && cd ", Root(),
                            " && gcc -shared -fPIC -o ", d, "/good/libmpc.so c.c",
                            " && cp ", d, "/good/libmpc.so ", d, "/arm/libmpc.so",
                            // e_machine (offset 18) := EM_AARCH64 (183)
                            " && printf '\\267' | dd of=", d, "/arm/libmpc.so bs=1 seek=18 conv=notrunc status=none",
                            " && gcc -o ", d, "/main main_c.c -Wl,-rpath-link,link -Llink -lmpc -Wl,--enable-new-dtags,-rpath,", d, "/arm:",
                            d, "/good")),
            0);
  ASSERT_EQ(Sh(d + "/main"), 0);
  auto c = ResolveClosure(d + "/main", Options());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(Find(*c, "libmpc.so")->path, d + "/good/libmpc.so");

  ASSERT_EQ(Sh(absl::StrCat("rm ", d, "/good/libmpc.so")), 0);
  c = ResolveClosure(d + "/main", Options());
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(absl::StrCat("not found; skipped ", d,
                                                           "/arm/libmpc.so (other ELF class or machine)")));
}

TEST_F(ClosureTest, DirectPathInDtNeeded) {
  const std::string d = Dir("direct");
  ASSERT_EQ(Sh(absl::StrCat("cd ", Root(), " && gcc -shared -fPIC -Wl,-soname,", d, "/libmpc.so -o ", d,
                            "/libmpc.so c.c && gcc -o ", d, "/main main_c.c ", d, "/libmpc.so")),
            0);
  ASSERT_EQ(Sh(d + "/main"), 0);
  auto c = ResolveClosure(d + "/main", Options());
  ASSERT_TRUE(c.ok()) << c.status();
  const Dependency* dep = Find(*c, d + "/libmpc.so");
  ASSERT_NE(dep, nullptr);
  EXPECT_EQ(dep->rule, Rule::kDirect);
}

TEST_F(ClosureTest, StaticBinaryNeedsNothing) {
  const std::string d = Dir("static");
  ASSERT_EQ(Sh(absl::StrCat("cd ", Root(), " && gcc -static -o ", d, "/main main_c.c c.c")), 0);
  auto c = ResolveClosure(d + "/main", Options());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->files, ElementsAre(d + "/main"));
  ASSERT_EQ(Sh(absl::StrCat("cd ", Root(), " && gcc -static-pie -o ", d, "/pie main_c.c c.c")), 0);
  c = ResolveClosure(d + "/pie", Options());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->files, ElementsAre(d + "/pie"));
}

TEST_F(ClosureTest, EnvScriptBringsEnvAndTheProgramFromPath) {
  const std::string d = Dir("script");
  ASSERT_EQ(Sh(absl::StrCat("mkdir -p ", d, "/tools && cp /bin/true ", d, "/tools/mpfx-tool")), 0);
  WriteText(d + "/run", "#!/usr/bin/env -S mpfx-tool --flag\necho not reached\n");
  WriteText(d + "/plain", "#! /bin/sh -e\n");
  ClosureOptions o = Options();
  o.path_env = d + "/tools:/usr/bin:/bin";
  auto c = ResolveClosure(d + "/run", o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->files, Contains(d + "/run"));
  EXPECT_THAT(c->files, Contains("/usr/bin/env"));
  EXPECT_THAT(c->files, Contains(d + "/tools/mpfx-tool"));
  EXPECT_THAT(c->files, Contains("/lib/x86_64-linux-gnu/libc.so.6"));
  const Dependency* tool = Find(*c, d + "/tools/mpfx-tool");
  ASSERT_NE(tool, nullptr);
  EXPECT_EQ(tool->rule, Rule::kShebang);
  EXPECT_EQ(tool->needed_by, d + "/run");

  c = ResolveClosure(d + "/plain", o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->files, Contains("/bin/sh"));

  WriteText(d + "/lost", "#!/usr/bin/env mpfx-no-such-tool\n");
  c = ResolveClosure(d + "/lost", o);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("mpfx-no-such-tool: not found in PATH"));
  EXPECT_THAT(c.status().message(), HasSubstr(d + "/lost"));
}

TEST_F(ClosureTest, BadInputsAreErrorsNamingThem) {
  const std::string d = Dir("bad");
  WriteText(d + "/text", "just text\n");
  WriteText(d + "/loop1", absl::StrCat("#!", d, "/loop2\n"));
  WriteText(d + "/loop2", absl::StrCat("#!", d, "/loop1\n"));
  WriteText(d + "/relative", "#!bin/sh\n");
  ASSERT_EQ(Sh(absl::StrCat("cd ", Root(), " && gcc -c -o ", d, "/object.o c.c")), 0);
  struct Case {
    std::string input, message;
  } cases[] = {
      {d + "/text", d + "/text: not an ELF file or a #! script"},
      {d, d + ": not a regular file"},
      {d + "/missing", "No such file or directory"},
      {"mpfx-not-in-path", "mpfx-not-in-path: not found in PATH"},
      {d + "/object.o", d + "/object.o: not an executable or shared library"},
      {d + "/relative", "#! interpreter 'bin/sh' is not an absolute path"},
  };
  for (const Case& c : cases) {
    auto r = ResolveClosure(c.input, Options());
    ASSERT_FALSE(r.ok()) << c.input;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.input;
  }
  // Two scripts naming each other: the kernel gives up after 4 levels
  // (ELOOP); the resolver sees the loop as already visited.
  auto r = ResolveClosure(d + "/loop1", Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->files.size(), 2u);
}

TEST_F(ClosureTest, HostBinariesMatchLdd) {
  ClosureOptions o;  // the host's own ld.so.conf and directories
  Resolver resolver(o);
  for (const char* bin : {"/bin/ls", "/usr/bin/python3", "/usr/bin/perl", "/usr/bin/ssh", "/usr/bin/curl"}) {
    if (::access(bin, X_OK) != 0) continue;
    auto c = resolver.Resolve(bin);
    ASSERT_TRUE(c.ok()) << c.status();
    // ldd runs ld.so in trace mode; compare real paths.
    FILE* p = ::popen(absl::StrCat("ldd ", bin, " | awk '$2==\"=>\" && $3 ~ /^\\// {print $3} $1 ~ /^\\// {print $1}'"
                                   " | xargs -n1 realpath | sort -u").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    ::pclose(p);
    std::vector<std::string> want = absl::StrSplit(out, '\n', absl::SkipEmpty());
    std::vector<std::string> got;
    for (const std::string& f : c->files) {
      if (f == bin) continue;
      char real[PATH_MAX];
      ASSERT_NE(::realpath(f.c_str(), real), nullptr) << f;
      got.push_back(real);
    }
    std::sort(got.begin(), got.end());
    got.erase(std::unique(got.begin(), got.end()), got.end());
    EXPECT_EQ(got, want) << bin;
  }
}

TEST(LdPaths, ParseLdSoConfText) {
  const LdSoConfText conf = ParseLdSoConfText(
      "# comment\n/usr/local/lib\n\t/opt/x/lib//  \ninclude ld.so.conf.d/*.conf /abs/*.conf\n"
      "hwcap 1 foo\nrelative/dir\n/old/style=libc5\r\n#/commented\ninclude\n",
      "/etc");
  EXPECT_THAT(conf.dirs, ElementsAre("/usr/local/lib", "/opt/x/lib", "/old/style"));
  EXPECT_THAT(conf.includes, ElementsAre("/etc/ld.so.conf.d/*.conf", "/abs/*.conf"));
}

TEST(LdPaths, ExpandDst) {
  LoaderTraits t;
  t.lib = "lib/x86_64-linux-gnu";
  t.platform = "x86_64";
  EXPECT_EQ(ExpandDst("$ORIGIN/../lib", "/opt/app/bin", t), "/opt/app/bin/../lib");
  EXPECT_EQ(ExpandDst("${ORIGIN}/x", "/o", t), "/o/x");
  EXPECT_EQ(ExpandDst("/usr/$LIB/$PLATFORM", "/o", t), "/usr/lib/x86_64-linux-gnu/x86_64");
  EXPECT_EQ(ExpandDst("$ORIGINAL/x", "/o", t), "$ORIGINAL/x");  // not a token: stays literal
  EXPECT_EQ(ExpandDst("${ORIGIN", "/o", t), "${ORIGIN");
  EXPECT_EQ(ExpandDst("$", "/o", t), "$");
  EXPECT_EQ(ExpandDst("$ORIGIN", "/o", t), "/o");
}

TEST(LdPaths, SplitSearchPathAndTraits) {
  EXPECT_THAT(SplitSearchPath("/a::/b/:"), ElementsAre("/a", "/b"));
  ElfInfo e;
  e.is_64 = true;
  e.machine = 62;  // EM_X86_64
  const LoaderTraits t = TraitsFor(e);
  EXPECT_EQ(t.lib, "lib/x86_64-linux-gnu");
  EXPECT_THAT(t.default_dirs, ElementsAre("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"));
  EXPECT_EQ(DirName("/a/b"), "/a");
  EXPECT_EQ(DirName("/a"), "/");
  EXPECT_EQ(DirName("a"), ".");
}

}  // namespace
}  // namespace rootfs
