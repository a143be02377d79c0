// The mount plan of `minipod run`, checked as data: order, flags, and that
// every target past the root is resolved inside it.
#include "sandbox/ns_mount.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sandbox {
namespace {

using ::testing::HasSubstr;

RunConfig Config() {
  RunConfig c;
  c.rootfs = "/srv/root";
  c.command = {"true"};
  return c;
}

MountInputs Inputs() {
  MountInputs in;
  in.rootfs_path = "/srv/root";
  in.rootfs_fd = 10;
  in.init_path = "/usr/lib/minipod/minipod-init";
  in.init_fd = 11;
  return in;
}

// The index of the first step matching pred, or -1.
template <typename Pred>
int Find(const std::vector<MountStep>& steps, Pred pred) {
  auto it = std::find_if(steps.begin(), steps.end(), pred);
  return it == steps.end() ? -1 : static_cast<int>(it - steps.begin());
}

int MountOn(const std::vector<MountStep>& steps, const std::string& target) {
  return Find(steps, [&](const MountStep& s) { return s.op == MountStep::Op::kMount && s.target == target; });
}

int SetAttrOn(const std::vector<MountStep>& steps, const std::string& target) {
  return Find(steps, [&](const MountStep& s) { return s.op == MountStep::Op::kSetAttr && s.target == target; });
}

// Only the child's own scratch is named by host path; the rest is resolved
// from the new root, whatever links the image holds.
void ExpectTargetsInside(const std::vector<MountStep>& steps) {
  const int root = MountOn(steps, kNewRoot);
  ASSERT_GE(root, 0);
  for (size_t i = 0; i < steps.size(); ++i) {
    const MountStep& s = steps[i];
    if (!s.inside) {
      const bool scratch = s.target == "/" || s.target == kScratch || s.target.rfind("/tmp/", 0) == 0 ||
                           s.op == MountStep::Op::kReopen;
      EXPECT_TRUE(scratch) << i << ": " << DescribeStep(s);
      if (static_cast<int>(i) > root) {
        EXPECT_EQ(s.target, kNewRoot) << i << ": " << DescribeStep(s);
      }
    } else {
      EXPECT_GT(static_cast<int>(i), root) << DescribeStep(s);
      EXPECT_EQ(s.target.rfind(kScratch, 0), std::string::npos) << DescribeStep(s);
      EXPECT_EQ(s.target[0], '/') << DescribeStep(s);
    }
  }
}

TEST(PlanMounts, OverlayRootProcSysDevInOrder) {
  const auto steps = PlanMounts(Config(), Inputs());
  ASSERT_GE(steps.size(), 10u);
  ExpectTargetsInside(steps);
  // Private first, then the host paths opened again in the new namespace
  // onto the descriptors the plan names, then the scratch tmpfs, the root.
  EXPECT_EQ(steps[0].target, "/");
  EXPECT_EQ(steps[0].flags, static_cast<unsigned long>(MS_REC | MS_PRIVATE));
  EXPECT_EQ(steps[1].op, MountStep::Op::kReopen);
  EXPECT_EQ(steps[1].source, "/srv/root");
  EXPECT_EQ(steps[1].fd, 10);
  EXPECT_EQ(steps[2].op, MountStep::Op::kReopen);
  EXPECT_EQ(steps[2].source, "/usr/lib/minipod/minipod-init");
  EXPECT_EQ(steps[2].fd, 11);
  const int scratch = MountOn(steps, "/tmp");
  ASSERT_EQ(scratch, 3);
  EXPECT_EQ(steps[scratch].fstype, "tmpfs");
  const int root = MountOn(steps, "/tmp/root");
  ASSERT_GE(root, 0);
  EXPECT_EQ(steps[root].fstype, "overlay");
  EXPECT_EQ(steps[root].data, "lowerdir=/proc/self/fd/10,upperdir=/tmp/upper,workdir=/tmp/work");
  EXPECT_EQ(steps[root].flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV)) << "device nodes of the image are inert";
  const int proc = MountOn(steps, "/proc");
  const int sys = MountOn(steps, "/sys");
  const int dev = MountOn(steps, "/dev");
  ASSERT_GT(proc, root);
  ASSERT_GT(sys, proc);
  ASSERT_GT(dev, sys);
  EXPECT_EQ(steps[proc].fstype, "proc");
  EXPECT_TRUE(steps[sys].flags & MS_RDONLY);
  EXPECT_TRUE(steps[dev].flags & MS_NODEV) << "the binds on it are mounts of their own";
  // Docker's masks over the fresh /proc, and /proc/sys read-only.
  const int kcore = MountOn(steps, "/proc/kcore");
  ASSERT_GT(kcore, proc);
  EXPECT_EQ(steps[kcore].source, "/dev/null");
  EXPECT_FALSE(steps[kcore].source_inside);
  EXPECT_TRUE(steps[kcore].optional);
  const int proc_sys = MountOn(steps, "/proc/sys");
  ASSERT_GT(proc_sys, proc);
  EXPECT_TRUE(steps[proc_sys].source_inside) << "bound from inside the new root, not the host's /proc/sys";
  const int proc_sys_ro = SetAttrOn(steps, "/proc/sys");
  ASSERT_GT(proc_sys_ro, proc_sys);
  EXPECT_TRUE(steps[proc_sys_ro].attrs & kAttrReadOnly);
  EXPECT_GE(MountOn(steps, "/proc/sysrq-trigger"), 0);
  // Devices are binds of the host's few, never a devtmpfs, and keep device
  // access (no nodev set on them).
  for (const char* d : {"null", "zero", "full", "random", "urandom", "tty"}) {
    const int i = MountOn(steps, std::string("/dev/") + d);
    ASSERT_GT(i, dev) << d;
    EXPECT_EQ(steps[i].source, std::string("/dev/") + d);
    EXPECT_EQ(steps[i].flags, static_cast<unsigned long>(MS_BIND));
    EXPECT_EQ(SetAttrOn(steps, std::string("/dev/") + d), -1) << d;
  }
  for (const MountStep& s : steps) EXPECT_NE(s.fstype, "devtmpfs");
  const int pts = MountOn(steps, "/dev/pts");
  ASSERT_GT(pts, dev);
  EXPECT_THAT(steps[pts].data, HasSubstr("newinstance"));
  EXPECT_FALSE(steps[pts].flags & MS_NODEV);
  // Every other mount made fresh is nodev.
  for (const MountStep& s : steps) {
    if (s.op == MountStep::Op::kMount && !s.fstype.empty() && s.fstype != "devpts") {
      EXPECT_TRUE(s.flags & MS_NODEV) << DescribeStep(s);
    }
  }
  // minipod-init, read-only.
  const int init = MountOn(steps, "/dev/init");
  ASSERT_GT(init, dev);
  EXPECT_EQ(steps[init].source, "/proc/self/fd/11");
  EXPECT_EQ(steps[init + 1].op, MountStep::Op::kSetAttr);
  EXPECT_TRUE(steps[init + 1].attrs & kAttrReadOnly);
}

