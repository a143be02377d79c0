// `minipod rootfs` end to end, as root: real host binaries bundled into a
// tree, run inside it with chroot and compared with the same command on the
// host; the library set against ldd; --nss, --strip, --init archives built
// by an unprivileged user, OCI output through skopeo and umoci, and the
// errors that must leave the output untouched.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace itest {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
namespace fs = std::filesystem;

// A fixed, short PATH for the host runs and for minipod's own lookups, so
// the result does not depend on the caller's shims.
constexpr char kPath[] = "/usr/sbin:/usr/bin:/sbin:/bin";

// Runs a shell command with a bounded time, in a clean environment.
ShResult RunSh(const std::string& cmd) { return Sh(cmd, 120, "env -i PATH=" + std::string(kPath) + " LC_ALL=C "); }

struct Case {
  const char* name;  // looked up in PATH by minipod
  std::string args;  // shell words after it
};

// Commands whose output and status do not depend on the file system they
// run in; each binary is bundled by name.
std::vector<Case> Cases() {
  return {
      {"bash", "-c \"echo bash \\$((6*7)); exit 3\""},
      {"dash", "-c \"echo dash; exit 4\""},
      {"echo", "hello world"},
      {"true", ""},
      {"false", ""},
      {"printf", "\"%05d|%s\\n\" 42 x"},
      {"seq", "3 2 11"},
      {"expr", "6 \\* 7"},
      {"basename", "/a/b/c.txt .txt"},
      {"dirname", "/a/b/c"},
      {"date", "-u -d @86400 +%F"},
      {"sha256sum", "--version"},
      {"sort", "--version"},
      {"ls", "--version"},
      {"uname", "-s"},
      {"id", "-u"},
      {"stat", "--version"},
      {"grep", "-c x /nonexistent"},
      {"sed", "--version"},
      {"mawk", "\"BEGIN { print 6*7 }\""},
      {"tar", "--version"},
      {"gzip", "--version"},
      {"xz", "--version"},
      {"zstd", "--version"},
      {"find", "--version"},
      {"diff", "--version"},
      {"cpio", "--version"},
      {"perl", "-e \"print 6*7, qq(\\n); exit 5\""},
      {"python3", "-c \"import sys, json; print(json.dumps([6*7, sys.version_info[0]]))\""},
      {"git", "--version"},
      {"curl", "--version"},
      {"openssl", "version"},
      {"ssh", "-V"},
      {"make", "--version"},
  };
}

