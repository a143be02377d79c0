// `minipod image build` end to end: the initramfs's listing (cpio -t) and
// contents: /init is this build's minipod-init, /etc/minipod/argv holds
// --cmd's words, the modules and their list, --with-minipod's files; built
// twice as an unprivileged user with the same bytes; bad input refused
// with one line and nothing left behind.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace itest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

ShResult RunSh(const std::string& cmd) {
  return Sh(cmd, 120, "env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C ");
}

bool OnHost(const char* name) { return RunSh(std::string("command -v ") + name).status == 0; }

// The newest /boot/vmlinuz-* (as minipod picks it) and its release, when
// its modules are installed.
std::string KernelWithModules() {
  const ShResult k = RunSh("ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1");
  if (k.status != 0 || k.out.empty()) return "";
  const std::string kernel = k.out.substr(0, k.out.size() - 1);
  const std::string release = kernel.substr(kernel.find("vmlinuz-") + 8);
  return fs::exists("/lib/modules/" + release + "/modules.dep") ? kernel : "";
}

class ImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!OnHost("cpio")) GTEST_SKIP() << "needs cpio to list the images";
  }
  // body run by sh from a file, so it may hold any quote.
  ShResult Script(const std::string& body) {
    return RunSh("sh " + scripts_.WriteFile("s" + std::to_string(++scripts_made_), body, 0644));
  }
  // The file at name inside the cpio image, as bytes.
  std::string Member(const std::string& image, const std::string& name) {
    return RunSh("cd " + tmp_.path() + " && cpio -i --quiet --to-stdout " + name + " < " + image).out;
  }
  TempDir tmp_;
  TempDir scripts_;
  int scripts_made_ = 0;
};

TEST_F(ImageTest, HoldsTheInitTheCommandAndTheModules) {
  const std::string kernel = KernelWithModules();
  if (kernel.empty()) GTEST_SKIP() << "no /boot/vmlinuz-* with its /lib/modules/R (apt install linux-image-amd64)";
  const std::string image = tmp_.Join("img.cpio");
  const ShResult built = Script(Minipod() + " image build -o " + image + " --kernel " + kernel +
                                R"( --module overlay --cmd "sh -c \"echo 'hi there'; exit 3\" \\\$x ''" true)");
  ASSERT_EQ(built.status, 0) << built.out;
  const ShResult list = RunSh("cpio -itv --quiet < " + image);
  ASSERT_EQ(list.status, 0) << list.out;
  EXPECT_THAT(list.out, HasSubstr("sbin/init -> /init"));
  EXPECT_THAT(list.out, HasSubstr(" dev/console"));
  EXPECT_THAT(list.out, HasSubstr(" etc/minipod/argv"));
  EXPECT_THAT(list.out, HasSubstr(" etc/minipod/modules"));
  EXPECT_THAT(list.out, HasSubstr("/overlay.ko"));
  EXPECT_THAT(list.out, HasSubstr("usr/bin/true"));
  EXPECT_EQ(Member(image, "init"), ReadAll(InitPath()));
  EXPECT_EQ(Member(image, "etc/minipod/argv"), std::string("sh\0-c\0echo 'hi there'; exit 3\0$x\0\0", 34));
  const std::string release = kernel.substr(kernel.find("vmlinuz-") + 8);
  EXPECT_THAT(Member(image, "etc/minipod/modules"),
              HasSubstr("/lib/modules/" + release + "/kernel/fs/overlayfs/overlay.ko\n"));
  // image inspect shows the command quoted for --cmd, the modules and entries.
  const ShResult inspect = RunSh(Minipod() + " image inspect " + image);
  ASSERT_EQ(inspect.status, 0) << inspect.out;
  EXPECT_THAT(inspect.out, HasSubstr("command: sh -c 'echo '\\''hi there'\\''; exit 3' '$x' ''\n"));
  EXPECT_THAT(inspect.out, HasSubstr("modules: "));
  EXPECT_THAT(inspect.out, HasSubstr("/overlayfs/overlay.ko\n"));
  EXPECT_THAT(inspect.out, HasSubstr("  /sbin/init -> /init\n"));
  // Without --cmd there is no argv file; no minipod unless asked.
  const std::string plain = tmp_.Join("plain.cpio.zst");
  ASSERT_EQ(RunSh(Minipod() + " image build -o " + plain + " true").status, 0);
  const ShResult plain_list = RunSh("zstd -dc " + plain + " | cpio -it --quiet");
  EXPECT_THAT(plain_list.out, HasSubstr("init\n"));
  EXPECT_THAT(plain_list.out, Not(HasSubstr("etc/minipod/argv")));
  EXPECT_THAT(plain_list.out, Not(HasSubstr("usr/bin/minipod")));
}