TEST(PlanMounts, ReadOnlyRootIsAnOverlayMadeReadOnlyLast) {
  RunConfig c = Config();
  c.read_only = true;
  c.binds = {{"/data", "/mnt/data", false}, {"/cache", "/var/cache", true}, {"/etc/hosts", "/etc/hosts", false}};
  c.tmpfs = {"/scratch"};
  MountInputs in = Inputs();
  in.init_fd = -1;
  in.bind_fds = {20, 21, 22};
  in.bind_is_dir = {true, true, false};
  const auto steps = PlanMounts(c, in);
  ExpectTargetsInside(steps);
  // Mount points go to a scratch upper layer, never into the tree.
  const int root = MountOn(steps, "/tmp/root");
  ASSERT_GE(root, 0);
  EXPECT_EQ(steps[root].fstype, "overlay");
  EXPECT_EQ(steps[root].data, "lowerdir=/proc/self/fd/10,upperdir=/tmp/upper,workdir=/tmp/work");
  // The root becomes read-only last, after everything is mounted in it.
  EXPECT_EQ(steps.back().op, MountStep::Op::kSetAttr);
  EXPECT_EQ(steps.back().target, "/tmp/root");
  EXPECT_FALSE(steps.back().inside);
  EXPECT_EQ(steps.back().attrs, kAttrReadOnly);
  EXPECT_FALSE(steps.back().recursive);
  EXPECT_EQ(MountOn(steps, "/dev/init"), -1);

  const int reopen_hosts = Find(steps, [](const MountStep& s) { return s.op == MountStep::Op::kReopen && s.fd == 22; });
  ASSERT_GE(reopen_hosts, 0);
  EXPECT_EQ(steps[reopen_hosts].source, "/etc/hosts");
  EXPECT_NE(steps[reopen_hosts].mode, static_cast<mode_t>(S_IFDIR));
  const int data = MountOn(steps, "/mnt/data");
  ASSERT_GE(data, 0);
  EXPECT_EQ(steps[data].source, "/proc/self/fd/20");
  EXPECT_FALSE(steps[data].source_inside);
  EXPECT_EQ(steps[data + 1].op, MountStep::Op::kSetAttr);
  EXPECT_EQ(steps[data + 1].attrs, kAttrReadOnly | kAttrNoSuid | kAttrNoDev);
  EXPECT_TRUE(steps[data + 1].recursive);
  EXPECT_EQ(steps[data - 1].op, MountStep::Op::kMkdir);
  const int cache = MountOn(steps, "/var/cache");
  ASSERT_GE(cache, 0);
  EXPECT_EQ(steps[cache + 1].attrs, kAttrNoSuid | kAttrNoDev) << ":rw stays writable, still nodev";
  const int hosts = MountOn(steps, "/etc/hosts");
  ASSERT_GE(hosts, 0);
  EXPECT_EQ(steps[hosts - 1].op, MountStep::Op::kTouch) << "a file is bound onto a file";
  const int scratch = MountOn(steps, "/scratch");
  ASSERT_GE(scratch, 0);
  EXPECT_EQ(steps[scratch].fstype, "tmpfs");
}

