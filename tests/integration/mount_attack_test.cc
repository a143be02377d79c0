// `minipod run` against hostile trees, as root: symbolic links in the image
// or in an --upper layer that point out of the root (absolute, relative,
// "..", chains, /proc's magic links) must never make a mount point, a file
// or a mount land on the host; device nodes must stay inert unless a :dev
// bind asks for one of Docker's default devices; --read-only leaves the
// tree byte for byte as it was; an --upper layer serves one run at a time;
// relative paths and the order of --bind and --tmpfs work as documented.
// Links point at a throwaway "victim" directory the test made wherever they
// can, so a failure damages nothing real. Every run is bounded by timeout(1).
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/harness.h"
#include "tests/testing/probes.h"

namespace itest {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

// cmd goes to sh -c inside single quotes: it must not contain one. The
// capability warning of a reduced bounding set is dropped from the output,
// so that the outputs compared below are the same on every host.
ShResult RunSh(const std::string& cmd) {
  ShResult r = Sh(cmd);
  r.out = WithoutCapWarnings(r.out);
  return r;
}

// One line per entry under dir: path, type and mode, owner, size, and with
// times the modification and change times (recursive only when asked).
std::string Listing(const std::string& dir, bool recursive, bool times) {
  std::vector<std::string> lines;
  std::vector<std::string> todo = {dir};
  while (!todo.empty()) {
    const std::string d = todo.back();
    todo.pop_back();
    struct stat st;
    if (lstat(d.c_str(), &st) != 0) {
      lines.push_back(d + " missing");
      continue;
    }
    std::ostringstream l;
    l << d << " " << std::oct << st.st_mode << std::dec << " " << st.st_uid << ":" << st.st_gid;
    if (!S_ISDIR(st.st_mode)) l << " " << st.st_size;
    if (times) l << " " << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec << " " << st.st_ctim.tv_sec << "." << st.st_ctim.tv_nsec;
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      const ssize_t n = readlink(d.c_str(), target, sizeof target - 1);
      if (n > 0) l << " -> " << std::string(target, static_cast<size_t>(n));
    }
    lines.push_back(l.str());
    if (!S_ISDIR(st.st_mode) || (d != dir && !recursive)) continue;
    if (DIR* h = opendir(d.c_str())) {
      while (dirent* e = readdir(h)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") todo.push_back(d + "/" + n);
      }
      closedir(h);
    }
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// What a mistake would change on the host: the victim directory (fully),
// and the names in /, /etc and /var (other tests on this machine may touch
// their contents, never their names).
std::string HostState(const std::string& victim) {
  return Listing(victim, /*recursive=*/true, /*times=*/true) + Listing("/", false, false) +
         Listing("/etc", false, false) + Listing("/var", false, false);
}

// Either the run worked (status 0) or minipod refused with one clear line
// naming the step (status 125, "minipod run: setting up the root: ..."),
// never a crash or a failure for another reason.
void ExpectRanOrRefused(const ShResult& r, const std::string& what, const std::string& reason) {
  if (r.status == 0) return;
  EXPECT_EQ(r.status, 125) << what << ": " << r.out;
  EXPECT_THAT(r.out, HasSubstr("minipod run: " + reason)) << what;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << what << ": " << r.out;
}

class MountAttackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    ASSERT_EQ(::chmod(tmp_->path().c_str(), 0755), 0);
    // The victim lives outside /tmp: the child mounts its scratch tmpfs
    // there, which would hide a victim below /tmp from a broken launcher.
    victim_parent_ = "/var/tmp/minipod-attack-" + std::to_string(getpid());
    fs::create_directories(victim_parent_);
    root_ = tmp_->Join("root");
    const ShResult b = RunSh("PATH=/usr/sbin:/usr/bin:/sbin:/bin " + Minipod() + " rootfs build --nss -o " + root_ +
                          " sh cat true " + Probe());
    ASSERT_EQ(b.status, 0) << b.out;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(victim_parent_, ec);
    delete tmp_;
    tmp_ = nullptr;
  }
  // Whether the test runs minipod as root (it then needs what a root run
  // needs); the rootless test does not.
  virtual bool AsRoot() const { return true; }
  void SetUp() override {
    mounts_before_ = MountPoints();
    if (tmp_ == nullptr || !fs::exists(root_ + "/usr")) GTEST_SKIP() << "no root file system was built";
    // As root, a run makes a network namespace and brings its loopback up
    // (CAP_NET_ADMIN) and mounts (CAP_SYS_ADMIN): a container may withhold
    // them from us.
    const testing_util::Probe caps = testing_util::EffectiveHas((uint64_t{1} << CAP_SYS_ADMIN) | (uint64_t{1} << CAP_NET_ADMIN));
    if (AsRoot() && !caps) GTEST_SKIP() << caps.detail << " to run sandboxes as root";
    victim_ = victim_parent_ + "/victim";
    fs::remove_all(victim_);
    fs::create_directories(victim_ + "/sub");
    std::ofstream(victim_ + "/keep") << "victim\n";
    file_ = tmp_->WriteFile("bindfile", "bound-file\n", 0644);
    fs::create_directories(tmp_->Join("binddir"));
    // A benign run works: a refusal below is about the hostile tree.
    if (AsRoot()) {
      const ShResult r = Run(root_, "", "true");
      ASSERT_EQ(r.status, 0) << r.out;
    }
  }
  void TearDown() override { EXPECT_EQ(Appeared(mounts_before_, MountPoints()), "") << "a run left a mount behind"; }