// The file name resolves to in kPath, "" if none.
std::string HostPath(const std::string& name) {
  size_t start = 0;
  const std::string path = kPath;
  while (start <= path.size()) {
    const size_t colon = std::min(path.find(':', start), path.size());
    const std::string candidate = path.substr(start, colon - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return fs::canonical(candidate).string();
    start = colon + 1;
  }
  return "";
}

bool OnHost(const char* name) { return !HostPath(name).empty(); }

// What a runtime provides and a chroot does not: programs open /dev/null.
void AddDevNull(const std::string& root) {
  ASSERT_EQ(::mkdir((root + "/dev").c_str(), 0755), 0);
  ASSERT_EQ(::mknod((root + "/dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
}

class RootfsTest : public ::testing::Test {
 protected:
  TempDir tmp_;
};

TEST_F(RootfsTest, HostBinariesRunInsideTheImageAsOnTheHost) {
  std::string bins;
  std::vector<Case> present;
  for (const Case& c : Cases()) {
    if (!OnHost(c.name)) continue;
    present.push_back(c);
    bins += std::string(" ") + c.name;
  }
  if (present.size() < 20u) GTEST_SKIP() << "only " << present.size() << " of the usual binaries on this host (20 needed)";
  std::string add;
  if (OnHost("python3")) {
    // Python's standard library is data, not a dependency ld.so knows.
    const ShResult stdlib = RunSh("python3 -c \"import sysconfig; print(sysconfig.get_path(\\\"stdlib\\\"))\"");
    ASSERT_EQ(stdlib.status, 0) << stdlib.out;
    add = " --add " + stdlib.out.substr(0, stdlib.out.find('\n'));
  }
  const std::string root = tmp_.Join("root");
  // ssh looks up the user it runs as: --nss.
  const ShResult build = RunSh(Minipod() + " rootfs build --nss -o " + root + add + bins);
  ASSERT_EQ(build.status, 0) << build.out;
  EXPECT_THAT(build.out, HasSubstr(root + ": "));
  EXPECT_THAT(build.out, HasSubstr(" files, "));
  AddDevNull(root);

  for (const Case& c : present) {
    const ShResult host = RunSh(std::string(c.name) + " " + c.args);
    const ShResult inside = RunSh("chroot " + root + " " + c.name + " " + c.args);
    EXPECT_EQ(inside.status, host.status) << c.name << ": " << inside.out;
    EXPECT_EQ(inside.out, host.out) << c.name;
  }
}

// The shared objects in the image are exactly what ldd reports for the
// binaries: nothing missing, nothing extra.
TEST_F(RootfsTest, LibrarySetEqualsLdd) {
  if (!OnHost("ldd")) GTEST_SKIP() << "no ldd to compare with";
  std::vector<std::string> names;
  for (const Case& c : Cases()) {
    if (OnHost(c.name)) names.push_back(c.name);
  }
  std::string bins;
  std::set<std::string> binaries, want;
  for (const std::string& n : names) {
    binaries.insert(HostPath(n));
    bins += " " + n;
    const ShResult ldd = RunSh("ldd " + HostPath(n) + " | awk \"\\$2==\\\"=>\\\" && \\$3 ~ /^\\// {print \\$3} \\$1 ~ /^\\// {print \\$1}\" | xargs -r realpath");
    ASSERT_EQ(ldd.status, 0) << n << ": " << ldd.out;
    size_t start = 0;
    for (size_t nl; (nl = ldd.out.find('\n', start)) != std::string::npos; start = nl + 1) {
      want.insert(ldd.out.substr(start, nl - start));
    }
  }
  const std::string root = tmp_.Join("root");
  const ShResult build = RunSh(Minipod() + " rootfs build -o " + root + bins);
  ASSERT_EQ(build.status, 0) << build.out;
  std::set<std::string> got;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file(/*symlink_nofollow*/) || e.is_symlink()) continue;
    const std::string path = e.path().string().substr(root.size());
    if (binaries.contains(path)) continue;
    got.insert(path);
  }
  EXPECT_EQ(got, want);
}

TEST_F(RootfsTest, NssMakesUserLookupsWork) {
  const std::string plain = tmp_.Join("plain"), nss = tmp_.Join("nss");
  ASSERT_EQ(RunSh(Minipod() + " rootfs build -o " + plain + " id whoami getent").status, 0);
  const ShResult built = RunSh(Minipod() + " rootfs build --nss -o " + nss + " id whoami getent");
  ASSERT_EQ(built.status, 0) << built.out;

  EXPECT_EQ(RunSh("chroot " + nss + " id").out, "uid=0(root) gid=0(root) groups=0(root)\n");
  EXPECT_EQ(RunSh("chroot " + nss + " whoami").out, "root\n");
  EXPECT_EQ(RunSh("chroot " + nss + " getent passwd nobody").out,
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
  EXPECT_EQ(RunSh("chroot " + nss + " getent group 0").out, "root:x:0:\n");
  EXPECT_EQ(RunSh("chroot " + nss + " getent hosts 127.0.0.1").out, "127.0.0.1       localhost\n");
  // Without --nss there are no names to find.
  EXPECT_EQ(RunSh("chroot " + plain + " id").out, "uid=0 gid=0 groups=0\n");
  EXPECT_NE(RunSh("chroot " + plain + " whoami").status, 0);
}

TEST_F(RootfsTest, StripStoresSmallerCopiesThatStillRun) {
  if (!OnHost("file") || !OnHost("du")) GTEST_SKIP() << "needs file(1) and du";
  const std::string full = tmp_.Join("full"), stripped = tmp_.Join("stripped");
  // Debian's binaries come stripped already; minipod itself has symbols.
  ASSERT_EQ(RunSh(Minipod() + " rootfs build -o " + full + " bash ls " + Minipod()).status, 0);
  const ShResult s = RunSh(Minipod() + " rootfs build --strip -o " + stripped + " bash ls " + Minipod());
  ASSERT_EQ(s.status, 0) << s.out;
  EXPECT_EQ(RunSh("chroot " + stripped + " bash -c \"ls -d /usr\"").out, "/usr\n");
  const ShResult du = RunSh("du -sb --apparent-size " + full + " " + stripped + " | cut -f1");
  const size_t nl = du.out.find('\n');
  ASSERT_NE(nl, std::string::npos) << du.out;
  EXPECT_LT(std::stoull(du.out.substr(nl + 1)), std::stoull(du.out.substr(0, nl)));
  // The host's files are untouched: still not stripped.
  EXPECT_THAT(RunSh("file -L " + Minipod()).out, HasSubstr("not stripped"));
  EXPECT_THAT(RunSh("file -L " + stripped + Minipod()).out, Not(HasSubstr("not stripped")));
}

TEST_F(RootfsTest, InitramfsNeedsNoRootAndIsReproducible) {
  if (!OnHost("setpriv") || !OnHost("cpio") || !OnHost("zcat")) GTEST_SKIP() << "needs setpriv, cpio and zcat";
  const std::string out = tmp_.Join("out");
  ASSERT_EQ(::mkdir(out.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(out.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
  const std::string as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  const ShResult a = RunSh(as_nobody + Minipod() + " rootfs build --init -o " + out + "/a.cpio.gz bash");
  ASSERT_EQ(a.status, 0) << a.out;
  const ShResult b = RunSh(as_nobody + Minipod() + " rootfs build --init -o " + out + "/b.cpio.gz bash");
  ASSERT_EQ(b.status, 0) << b.out;
  EXPECT_EQ(RunSh("cmp " + out + "/a.cpio.gz " + out + "/b.cpio.gz").status, 0);
  const ShResult list = RunSh("zcat " + out + "/a.cpio.gz | cpio -itv --quiet");
  ASSERT_EQ(list.status, 0) << list.out;
  EXPECT_THAT(list.out, HasSubstr("crw------- "));
  EXPECT_THAT(list.out, HasSubstr(" dev/console"));
  EXPECT_THAT(list.out, HasSubstr(" init"));
  EXPECT_THAT(list.out, HasSubstr("sbin/init -> /init"));
  EXPECT_THAT(list.out, HasSubstr(" usr/bin/bash"));
}

TEST_F(RootfsTest, KernelModulesComeWithTheirDependenciesInLoadOrder) {
  if (!OnHost("xz") || !OnHost("cpio")) GTEST_SKIP() << "needs xz and cpio for the fixture";
  // This machine's kernel has no /lib/modules; a tree shaped like one does.
  const std::string kdir = tmp_.Join("modules/6.1.0-test");
  ASSERT_EQ(RunSh("mkdir -p " + kdir + "/kernel/fs/overlayfs " + kdir + "/kernel/lib && cd " + kdir +
               " && echo overlay > kernel/fs/overlayfs/overlay.ko && echo crc > kernel/lib/libcrc.ko"
               " && echo zlib > kernel/lib/zlib.ko && xz kernel/lib/zlib.ko"
               " && printf \"kernel/fs/overlayfs/overlay.ko: kernel/lib/libcrc.ko kernel/lib/zlib.ko.xz\\n"
               "kernel/lib/libcrc.ko: kernel/lib/zlib.ko.xz\\nkernel/lib/zlib.ko.xz:\\n\" > modules.dep"
               " && echo \"alias fs-overlay overlay\" > modules.alias && echo kernel/fs/ext4/ext4.ko > modules.builtin")
                .status,
            0);
  const std::string image = tmp_.Join("m.cpio");
  const ShResult built = RunSh(Minipod() + " rootfs build --kernel-dir " + kdir +
                            " --module fs-overlay --module ext4 -o " + image);
  ASSERT_EQ(built.status, 0) << built.out;
  EXPECT_THAT(built.out, HasSubstr("ext4: built into the kernel"));
  const std::string x = tmp_.Join("x");
  ASSERT_EQ(RunSh("mkdir " + x + " && cd " + x + " && cpio -id --quiet < " + image).status, 0);
  EXPECT_EQ(RunSh("cat " + x + "/etc/minipod/modules").out,
            "/lib/modules/6.1.0-test/kernel/lib/zlib.ko\n"
            "/lib/modules/6.1.0-test/kernel/lib/libcrc.ko\n"
            "/lib/modules/6.1.0-test/kernel/fs/overlayfs/overlay.ko\n");
  EXPECT_EQ(RunSh("cat " + x + "/lib/modules/6.1.0-test/kernel/lib/zlib.ko").out, "zlib\n");

  const ShResult missing = RunSh(Minipod() + " rootfs build --kernel-release 0.0-none --module overlay -o " +
                              tmp_.Join("none"));
  EXPECT_NE(missing.status, 0);
  EXPECT_THAT(missing.out, HasSubstr("0.0-none"));
  EXPECT_FALSE(fs::exists(tmp_.Join("none")));
}

TEST_F(RootfsTest, OciImagePassesSkopeoAndUmoci) {
  if (!OnHost("skopeo") || !OnHost("umoci")) GTEST_SKIP() << "skopeo or umoci not installed (scripts/setup installs them)";
  const std::string image = tmp_.Join("image");
  const ShResult built = RunSh(Minipod() + " rootfs build --init --format oci -o " + image + " bash");
  ASSERT_EQ(built.status, 0) << built.out;
  const ShResult inspect = RunSh("skopeo inspect oci:" + image + ":latest");
  ASSERT_EQ(inspect.status, 0) << inspect.out;
  EXPECT_THAT(inspect.out, HasSubstr("\"Layers\""));
  const ShResult config = RunSh("skopeo inspect --config oci:" + image + ":latest");
  EXPECT_THAT(config.out, HasSubstr("/sbin/init"));
  const std::string bundle = tmp_.Join("bundle");
  const ShResult unpack = RunSh("umoci unpack --image " + image + ":latest " + bundle);
  ASSERT_EQ(unpack.status, 0) << unpack.out;
  EXPECT_EQ(RunSh("chroot " + bundle + "/rootfs bash -c \"echo \\$((2+2))\"").out, "4\n");

  if (!OnHost("podman")) return;
  // A private store (vfs: no mounts) so the host's images are untouched and
  // the temporary directory takes everything with it. Running a container
  // is not tried: crun cannot set rlimits inside this machine's sandbox.
  const std::string podman = "podman --root " + tmp_.Join("store") + " --runroot " + tmp_.Join("run") +
                             " --storage-driver vfs ";
  // Relative: podman names the image after the path, which must be lowercase.
  const ShResult pull = RunSh("cd " + tmp_.path() + " && " + podman + "pull -q oci:image");
  ASSERT_EQ(pull.status, 0) << pull.out;
  const ShResult podman_inspect =
      RunSh(podman + "image inspect --format \"{{.Config.Entrypoint}} {{.Os}} {{len .RootFS.Layers}}\" " +
         pull.out.substr(0, pull.out.find('\n')));
  EXPECT_EQ(podman_inspect.out, "[/sbin/init] linux 1\n");
}

TEST_F(RootfsTest, DepsJsonIsValidAndNamesRules) {
  const ShResult deps = RunSh(Minipod() + " rootfs deps --json ls");
  ASSERT_EQ(deps.status, 0) << deps.out;
  const std::string json = tmp_.WriteFile("deps.json", deps.out, 0644);
  if (!OnHost("python3")) GTEST_SKIP() << "needs python3 to parse the JSON";
  const ShResult check = RunSh("python3 -c \"import json,sys; d=json.load(open(sys.argv[1])); "
                       "print(d[0][\\\"objects\\\"][1][\\\"rule\\\"], len(d[0][\\\"objects\\\"]) > 2)\" " + json);
  EXPECT_EQ(check.out, "interpreter True\n");
  const ShResult tree = RunSh(Minipod() + " rootfs deps ls");
  EXPECT_THAT(tree.out, HasSubstr("libc.so.6 => "));
}

TEST_F(RootfsTest, BadInputsFailWithOneLineAndLeaveNothing) {
  const std::string out = tmp_.Join("out");
  const std::string text = tmp_.WriteFile("notes.txt", "plain text\n", 0755);
  struct Bad {
    std::string args, message;
  } bad[] = {
      {"-o " + out + " mpfx-no-such-binary", "mpfx-no-such-binary: not found in PATH"},
      {"-o " + out + " " + text, text + ": not an ELF file or a #! script"},
      {"-o " + out + ".cpio --format tar bash", "--format"},
      {"-o " + out + " --frobnicate bash", "unknown option '--frobnicate'"},
  };
  for (const Bad& b : bad) {
    const ShResult r = RunSh(Minipod() + " rootfs build " + b.args);
    EXPECT_NE(r.status, 0) << b.args;
    EXPECT_THAT(r.out, HasSubstr(b.message)) << b.args;
    // The reason comes first, on one line.
    EXPECT_THAT(r.out.substr(0, r.out.find('\n')), HasSubstr(b.message)) << b.args;
  }
  // Nothing was written next to OUT.
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(tmp_.path())) left.push_back(e.path().filename().string());
  EXPECT_THAT(left, ::testing::UnorderedElementsAre("notes.txt"));

  // An existing OUT is refused without --force and kept as it was.
  ASSERT_EQ(RunSh(Minipod() + " rootfs build -o " + out + " true").status, 0);
  const ShResult again = RunSh(Minipod() + " rootfs build -o " + out + " bash");
  EXPECT_NE(again.status, 0);
  EXPECT_THAT(again.out, HasSubstr("exists"));
  EXPECT_FALSE(fs::exists(out + "/usr/bin/bash"));
  ASSERT_EQ(RunSh(Minipod() + " rootfs build --force -o " + out + " bash").status, 0);
  EXPECT_TRUE(fs::exists(out + "/usr/bin/bash"));
  EXPECT_FALSE(fs::exists(out + "/usr/bin/true"));
}

// The files left next to OUT whose names hold ".tmp-" (a build's leftovers).
std::vector<std::string> Leftovers(const std::string& dir) {
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp-") != std::string::npos) left.push_back(e.path().string());
  }
  return left;
}

// Unmounts on every path out of the test: the mount at target and, since
// a failing build may have renamed the tree holding it, every mount below
// scope (the test's own temporary directory).
struct ScopedBind {
  std::string target;
  std::string scope;
  bool mounted = false;
  ~ScopedBind() {
    if (!mounted) return;
    ::umount2(target.c_str(), MNT_DETACH);
    std::vector<std::string> below;
    if (FILE* f = ::fopen("/proc/self/mounts", "r")) {
      char dev[4096], dir[4096];
      while (::fscanf(f, "%4095s %4095s %*[^\n]", dev, dir) == 2) {
        if (std::string(dir).rfind(scope + "/", 0) == 0) below.emplace_back(dir);
      }
      ::fclose(f);
    }
    std::sort(below.rbegin(), below.rend());  // deepest first
    for (const std::string& m : below) ::umount2(m.c_str(), MNT_DETACH);
  }
};

TEST_F(RootfsTest, ForceRefusesAnOldTreeWithAMountInside) {
  const std::string out = tmp_.Join("out");
  ASSERT_EQ(RunSh(Minipod() + " rootfs build -o " + out + " true").status, 0);
  // A host directory on the same file system, bound inside the old OUT:
  // same st_dev, only the mount id tells.
  const std::string host = tmp_.Join("host");
  ASSERT_EQ(::mkdir(host.c_str(), 0755), 0);
  tmp_.WriteFile("host/precious", "keep me\n", 0644);
  const std::string target = out + "/usr/share";
  ASSERT_EQ(RunSh("mkdir -p " + target).status, 0);
  ScopedBind bind{target, tmp_.path()};
  ASSERT_EQ(::mount(host.c_str(), target.c_str(), nullptr, MS_BIND, nullptr), 0) << strerror(errno);
  bind.mounted = true;

  const ShResult r = RunSh(Minipod() + " rootfs build --force -o " + out + " bash");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out.substr(0, r.out.find('\n')), HasSubstr(target + " is a mount point"));
  EXPECT_TRUE(fs::exists(host + "/precious"));
  EXPECT_TRUE(fs::exists(target + "/precious"));
  EXPECT_TRUE(fs::exists(out + "/usr/bin/true"));
  EXPECT_FALSE(fs::exists(out + "/usr/bin/bash"));
  EXPECT_THAT(Leftovers(tmp_.path()), IsEmpty());

  // The same for an OCI layout being replaced.
  const ShResult oci = RunSh(Minipod() + " rootfs build --force --format oci -o " + out + " bash");
  EXPECT_EQ(oci.status, 1) << oci.out;
  EXPECT_THAT(oci.out, HasSubstr(target + " is a mount point"));
  EXPECT_TRUE(fs::exists(host + "/precious"));
  EXPECT_THAT(Leftovers(tmp_.path()), IsEmpty());
}

// Writes bytes to path (names may be any bytes); false on failure.
bool PutFile(const std::string& path, const std::string& data, mode_t mode) {
  FILE* f = fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const bool ok = fwrite(data.data(), 1, data.size(), f) == data.size();
  return fclose(f) == 0 && ok && ::chmod(path.c_str(), mode) == 0;
}

TEST_F(RootfsTest, RelativeBinOutAndAddSourceAreFromTheWorkingDirectory) {
  ASSERT_EQ(RunSh("cp /bin/true " + tmp_.Join("mytrue")).status, 0);
  tmp_.WriteFile("notes.txt", "hello\n", 0644);
  const ShResult r =
      RunSh("cd " + tmp_.path() + " && " + Minipod() + " rootfs build -o out --add notes.txt:/etc/notes ./mytrue");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::exists(tmp_.Join("out") + tmp_.path() + "/mytrue"));
  EXPECT_EQ(RunSh("cat " + tmp_.Join("out/etc/notes")).out, "hello\n");
  EXPECT_EQ(RunSh("chroot " + tmp_.Join("out") + " " + tmp_.path() + "/mytrue").status, 0);
  const ShResult deps = RunSh("cd " + tmp_.path() + " && " + Minipod() + " rootfs deps ./mytrue");
  EXPECT_EQ(deps.status, 0) << deps.out;
  EXPECT_THAT(deps.out, HasSubstr("libc.so.6 => "));
}

TEST_F(RootfsTest, AddFollowsTheImagesLinksAndTakesAnEscapedColon) {
  const std::string tool = tmp_.WriteFile("tool", "#!/bin/bash\necho tool\n", 0755);
  ASSERT_TRUE(PutFile(tmp_.Join("a:b"), "colon\n", 0644));
  const std::string out = tmp_.Join("out");
  // /bin/bash brings /bin -> usr/bin on a merged-/usr host; --add writes through it.
  const ShResult r = RunSh(Minipod() + " rootfs build -o " + out + " --add " + tool + ":/bin/tool --add \"" +
                        tmp_.path() + "/a\\:b:/etc/ab\" /bin/bash");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(RunSh("chroot " + out + " /bin/tool").out, "tool\n");
  EXPECT_EQ(RunSh("cat " + out + "/etc/ab").out, "colon\n");
  if (fs::is_symlink(out + "/bin")) {
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(out + "/usr/bin/tool")));
  }
}