TEST(PlanMounts, UpperLayerRootlessAndDevBinds) {
  RunConfig c = Config();
  c.upper = "/keep";
  c.net.kind = sandbox::NsChoice::Kind::kHost;
  c.binds = {{"/dev/fuse", "/dev/fuse", true, /*dev=*/true}};
  MountInputs in = Inputs();
  in.upper_path = "/keep";
  in.upper_fd = 30;
  in.work_fd = 31;
  in.rootless = true;
  in.bind_fds = {40};
  in.bind_is_dir = {false};
  const auto rl = PlanMounts(c, in);
  ExpectTargetsInside(rl);
  const int overlay = MountOn(rl, "/tmp/root");
  EXPECT_EQ(rl[overlay].data, "lowerdir=/proc/self/fd/10,upperdir=/proc/self/fd/30,workdir=/proc/self/fd/31,userxattr");
  // The layers are opened again and checked in the child, by number.
  for (const auto& [path, fd] : {std::pair<std::string, int>{"/keep/upper", 30}, {"/keep/work", 31}}) {
    const int i = Find(rl, [&](const MountStep& s) { return s.op == MountStep::Op::kReopen && s.fd == fd; });
    ASSERT_GE(i, 0) << path;
    EXPECT_LT(i, overlay);
    EXPECT_EQ(rl[i].source, path);
    EXPECT_EQ(rl[i].mode, static_cast<mode_t>(S_IFDIR));
  }
  // No new sysfs without our own network namespace in a user namespace.
  const int sys = MountOn(rl, "/sys");
  EXPECT_EQ(rl[sys].source, "/sys");
  EXPECT_TRUE(rl[sys].flags & MS_BIND);
  EXPECT_TRUE(rl[SetAttrOn(rl, "/sys")].attrs & kAttrNoDev);
  // :dev keeps device access on that bind only.
  const int fuse = MountOn(rl, "/dev/fuse");
  ASSERT_GE(fuse, 0);
  EXPECT_EQ(rl[fuse + 1].op, MountStep::Op::kSetAttr);
  EXPECT_EQ(rl[fuse + 1].attrs, kAttrNoSuid);
}