  static ShResult Run(const std::string& root, const std::string& options, const std::string& cmd) {
    return RunSh(Minipod() + " run --rootfs " + root + " " + options + " -- " + cmd);
  }

  static TempDir* tmp_;
  static std::string root_, victim_parent_;
  std::string victim_, file_;
  std::multiset<std::string> mounts_before_;
};
TempDir* MountAttackTest::tmp_ = nullptr;
std::string MountAttackTest::root_;
std::string MountAttackTest::victim_parent_;

// Link texts that lead out of the root when resolved with the host as "/".
std::vector<std::pair<std::string, std::string>> HostileLinks(const std::string& victim) {
  return {
      {"absolute", victim},
      {"relative", "../../../../../../../../.." + victim},
      {"dotdot-inside", "bin/../../../../../../../.." + victim},
      {"chain", "hop1"},  // hop1 -> hop2 -> victim (made below)
      {"proc-magic", "/proc/self/root" + victim},
      {"proc-cwd", "/proc/self/cwd/../../../../../../../.." + victim},
  };
}

TEST_F(MountAttackTest, LinksInTheImageNeverLeadToTheHost) {
  const std::string dir = tmp_->Join("binddir");
  const struct {
    std::string name, options, cmd, refusal;
  } options[] = {
      {"bind-file", "--bind " + file_ + ":/L/nologin", "true", "setting up the root"},
      {"bind-dir", "--bind " + dir + ":/L/sub/deeper", "true", "setting up the root"},
      {"tmpfs", "--tmpfs /L/tmpdir", "true", "setting up the root"},
      {"workdir", "-w /L", "true", "changing to the working directory /L"},
      {"bind-file-rw", "--bind " + file_ + ":/L/created/x:rw", "true", "setting up the root"},
  };
  for (const auto& [kind, text] : HostileLinks(victim_)) {
    for (const auto& o : options) {
      const std::string what = kind + " x " + o.name;
      fs::remove(root_ + "/L");
      fs::remove(root_ + "/hop1");
      fs::remove(root_ + "/hop2");
      ASSERT_EQ(symlink(text.c_str(), (root_ + "/L").c_str()), 0) << what;
      if (kind == "chain") {
        ASSERT_EQ(symlink("/hop2", (root_ + "/hop1").c_str()), 0);
        ASSERT_EQ(symlink(("../.." + victim_).c_str(), (root_ + "/hop2").c_str()), 0);
      }
      const std::string before = HostState(victim_);
      const ShResult r = Run(root_, o.options, o.cmd);
      EXPECT_EQ(HostState(victim_), before) << what << ": " << r.out;
      ExpectRanOrRefused(r, what, o.refusal);
    }
  }
  fs::remove(root_ + "/L");
  fs::remove(root_ + "/hop1");
  fs::remove(root_ + "/hop2");
}

TEST_F(MountAttackTest, TheSandboxsOwnMountPointsAsLinks) {
  // dev, proc or sys replaced by a link out: /dev's devices, /proc's masks
  // and /sys would be made on the host.
  for (const char* special : {"dev", "proc", "sys"}) {
    for (const auto& [kind, text] : HostileLinks(victim_)) {
      if (kind == "chain") continue;
      const std::string what = std::string(special) + " -> " + kind;
      const std::string path = root_ + "/" + special;
      fs::remove_all(path);
      ASSERT_EQ(symlink(text.c_str(), path.c_str()), 0) << what;
      const std::string before = HostState(victim_);
      const ShResult r = Run(root_, "", "true");
      EXPECT_EQ(HostState(victim_), before) << what << ": " << r.out;
      ExpectRanOrRefused(r, what, "setting up the root");
      fs::remove(path);
      fs::create_directory(path);
    }
  }
}

