// Kernel modules: the plan from index text (names, aliases, builtins,
// softdeps, cycles, garbage), and AddKernelModules on a fixture tree with
// modules compressed by the real xz, zstd and gzip.
#include "rootfs/modules.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/absl/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rootfs/tree_writer.h"

namespace rootfs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kRelease[] = "6.1.0-test";

// Chain c -> b -> a, d-mod -> a, soft (softdeps), a cycle, and overlay
// reached through its alias. Written as depmod does: each line lists the
// whole closure, to be loaded from last to first.
constexpr char kDep[] =
    "kernel/fs/overlayfs/overlay.ko.xz:\n"
    "kernel/drivers/c.ko: kernel/drivers/b.ko kernel/lib/a.ko.zst\n"
    "kernel/drivers/b.ko: kernel/lib/a.ko.zst\n"
    "kernel/lib/a.ko.zst:\n"
    "kernel/drivers/d-mod.ko: kernel/lib/a.ko.zst\n"
    "kernel/lib/g.ko.gz:\n"
    "kernel/net/pre_mod.ko:\n"
    "kernel/net/post-mod.ko:\n"
    "kernel/net/soft.ko: kernel/drivers/b.ko kernel/lib/a.ko.zst\n"
    "kernel/x/cyc1.ko: kernel/x/cyc2.ko\n"
    "kernel/x/cyc2.ko: kernel/x/cyc1.ko\n";
constexpr char kAlias[] =
    "# Aliases extracted from modules themselves.\n"
    "alias fs-overlay overlay\n"
    "alias devname:foo* c\n"
    "alias fs-ext4 ext4\n";
constexpr char kSoftdep[] =
    "# Soft dependencies extracted from modules themselves.\n"
    "softdep soft pre: pre-mod post: post_mod missing_x\n";
constexpr char kBuiltin[] = "kernel/fs/ext4/ext4.ko\nkernel/lib/crc16.ko\n";

absl::StatusOr<ModulePlan> Plan(const std::vector<std::string>& names, absl::string_view dep = kDep,
                                absl::string_view softdep = kSoftdep) {
  return PlanModules(names, dep, kAlias, softdep, kBuiltin, kRelease);
}