TEST(PlanMounts, BindsAndTmpfsStackInTheOrderGiven) {
  RunConfig c = Config();
  c.binds = {{"/f", "/data/a.txt", false}};
  c.tmpfs = {"/data"};
  c.mount_order = {{UserMount::Kind::kTmpfs, 0}, {UserMount::Kind::kBind, 0}};
  MountInputs in = Inputs();
  in.bind_fds = {20};
  in.bind_is_dir = {false};
  const auto steps = PlanMounts(c, in);
  const int tmpfs = MountOn(steps, "/data");
  const int bind = MountOn(steps, "/data/a.txt");
  ASSERT_GE(tmpfs, 0);
  ASSERT_GE(bind, 0);
  EXPECT_LT(tmpfs, bind) << "the file is bound into the tmpfs, not hidden by it";
  c.mount_order = {{UserMount::Kind::kBind, 0}, {UserMount::Kind::kTmpfs, 0}};
  const auto reversed = PlanMounts(c, in);
  EXPECT_GT(MountOn(reversed, "/data"), MountOn(reversed, "/data/a.txt"));
}

TEST(DeviceAllowed, DockersDefaultCharacterDevicesOnly) {
  EXPECT_TRUE(DeviceAllowed(S_IFCHR, 1, 3));    // null
  EXPECT_TRUE(DeviceAllowed(S_IFCHR, 1, 9));    // urandom
  EXPECT_TRUE(DeviceAllowed(S_IFCHR, 5, 2));    // ptmx
  EXPECT_TRUE(DeviceAllowed(S_IFCHR, 136, 7));  // pts/7
  EXPECT_TRUE(DeviceAllowed(S_IFCHR, 10, 200)); // net/tun
  EXPECT_FALSE(DeviceAllowed(S_IFCHR, 1, 11));  // kmsg
  EXPECT_FALSE(DeviceAllowed(S_IFCHR, 1, 1));   // mem
  EXPECT_FALSE(DeviceAllowed(S_IFCHR, 10, 229)); // fuse
  EXPECT_FALSE(DeviceAllowed(S_IFBLK, 1, 3));   // a block device with null's numbers
  EXPECT_FALSE(DeviceAllowed(S_IFBLK, 8, 0));   // sda
}

TEST(PlanMounts, DescribeStepNamesPathsInsideTheSandbox) {
  const auto steps = PlanMounts(Config(), Inputs());
  EXPECT_EQ(DescribeStep(steps[MountOn(steps, "/proc")]), "mount proc on /proc");
  EXPECT_EQ(DescribeStep(steps[MountOn(steps, "/dev/null")]), "bind /dev/null on /dev/null");
  EXPECT_EQ(DescribeStep(steps[MountOn(steps, "/tmp/root")]), "mount overlay on /");
  EXPECT_EQ(DescribeStep(steps[SetAttrOn(steps, "/proc/sys")]), "make /proc/sys read-only, nosuid, nodev");
  EXPECT_EQ(DescribeStep(steps[0]), "make / private");
}

// Booted from an initramfs, the root is the kernel's rootfs (the guest of
// the qemu suite); on a host it is never visible, hidden below the real root.
TEST(RootIsRootfs, OnlyARootfsMountedOnSlash) {
  const std::string initramfs =
      "1 1 0:2 / / rw - rootfs rootfs rw,size=120288k,nr_inodes=30072\n"
      "17 1 0:16 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
      "22 1 0:21 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw\n";
  EXPECT_TRUE(RootIsRootfs(initramfs));
  const std::string host =
      "24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
      "25 24 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n";
  EXPECT_FALSE(RootIsRootfs(host));
  // A container's overlay root, and a rootfs that is not our root.
  EXPECT_FALSE(RootIsRootfs("612 540 0:55 / / rw - overlay overlay rw,lowerdir=/l\n"
                            "613 612 0:60 / /mnt rw - rootfs rootfs rw\n"));
  // A mount point or source named like the marker is not one.
  EXPECT_FALSE(RootIsRootfs("30 1 0:40 / /rootfs rw - tmpfs rootfs rw\n"));
  EXPECT_FALSE(RootIsRootfs(""));
  EXPECT_FALSE(RootIsRootfs("garbage\n1 1\n"));
}

}  // namespace
}  // namespace sandbox