TEST_F(RootfsTest, TarAndOciKeepNamesThatAreNotAsciiOrNotUtf8) {
  if (!OnHost("tar") || !OnHost("cpio")) GTEST_SKIP() << "needs GNU tar and cpio to read the archives back";
  const std::string src = tmp_.Join("src");
  ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
  const std::string utf8 = "caf\xc3\xa9", binary = "bad\xff\xfe";
  ASSERT_TRUE(PutFile(src + "/" + utf8, "1\n", 0644));
  ASSERT_TRUE(PutFile(src + "/" + binary, "2\n", 0644));
  for (const char* name : {"x.tar", "x.tar.gz", "x.cpio"}) {
    const std::string out = tmp_.Join(name);
    const ShResult r = RunSh(Minipod() + " rootfs build --add " + src + ":/d -o " + out);
    ASSERT_EQ(r.status, 0) << name << ": " << r.out;
    const bool cpio = std::string(name).ends_with(".cpio");
    const ShResult list = RunSh((cpio ? "cpio -it --quiet < " : "tar --quoting-style=literal -tf ") + out);
    EXPECT_EQ(list.status, 0) << list.out;
    EXPECT_EQ(list.out, std::string(cpio ? "d" : "d/") + "\nd/" + binary + "\nd/" + utf8 + "\n") << name;
  }
  const ShResult x = RunSh("mkdir " + tmp_.Join("x") + " && tar -xf " + tmp_.Join("x.tar") + " -C " + tmp_.Join("x"));
  ASSERT_EQ(x.status, 0) << x.out;
  EXPECT_EQ(RunSh("cat " + tmp_.Join("x/d/") + binary).out, "2\n");
  const ShResult oci = RunSh(Minipod() + " rootfs build --add " + src + ":/d --format oci -o " + tmp_.Join("oci"));
  EXPECT_EQ(oci.status, 0) << oci.out;
}