TEST(PlanModules, ChainLoadsDependenciesFirst) {
  absl::StatusOr<ModulePlan> p = Plan({"c"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->release, kRelease);
  EXPECT_THAT(p->load_order,
              ElementsAre("kernel/lib/a.ko.zst", "kernel/drivers/b.ko", "kernel/drivers/c.ko"));
  EXPECT_THAT(p->notes, IsEmpty());
}

TEST(PlanModules, SharedDependencyOnceAndDashEqualsUnderscore) {
  absl::StatusOr<ModulePlan> p = Plan({"c", "d_mod", "C", "d-mod"});
  ASSERT_FALSE(p.ok()) << "names are case-sensitive, as in the kernel";
  p = Plan({"c", "d_mod", "d-mod", "c"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->load_order, ElementsAre("kernel/lib/a.ko.zst", "kernel/drivers/b.ko",
                                         "kernel/drivers/c.ko", "kernel/drivers/d-mod.ko"));
}

TEST(PlanModules, DepsListedOnlyOneLevelDeepAreFollowed) {
  // Not what depmod writes, but a hand-made tree may: c lists only b.
  absl::StatusOr<ModulePlan> p =
      Plan({"c"}, "c.ko: b.ko\nb.ko: a.ko\na.ko:\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->load_order, ElementsAre("a.ko", "b.ko", "c.ko"));
}

TEST(PlanModules, AliasExactAndPattern) {
  absl::StatusOr<ModulePlan> p = Plan({"fs-overlay"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->load_order, ElementsAre("kernel/fs/overlayfs/overlay.ko.xz"));
  p = Plan({"fs_overlay"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->load_order, ElementsAre("kernel/fs/overlayfs/overlay.ko.xz"));
  p = Plan({"devname:foobar"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->load_order, ElementsAre("kernel/lib/a.ko.zst", "kernel/drivers/b.ko", "kernel/drivers/c.ko"));
}

TEST(PlanModules, BuiltinIsANoteNotAnError) {
  absl::StatusOr<ModulePlan> p = Plan({"ext4", "crc16", "fs-ext4", "ext4"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->load_order, IsEmpty());
  EXPECT_THAT(p->notes, ElementsAre("ext4: built into the kernel", "crc16: built into the kernel",
                                    "fs-ext4: built into the kernel"));
}

TEST(PlanModules, SoftdepPreBeforeAndPostAfter) {
  absl::StatusOr<ModulePlan> p = Plan({"soft"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->load_order, ElementsAre("kernel/lib/a.ko.zst", "kernel/drivers/b.ko",
                                         "kernel/net/pre_mod.ko", "kernel/net/soft.ko",
                                         "kernel/net/post-mod.ko"));
  EXPECT_THAT(p->notes, ElementsAre("soft: soft dependency missing_x not found"));
}

TEST(PlanModules, MissingNameIsAnErrorNamingIt) {
  absl::StatusOr<ModulePlan> p = Plan({"c", "nope"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(p.status().message(), HasSubstr("'nope'"));
  EXPECT_THAT(p.status().message(), HasSubstr(kRelease));
  EXPECT_FALSE(Plan({""}).ok());
  EXPECT_FALSE(Plan({"../c"}).ok());
  EXPECT_FALSE(PlanModules({"c"}, kDep, "", "", "", "../x").ok());
}

TEST(PlanModules, HardCycleIsAnError) {
  absl::StatusOr<ModulePlan> p = Plan({"cyc1"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(p.status().message(), HasSubstr("cyc1 -> cyc2 -> cyc1"));
  // A module depending on itself.
  EXPECT_FALSE(Plan({"s"}, "s.ko: s.ko\n").ok());
}

TEST(PlanModules, SoftCyclesAreCut) {
  constexpr char kDep2[] = "x.ko:\ny.ko:\np.ko: x.ko\n";
  // x and y want each other first; the one asked for goes last.
  absl::StatusOr<ModulePlan> p = Plan({"x"}, kDep2, "softdep x pre: y\nsoftdep y pre: x\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->load_order, ElementsAre("y.ko", "x.ko"));
  // x wants p first, but p needs x: the hard dependency wins.
  p = Plan({"x"}, kDep2, "softdep x pre: p\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->load_order, ElementsAre("x.ko", "p.ko"));
  // post: on each other.
  p = Plan({"x", "y"}, kDep2, "softdep x post: y\nsoftdep y post: x\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->load_order, ElementsAre("x.ko", "y.ko"));
}

TEST(PlanModules, ToleratesGarbage) {
  const std::string long_line(100000, 'k');
  const std::string dep = absl::StrCat("# comment\r\n\r\n   \n", long_line, ".ko: x\n",
                                       "no colon here\n:\n: a.ko\nnot-a-module.txt:\n",
                                       "\t a.ko:\r\n b.ko:\ta.ko \r\n");
  absl::StatusOr<ModulePlan> p = PlanModules({"b"}, dep, "alias\nalias x\n\0\0", "softdep\nsoftdep b\n"
                                             "softdep b x y pre:", "\n\n/\n.ko\n", kRelease);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->load_order, ElementsAre("a.ko", "b.ko"));
  // A dependency modules.dep does not list, and paths leaving the tree.
  EXPECT_THAT(PlanModules({"b"}, "b.ko: a.ko\n", "", "", "", kRelease).status().message(),
              HasSubstr("b.ko depends on a.ko, which modules.dep does not list"));
  EXPECT_FALSE(PlanModules({"b"}, "../b.ko:\n", "", "", "", kRelease).ok());
  EXPECT_FALSE(PlanModules({"b"}, "/abs/b.ko:\n", "", "", "", kRelease).ok());
}

TEST(PlanModules, LongChainIsBounded) {
  std::string dep;
  for (int i = 0; i < 2000; ++i) absl::StrAppend(&dep, "m", i, ".ko: m", i + 1, ".ko\n");
  absl::StrAppend(&dep, "m2000.ko:\n");
  absl::StatusOr<ModulePlan> p = PlanModules({"m0"}, dep, "", "", "", kRelease);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kResourceExhausted) << p.status();
}

TEST(AliasPatternMatches, GlobsAsKmodDoes) {
  struct Case {
    const char* pattern;
    const char* text;
    bool match;
  };
  const Case kCases[] = {
      {"fs_overlay", "fs_overlay", true},
      {"fs_overlay", "fs_overlay2", false},
      {"devname:foo*", "devname:foo", true},
      {"devname:foo*", "devname:fo", false},
      {"pci:v00008086d*sv*sd*bc*sc*i*", "pci:v00008086d00001234sv0sd0bc03sc00i00", true},
      {"pci:v00008086d*sv*sd*bc*sc*i*", "pci:v000010DEd00001234sv0sd0bc03sc00i00", false},
      {"char_major_10_[0-9]*", "char_major_10_200", true},
      {"char_major_10_[!0-9]", "char_major_10_2", false},
      {"*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(AliasPatternMatches(c.pattern, c.text), c.match) << c.pattern << " " << c.text;
  }
  EXPECT_FALSE(AliasPatternMatches(absl::string_view("a\0*", 3), "a"));
  EXPECT_FALSE(AliasPatternMatches("a*", absl::string_view("ab\0c", 4)));
}

// A fixture tree: modules_root/kRelease with the index files and module
// files, some compressed by the real tools.
class ModulesTree : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "/minipod-modules-XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    root_ = templ;
    dir_ = absl::StrCat(root_, "/", kRelease);
    Write("modules.dep", kDep);
    Write("modules.alias", kAlias);
    Write("modules.softdep", kSoftdep);
    Write("modules.builtin", kBuiltin);
    for (const char* m : {"kernel/drivers/c.ko", "kernel/drivers/b.ko", "kernel/drivers/d-mod.ko",
                          "kernel/net/pre_mod.ko", "kernel/net/post-mod.ko", "kernel/net/soft.ko",
                          "kernel/x/cyc1.ko", "kernel/x/cyc2.ko"}) {
      Write(m, absl::StrCat("\x7f" "ELF fake module ", m, "\n"));
    }
    Compressed("kernel/fs/overlayfs/overlay.ko", "xz -9", ".xz");
    Compressed("kernel/lib/a.ko", "zstd -q --rm", ".zst");
    Compressed("kernel/lib/g.ko", "gzip -n", ".gz");
  }
  void TearDown() override { (void)RemoveTree(root_); }

  void Write(const std::string& rel, const std::string& text) {
    const std::string p = absl::StrCat(dir_, "/", rel);
    ASSERT_EQ(std::system(absl::StrCat("mkdir -p '", p.substr(0, p.rfind('/')), "'").c_str()), 0);
    std::ofstream(p, std::ios::binary) << text;
  }

  // The original bytes are kept in originals_ for comparing with the image.
  void Compressed(const std::string& rel, const std::string& tool, const std::string& suffix) {
    std::string data = absl::StrCat("\x7f" "ELF original ", rel, "\n");
    for (int i = 0; i < 5000; ++i) data.push_back(static_cast<char>((i * 7919) % 251));
    Write(rel, data);
    originals_[rel] = data;
    const std::string p = absl::StrCat(dir_, "/", rel);
    ASSERT_EQ(std::system(absl::StrCat(tool, " '", p, "'").c_str()), 0) << tool;
    struct stat st;
    ASSERT_EQ(stat((p + suffix).c_str(), &st), 0) << p << suffix;
    ASSERT_NE(stat(p.c_str(), &st), 0) << "the tool removed the original";
  }

  static std::string ReadText(const std::string& path) {
    return common::ReadFileToString(path).value_or("");
  }

  ModuleOptions Options() const {
    ModuleOptions o;
    o.modules_root = root_;
    o.kernel_release = kRelease;
    return o;
  }

  // The content of the file the manifest holds at path.
  std::string ImageText(const Manifest& m, const std::string& path) {
    const auto it = m.entries().find(path);
    if (it == m.entries().end()) return "<not in the manifest>";
    EXPECT_EQ(it->second.kind, Entry::Kind::kFile) << path;
    EXPECT_EQ(it->second.mode, 0644u) << path;
    return ReadText(it->second.source);
  }

  std::string root_;
  std::string dir_;
  std::map<std::string, std::string> originals_;
};

TEST_F(ModulesTree, AddsClosureDecompressedWithDepAndLoadList) {
  absl::StatusOr<Staging> staging = Staging::Create();
  ASSERT_TRUE(staging.ok()) << staging.status();
  Manifest m;
  absl::StatusOr<ModulePlan> p =
      AddKernelModules(m, *staging, {"c", "fs-overlay", "d_mod", "g", "ext4"}, Options());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->load_order,
              ElementsAre("kernel/lib/a.ko.zst", "kernel/drivers/b.ko", "kernel/drivers/c.ko",
                          "kernel/fs/overlayfs/overlay.ko.xz", "kernel/drivers/d-mod.ko",
                          "kernel/lib/g.ko.gz"));
  EXPECT_THAT(p->notes, ElementsAre("ext4: built into the kernel"));

  const std::string img = absl::StrCat("/lib/modules/", kRelease);
  std::vector<std::string> files;
  for (const auto& [path, e] : m.entries()) {
    if (e.kind == Entry::Kind::kFile) files.push_back(path);
  }
  EXPECT_THAT(files, ElementsAre("/etc/minipod/modules", img + "/kernel/drivers/b.ko",
                                 img + "/kernel/drivers/c.ko", img + "/kernel/drivers/d-mod.ko",
                                 img + "/kernel/fs/overlayfs/overlay.ko", img + "/kernel/lib/a.ko",
                                 img + "/kernel/lib/g.ko", img + "/modules.dep"));
  // Plain modules are copied from the host; compressed ones are staged.
  EXPECT_EQ(m.entries().at(img + "/kernel/drivers/b.ko").source, dir_ + "/kernel/drivers/b.ko");
  for (const char* rel : {"kernel/lib/a.ko", "kernel/fs/overlayfs/overlay.ko", "kernel/lib/g.ko"}) {
    EXPECT_EQ(ImageText(m, absl::StrCat(img, "/", rel)), originals_[rel]) << rel;
    EXPECT_EQ(m.entries().at(absl::StrCat(img, "/", rel)).source.rfind(staging->dir(), 0), 0u);
  }
  EXPECT_EQ(ImageText(m, img + "/kernel/drivers/c.ko"),
            "\x7f" "ELF fake module kernel/drivers/c.ko\n");
  EXPECT_EQ(ImageText(m, img + "/modules.dep"),
            "kernel/lib/a.ko:\n"
            "kernel/drivers/b.ko: kernel/lib/a.ko\n"
            "kernel/drivers/c.ko: kernel/drivers/b.ko kernel/lib/a.ko\n"
            "kernel/fs/overlayfs/overlay.ko:\n"
            "kernel/drivers/d-mod.ko: kernel/lib/a.ko\n"
            "kernel/lib/g.ko:\n");
  EXPECT_EQ(ImageText(m, "/etc/minipod/modules"),
            absl::StrCat(img, "/kernel/lib/a.ko\n", img, "/kernel/drivers/b.ko\n", img,
                         "/kernel/drivers/c.ko\n", img, "/kernel/fs/overlayfs/overlay.ko\n", img,
                         "/kernel/drivers/d-mod.ko\n", img, "/kernel/lib/g.ko\n"));
}

TEST_F(ModulesTree, SameInputSameManifest) {
  auto build = [&](std::string* list) {
    absl::StatusOr<Staging> staging = Staging::Create();
    Manifest m;
    absl::StatusOr<ModulePlan> p = AddKernelModules(m, *staging, {"soft", "c"}, Options());
    EXPECT_TRUE(p.ok()) << p.status();
    *list = ImageText(m, "/etc/minipod/modules") + ImageText(m, absl::StrCat("/lib/modules/", kRelease, "/modules.dep"));
    std::vector<std::string> paths;
    for (const auto& [path, e] : m.entries()) paths.push_back(path);
    return paths;
  };
  std::string a, b;
  EXPECT_EQ(build(&a), build(&b));
  EXPECT_EQ(a, b);
  EXPECT_THAT(a, HasSubstr("pre_mod.ko\n"));
}

TEST_F(ModulesTree, FollowsMergedUsrInTheImage) {
  absl::StatusOr<Staging> staging = Staging::Create();
  Manifest m;
  ASSERT_TRUE(m.AddSymlink("/lib", "usr/lib").ok());
  absl::StatusOr<ModulePlan> p = AddKernelModules(m, *staging, {"b"}, Options());
  ASSERT_TRUE(p.ok()) << p.status();
  const std::string usr = absl::StrCat("/usr/lib/modules/", kRelease);
  EXPECT_TRUE(m.entries().count(usr + "/kernel/drivers/b.ko"));
  EXPECT_TRUE(m.entries().count(usr + "/kernel/lib/a.ko"));
  EXPECT_TRUE(m.entries().count(usr + "/modules.dep"));
  EXPECT_EQ(ImageText(m, "/etc/minipod/modules"),
            absl::StrCat("/lib/modules/", kRelease, "/kernel/lib/a.ko\n/lib/modules/", kRelease,
                         "/kernel/drivers/b.ko\n"));
}

TEST_F(ModulesTree, OnlyBuiltinAddsNothing) {
  absl::StatusOr<Staging> staging = Staging::Create();
  Manifest m;
  absl::StatusOr<ModulePlan> p = AddKernelModules(m, *staging, {"ext4"}, Options());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->notes, ElementsAre("ext4: built into the kernel"));
  EXPECT_THAT(m.entries(), IsEmpty());
}

TEST_F(ModulesTree, ErrorsNameTheModuleAndTheDirectory) {
  absl::StatusOr<Staging> staging = Staging::Create();
  Manifest m;
  absl::StatusOr<ModulePlan> p = AddKernelModules(m, *staging, {"nope"}, Options());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(p.status().message(), HasSubstr("'nope'"));
  EXPECT_THAT(p.status().message(), HasSubstr(dir_));

  p = AddKernelModules(m, *staging, {"cyc2"}, Options());
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("cyc2 -> cyc1 -> cyc2"));

  // A module file modules.dep lists but the tree lacks.
  ASSERT_EQ(unlink((dir_ + "/kernel/drivers/b.ko").c_str()), 0);
  p = AddKernelModules(m, *staging, {"c"}, Options());
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr(dir_ + "/kernel/drivers/b.ko"));

  // A .xz that is not compressed.
  Write("kernel/fs/overlayfs/overlay.ko.xz", "plain bytes");
  p = AddKernelModules(m, *staging, {"overlay"}, Options());
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("overlay.ko.xz"));
}

TEST_F(ModulesTree, MissingModulesDep) {
  absl::StatusOr<Staging> staging = Staging::Create();
  Manifest m;
  ASSERT_EQ(unlink((dir_ + "/modules.dep").c_str()), 0);
  absl::StatusOr<ModulePlan> p = AddKernelModules(m, *staging, {"c"}, Options());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(p.status().message(), HasSubstr(dir_ + " has no modules.dep"));

  ModuleOptions o = Options();
  o.kernel_release = "9.9.9-none";
  p = AddKernelModules(m, *staging, {"c"}, o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(p.status().message(), HasSubstr(root_ + "/9.9.9-none does not exist"));
}

TEST_F(ModulesTree, OptionalIndexFilesMayBeMissing) {
  for (const char* f : {"modules.alias", "modules.softdep", "modules.builtin"}) {
    ASSERT_EQ(unlink(absl::StrCat(dir_, "/", f).c_str()), 0);
  }
  absl::StatusOr<Staging> staging = Staging::Create();
  Manifest m;
  absl::StatusOr<ModulePlan> p = AddKernelModules(m, *staging, {"soft"}, Options());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->load_order, ElementsAre("kernel/lib/a.ko.zst", "kernel/drivers/b.ko", "kernel/net/soft.ko"));
  EXPECT_FALSE(AddKernelModules(m, *staging, {"fs-overlay"}, Options()).ok());
}

TEST(AddKernelModules, RunningKernelByDefault) {
  // This machine may have no /lib/modules at all: then the error says so.
  absl::StatusOr<Staging> staging = Staging::Create();
  Manifest m;
  ModuleOptions o;
  o.modules_root = "/nonexistent-minipod";
  absl::StatusOr<ModulePlan> p = AddKernelModules(m, *staging, {"loop"}, o);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("/nonexistent-minipod/"));
  EXPECT_THAT(p.status().message(), HasSubstr("does not exist"));
  p = AddKernelModules(m, *staging, {}, o);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->release.empty()) << "uname(2)'s release";
}

}  // namespace
}  // namespace rootfs