TEST_F(ImageTest, WithMinipodCarriesTheToolItsInitAndMonitor) {
  const std::string image = tmp_.Join("mp.cpio.gz");
  const ShResult built = RunSh(Minipod() + " image build --with-minipod -o " + image + " --cmd true");
  ASSERT_EQ(built.status, 0) << built.out;
  const std::string raw = tmp_.Join("mp.cpio");
  ASSERT_EQ(RunSh("zcat " + image + " > " + raw).status, 0);
  const ShResult list = RunSh("cpio -itv --quiet < " + raw);
  EXPECT_THAT(list.out, HasSubstr(" usr/bin/minipod\n"));
  EXPECT_THAT(list.out, HasSubstr(" usr/lib/minipod/minipod-init\n"));
  EXPECT_THAT(list.out, HasSubstr(" usr/lib/minipod/minipod-monitor\n"));
  // A stripped copy (debug information is no use in a guest) that runs.
  const std::string x = tmp_.Join("x");
  ASSERT_EQ(RunSh("mkdir " + x + " && cd " + x + " && cpio -id --quiet < " + raw).status, 0);
  EXPECT_THAT(RunSh(x + "/usr/bin/minipod --version").out, HasSubstr("minipod "));
  EXPECT_LE(fs::file_size(x + "/usr/bin/minipod"), fs::file_size(Minipod()));
  EXPECT_EQ(Member(raw, "usr/lib/minipod/minipod-init"), ReadAll(InitPath()));
  EXPECT_THAT(Member(raw, "etc/passwd"), HasSubstr("root:x:0:0:"));
  EXPECT_THAT(Member(raw, "etc/group"), HasSubstr("root:x:0:"));
  // Its libraries come along when minipod is dynamic (a sanitizer build).
  if (RunSh("file -L " + Minipod() + " | grep -q 'dynamically linked'").status == 0) {
    EXPECT_THAT(list.out, HasSubstr("libc.so.6"));
  }
  if (KernelWithModules().empty()) {
    EXPECT_THAT(built.out, HasSubstr("overlay not added"));
  } else {
    EXPECT_THAT(Member(raw, "etc/minipod/modules"), HasSubstr("/overlay.ko\n"));
  }
}

TEST_F(ImageTest, BuiltWithoutRootTheSameBytesTwice) {
  if (!OnHost("setpriv")) GTEST_SKIP() << "needs setpriv";
  const std::string out = tmp_.Join("out");
  ASSERT_EQ(::mkdir(out.c_str(), 0755), 0);
  ASSERT_EQ(::chown(out.c_str(), 65534, 65534), 0);
  ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
  const std::string as_nobody =
      "SOURCE_DATE_EPOCH=1700000000 HOME=" + out + " setpriv --reuid=65534 --regid=65534 --clear-groups ";
  for (const char* name : {"a", "b"}) {
    const ShResult r = RunSh(as_nobody + Minipod() + " image build --with-minipod --cmd \"sh -c true\" -o " + out +
                             "/" + name + ".cpio.gz sh");
    ASSERT_EQ(r.status, 0) << r.out;
  }
  EXPECT_EQ(RunSh("cmp " + out + "/a.cpio.gz " + out + "/b.cpio.gz").status, 0);
  const ShResult list = RunSh("zcat " + out + "/a.cpio.gz | cpio -itv --quiet");
  EXPECT_THAT(list.out, HasSubstr("crw------- "));  // a device node, without root
  EXPECT_THAT(list.out, HasSubstr("Nov 14  2023 init"));
}

TEST_F(ImageTest, BadInputIsOneLineAndLeavesNothing) {
  const std::string image = tmp_.Join("bad.cpio");
  ShResult r = Script(Minipod() + " image build -o " + image + R"( --cmd "echo 'oops" true)");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--cmd 'echo 'oops': unbalanced single quote"));
  r = RunSh(Minipod() + " image build -o " + image + " --kernel-release 0.0-none --module overlay true");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("no /lib/modules/0.0-none"));
  r = RunSh(Minipod() + " image build -o " + image + " --kernel /nowhere/bzImage --module overlay true");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--kernel-release"));
  r = RunSh(Minipod() + " image build -o " + tmp_.Join("bad.tar") + " true");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("cpio initramfs"));
  r = RunSh(Minipod() + " image build -o " + image + " --cmd \"\" true");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_TRUE(fs::is_empty(tmp_.path()));
}

}  // namespace
}  // namespace itest