TEST_F(RootfsTest, OciArchivePassesSkopeoAndPodmanLoad) {
  if (!OnHost("skopeo")) GTEST_SKIP() << "skopeo not installed (scripts/setup installs it)";
  const std::string a = tmp_.Join("a.tar"), b = tmp_.Join("b.tar");
  ASSERT_EQ(RunSh(Minipod() + " rootfs build --init --format oci -o " + a + " bash").status, 0);
  const ShResult built = RunSh(Minipod() + " rootfs build --init --format oci -o " + b + " bash");
  ASSERT_EQ(built.status, 0) << built.out;
  EXPECT_EQ(RunSh("cmp " + a + " " + b).status, 0) << "not reproducible";
  const ShResult inspect = RunSh("skopeo inspect oci-archive:" + a);
  ASSERT_EQ(inspect.status, 0) << inspect.out;
  EXPECT_THAT(inspect.out, HasSubstr("\"Layers\""));
#if defined(__x86_64__)
  EXPECT_THAT(inspect.out, HasSubstr("\"Architecture\": \"amd64\""));
#endif
  const ShResult config = RunSh("skopeo inspect --config oci-archive:" + a);
  EXPECT_THAT(config.out, HasSubstr("/sbin/init"));
  if (!OnHost("podman")) return;
  const std::string podman = "podman --root " + tmp_.Join("store") + " --runroot " + tmp_.Join("run") +
                             " --storage-driver vfs ";
  const ShResult load = RunSh(podman + "load -q -i " + a);
  ASSERT_EQ(load.status, 0) << load.out;
  EXPECT_THAT(load.out, HasSubstr("Loaded image"));
}