// Runs as nobody need none of our capabilities: no skip for a reduced set.
class MountAttackRootlessTest : public MountAttackTest {
 protected:
  bool AsRoot() const override { return false; }
};

TEST_F(MountAttackRootlessTest, RootlessTooAsNobody) {
  // The victim is writable by anyone, so only the resolution protects it.
  ASSERT_EQ(chmod(victim_.c_str(), 0777), 0);
  const std::string nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  const ShResult probe = RunSh(nobody + Minipod() + " run --rootfs " + root_ + " -- true");
  if (probe.status != 0 && probe.out.find("clone") != std::string::npos) {
    GTEST_SKIP() << "no user namespaces for nobody here: " << probe.out;
  }
  ASSERT_EQ(probe.status, 0) << probe.out;
  for (const auto& [kind, text] : HostileLinks(victim_)) {
    if (kind == "chain") continue;
    for (const std::string& special : {std::string("L"), std::string("dev")}) {
      const std::string what = special + " -> " + kind;
      const std::string path = root_ + "/" + special;
      fs::remove_all(path);
      ASSERT_EQ(symlink(text.c_str(), path.c_str()), 0) << what;
      const std::string before = HostState(victim_);
      const ShResult r =
          RunSh(nobody + Minipod() + " run --rootfs " + root_ + " --bind " + file_ + ":/L/nologin -- true");
      EXPECT_EQ(HostState(victim_), before) << what << ": " << r.out;
      ExpectRanOrRefused(r, what, "setting up the root");
      fs::remove(path);
      if (special == "dev") fs::create_directory(path);
    }
  }
}

TEST_F(MountAttackTest, ALinkToEtcInTheImageMeansTheImagesEtc) {
  // The reproduction: var -> /etc and a bind onto /var/nologin. The
  // bind must land in the image's /etc (benign trees keep working).
  const std::string name = "minipod-attack-" + std::to_string(getpid());
  fs::remove_all(root_ + "/var");
  ASSERT_EQ(symlink("/etc", (root_ + "/var").c_str()), 0);
  const std::string before = HostState(victim_);
  const ShResult r = Run(root_, "--bind " + file_ + ":/var/" + name, "cat /etc/" + name);
  EXPECT_FALSE(fs::exists("/etc/" + name)) << r.out;
  if (fs::exists("/etc/" + name)) fs::remove("/etc/" + name);
  EXPECT_EQ(HostState(victim_), before);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "bound-file\n");
  EXPECT_FALSE(fs::exists(root_ + "/etc/" + name)) << "made in the overlay's scratch layer, not the tree";
  fs::remove(root_ + "/var");
  fs::create_directory(root_ + "/var");
}

TEST_F(MountAttackTest, LinksInAnUpperLayerNeverLeadToTheHost) {
  const std::string upper = tmp_->Join("upper-attack");
  for (const auto& [kind, text] : HostileLinks(victim_)) {
    if (kind == "chain") continue;
    fs::remove_all(upper);
    fs::create_directories(upper + "/upper");
    ASSERT_EQ(symlink(text.c_str(), (upper + "/upper/L").c_str()), 0);
    const std::string before = HostState(victim_);
    const ShResult r = Run(root_, "--upper " + upper + " --bind " + file_ + ":/L/nologin", "true");
    EXPECT_EQ(HostState(victim_), before) << kind << ": " << r.out;
    ExpectRanOrRefused(r, "upper " + kind, "setting up the root");
  }
  // DIR as a link: refused.
  fs::remove_all(upper);
  ASSERT_EQ(symlink(victim_.c_str(), upper.c_str()), 0);
  {
    const std::string before = HostState(victim_);
    const ShResult r = Run(root_, "--upper " + upper, "true");
    EXPECT_EQ(HostState(victim_), before) << r.out;
    EXPECT_EQ(r.status, 125) << r.out;
    EXPECT_THAT(r.out, HasSubstr("--upper " + upper + ": a symbolic link; refused"));
  }
  // The layer's own directories as links: refused before anything is mounted.
  for (const char* sub : {"upper", "work"}) {
    fs::remove_all(upper);
    fs::create_directories(upper);
    ASSERT_EQ(symlink(victim_.c_str(), (upper + "/" + sub).c_str()), 0);
    const std::string before = HostState(victim_);
    const ShResult r = Run(root_, "--upper " + upper, Probe() + " write /etc/planted");
    EXPECT_EQ(HostState(victim_), before) << sub << ": " << r.out;
    EXPECT_EQ(r.status, 125) << sub << ": " << r.out;
    EXPECT_THAT(r.out, HasSubstr("--upper " + upper + "/" + sub + ": not a directory (a symbolic link; refused)"));
  }
  fs::remove_all(upper);
}