TEST_F(RootfsTest, NoSpaceNamesTheOutputAndLeavesNothing) {
  const std::string small = tmp_.Join("small");
  ASSERT_EQ(::mkdir(small.c_str(), 0755), 0);
  ScopedBind mount{small, tmp_.path()};
  if (::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << strerror(errno);
  }
  mount.mounted = true;
  for (const char* name : {"d", "c.cpio", "t.tar", "o.tar"}) {
    const std::string out = small + "/" + name;
    const std::string format = std::string(name) == "o.tar" ? " --format oci" : "";
    const ShResult r = RunSh(Minipod() + " rootfs build" + format + " -o " + out + " bash");
    EXPECT_EQ(r.status, 1) << name << ": " << r.out;
    const std::string first = r.out.substr(0, r.out.find('\n'));
    EXPECT_THAT(first, HasSubstr("writing " + out));
    EXPECT_THAT(first, HasSubstr("No space left on device"));
    EXPECT_THAT(RunSh("ls -A " + small).out, IsEmpty()) << name;
  }
}

TEST_F(RootfsTest, MalformedElfIsAFailureNotAUsageError) {
  // The ELF magic and a 64-bit header cut short.
  const std::string bad = tmp_.Join("bad");
  ASSERT_TRUE(PutFile(bad, std::string("\x7f" "ELF\x02\x01\x01", 7) + std::string(20, '\0'), 0755));
  for (const std::string& cmd : {" rootfs build -o " + tmp_.Join("out") + " " + bad, std::string(" rootfs deps ") + bad}) {
    const ShResult r = RunSh(Minipod() + cmd);
    EXPECT_EQ(r.status, 1) << cmd << ": " << r.out;
    EXPECT_THAT(r.out.substr(0, r.out.find('\n')), HasSubstr(bad + ": ")) << cmd;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  }
  EXPECT_FALSE(fs::exists(tmp_.Join("out")));
  // A usage error is still 2.
  EXPECT_EQ(RunSh(Minipod() + " rootfs build --frobnicate").status, 2);
}