// Whether the host's kernel log holds marker; false when it cannot be read.
bool KernelLogHas(const std::string& marker) {
  const ShResult r = RunSh("dmesg 2>/dev/null | grep -c " + marker);
  return r.status == 0 && r.out != "0\n";
}

TEST_F(MountAttackTest, DeviceNodesAreInertUnlessAllowed) {
  struct stat kmsg;
  if (stat("/dev/kmsg", &kmsg) != 0 || !S_ISCHR(kmsg.st_mode)) GTEST_SKIP() << "no /dev/kmsg on this host";
  const std::string node = root_ + "/k";
  ASSERT_EQ(mknod(node.c_str(), S_IFCHR | 0666, makedev(1, 11)), 0) << strerror(errno);
  const std::string marker = "minipod-kmsg-" + std::to_string(getpid());
  for (const std::string& options : {std::string(""), std::string("--read-only")}) {
    ShResult r = Run(root_, options, Probe() + " write /k");
    EXPECT_EQ(r.status, 0) << options << r.out;
    EXPECT_THAT(r.out, HasSubstr("write EACCES")) << options;
    r = Run(root_, options, "sh -c \"echo " + marker + " > /k\"");
    // The shell's refusal (2), not minipod failing to start (125).
    EXPECT_EQ(r.status, 2) << options << r.out;
    EXPECT_THAT(r.out, HasSubstr("Permission denied")) << options;
  }
  fs::remove(node);
  ShResult r = Run(root_, "--bind /dev/kmsg:/k:rw", Probe() + " write /k");
  EXPECT_THAT(r.out, HasSubstr("write EACCES")) << r.out;
  r = Run(root_, "--bind /dev/kmsg:/k:rw", "sh -c \"echo " + marker + " > /k\"");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("Permission denied"));
  EXPECT_FALSE(KernelLogHas(marker)) << "the sandbox wrote to the host's kernel log";
  // :dev on a device outside Docker's list: refused, naming it.
  r = Run(root_, "--bind /dev/kmsg:/k:rw,dev", "true");
  EXPECT_EQ(r.status, 125) << r.out;
  EXPECT_THAT(r.out, HasSubstr("--bind /dev/kmsg:/k:dev: character device 1:11 is not in the default device allow list"));
  // One that is on it works; and the sandbox's own /dev/null still does.
  r = Run(root_, "--bind /dev/null:/n:rw,dev", Probe() + " write /n");
  EXPECT_THAT(r.out, HasSubstr("write ok")) << r.out;
  r = Run(root_, "", Probe() + " write /dev/null");
  EXPECT_THAT(r.out, HasSubstr("write ok")) << r.out;
  r = Run(root_, "--bind /dev/null:/n:rw", Probe() + " write /n");
  EXPECT_THAT(r.out, HasSubstr("write EACCES")) << "nodev unless :dev: " << r.out;
}

TEST_F(MountAttackTest, ReadOnlyLeavesTheTreeUntouched) {
  // A copy of the tree with no mount point in it, made read-only: the run
  // must create dev, proc, sys and the bind targets elsewhere.
  const std::string ro = tmp_->Join("ro-root");
  fs::remove_all(ro);
  ASSERT_EQ(RunSh("cp -a " + root_ + " " + ro).status, 0);
  // (tmp stays: the probe is bundled at its host path, which may be below
  // /tmp when the build tree is.)
  for (const char* d : {"dev", "proc", "sys", "mnt"}) fs::remove_all(ro + "/" + d);
  ASSERT_EQ(RunSh("chmod -R a-w " + ro).status, 0);
  const std::string before = Listing(ro, /*recursive=*/true, /*times=*/true);
  const std::string data = tmp_->Join("binddir");
  ShResult r = Run(ro, "--read-only --bind " + file_ + ":/mnt/f --tmpfs /scratch", "cat /mnt/f");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "bound-file\n");
  r = Run(ro, "--read-only", Probe() + " write /etc/x");
  EXPECT_THAT(r.out, HasSubstr("write EROFS")) << r.out;
  EXPECT_EQ(Listing(ro, true, true), before) << "as root";
  // Rootless, as nobody, on the same root-owned tree.
  const std::string nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  r = RunSh(nobody + Minipod() + " run --rootfs " + ro + " --read-only -- cat /etc/passwd");
  if (r.status == 125 && r.out.find("clone") != std::string::npos) {
    ADD_FAILURE() << "user namespaces unavailable: " << r.out;
  } else {
    EXPECT_EQ(r.status, 0) << r.out;
  }
  EXPECT_EQ(Listing(ro, true, true), before) << "rootless";
  RunSh("chmod -R u+w " + ro);
  fs::remove_all(ro);
}