TEST_F(RootfsTest, DepsJsonIsValidForNamesThatAreNotUtf8) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/python3 to parse the JSON";
  const std::string dir = tmp_.Join("bin\xff");
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(RunSh("cp /bin/true \"" + dir + "/true\"").status, 0);
  const ShResult deps = RunSh(Minipod() + " rootfs deps --json \"" + dir + "/true\"");
  ASSERT_EQ(deps.status, 0) << deps.out;
  const std::string json = tmp_.WriteFile("deps.json", deps.out, 0644);
  // Strict UTF-8 decoding, then the base64 form decodes to the exact bytes.
  const ShResult check = RunSh(
      "/usr/bin/python3 -c \"import json,sys,base64; d=json.loads(open(sys.argv[1],\\\"rb\\\").read().decode()); "
      "b=d[0][\\\"binary\\\"]; sys.stdout.buffer.write(base64.b64decode(b[\\\"base64\\\"]) + b\\\"|\\\" + "
      "d[0][\\\"objects\\\"][1][\\\"rule\\\"].encode())\" " + json);
  EXPECT_EQ(check.status, 0) << check.out;
  EXPECT_EQ(check.out, dir + "/true|interpreter");
}

TEST_F(RootfsTest, BundleCacheRefusesPlantedDirectoriesAndReapsLeftovers) {
  ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
  const std::string nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  // No HOME, XDG_* or MINIPOD_CACHE (Sh's environment): no shared fallback.
  const ShResult no_home = RunSh(nobody + Minipod() + " run --bundle true -- true");
  EXPECT_EQ(no_home.status, 125) << no_home.out;
  EXPECT_THAT(no_home.out, HasSubstr("MINIPOD_CACHE"));

  // Another user (daemon, uid 1) prepared the cache directory nobody is told to use.
  const std::string shared = tmp_.Join("shared");
  ASSERT_EQ(::mkdir(shared.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(shared.c_str(), 01777), 0);
  const std::string planted = shared + "/cache";
  ASSERT_EQ(::mkdir(planted.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(planted.c_str(), 0777), 0);
  ASSERT_EQ(::chown(planted.c_str(), 1, 1), 0);
  const ShResult r = RunSh(nobody + "env MINIPOD_CACHE=" + planted + " " + Minipod() + " run --bundle true -- true");
  EXPECT_EQ(r.status, 125) << r.out;
  EXPECT_THAT(r.out, HasSubstr(planted + ": owned by uid 1"));
  EXPECT_FALSE(fs::exists(planted + "/bundles"));

  // Root's own cache: a killed build's temporary tree is reaped by the next run.
  const std::string cache = tmp_.Join("cache");
  ASSERT_EQ(RunSh("mkdir -p -m 0700 " + cache + "/bundles/0123.tmp-abcdef/usr").status, 0);
  const ShResult ok = RunSh("MINIPOD_CACHE=" + cache + " " + Minipod() + " run --bundle true -- true");
  EXPECT_EQ(ok.status, 0) << ok.out;
  EXPECT_FALSE(fs::exists(cache + "/bundles/0123.tmp-abcdef"));
}

}  // namespace
}  // namespace itest