// Whether /proc/locks shows a lock on the inode of path.
bool Locked(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return false;
  const std::string needle = ":" + std::to_string(st.st_ino) + " ";
  return ReadAll("/proc/locks").find(needle) != std::string::npos;
}

TEST_F(MountAttackTest, AnUpperLayerServesOneRunAtATime) {
  const std::string upper = tmp_->Join("upper-shared");
  fs::remove_all(upper);
  const pid_t first = fork();
  ASSERT_GE(first, 0);
  if (first == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(Minipod().c_str(), "minipod", "run", "--rootfs", root_.c_str(), "--upper", upper.c_str(), "--",
          Probe().c_str(), "sleep", "20", nullptr);
    _exit(99);
  }
  bool locked = false;
  for (int i = 0; i < 100 && !locked; ++i) {
    locked = Locked(upper);
    if (!locked) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(locked) << "the first run never locked " << upper;
  const ShResult second = Run(root_, "--upper " + upper, "true");
  EXPECT_EQ(second.status, 125) << second.out;
  EXPECT_THAT(second.out, HasSubstr("--upper " + upper + ": in use by another minipod run"));
  kill(first, SIGTERM);
  int ws = 0;
  for (int i = 0; i < 100 && waitpid(first, &ws, WNOHANG) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (waitpid(first, &ws, WNOHANG) == 0) {
    kill(first, SIGKILL);
    waitpid(first, &ws, 0);
  }
  const ShResult third = Run(root_, "--upper " + upper, "true");
  EXPECT_EQ(third.status, 0) << "free again once the first run ended: " << third.out;
  fs::remove_all(upper);
}

TEST_F(MountAttackTest, RelativePathsAndTheOrderOfMounts) {
  const std::string rel = "cd " + tmp_->path() + " && " + Minipod() + " run --rootfs root ";
  ShResult r = RunSh(rel + "--bind bindfile:/f --upper ./upper-rel -- cat /f");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "bound-file\n");
  EXPECT_TRUE(fs::is_directory(tmp_->Join("upper-rel/upper")));
  fs::remove_all(tmp_->Join("upper-rel"));
  r = RunSh("cd " + tmp_->Join("binddir") + " && " + Minipod() + " run --rootfs ../root -- true");
  EXPECT_EQ(r.status, 0) << r.out;
  // --bundle with a '/' is a path, relative to the working directory.
  fs::copy_file("/bin/true", tmp_->Join("mytrue"), fs::copy_options::overwrite_existing);
  r = RunSh("cd " + tmp_->path() + " && MINIPOD_CACHE=" + tmp_->Join("cache") + " " + Minipod() +
         " run --bundle ./mytrue -- " + tmp_->Join("mytrue"));
  EXPECT_EQ(r.status, 0) << r.out;
  fs::remove_all(tmp_->Join("cache"));
  // A bind into a tmpfs given before it shows through.
  r = Run(root_, "--tmpfs /data --bind " + file_ + ":/data/a.txt", "cat /data/a.txt");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "bound-file\n");
  // The other way round the tmpfs hides it.
  r = Run(root_, "--bind " + file_ + ":/data/a.txt --tmpfs /data", "cat /data/a.txt");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("No such file or directory"));
}

TEST_F(MountAttackTest, WithoutOpenat2ItRefusesToRun) {
#if !defined(__x86_64__) || !defined(SYS_openat2)
  GTEST_SKIP() << "the filter below is written for x86-64";
#else
  // A kernel without openat2 (before 5.6), made here with a seccomp filter
  // on minipod itself: it must refuse, not resolve targets the unsafe way.
  const std::string out = tmp_->Join("no-openat2.out");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
      _exit(98);
    }
    alarm(30);
    execl(Minipod().c_str(), "minipod", "run", "--rootfs", root_.c_str(), "--", "true", nullptr);
    _exit(99);
  }
  int ws = 0;
  ASSERT_EQ(waitpid(pid, &ws, 0), pid);
  ASSERT_TRUE(WIFEXITED(ws)) << ReadAll(out);
  EXPECT_EQ(WEXITSTATUS(ws), 125) << ReadAll(out);
  EXPECT_THAT(ReadAll(out), HasSubstr("openat2: not supported by this kernel"));
#endif
}

}  // namespace
}  // namespace itest
