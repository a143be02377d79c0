// The mount plan of `minipod run`, checked as data.
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

TEST(PlanMounts, OverlayRootProcSysDevInOrder) {
  const auto steps = PlanMounts(Config(), Inputs());
  ASSERT_GE(steps.size(), 10u);
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
  const int proc = MountOn(steps, "/tmp/root/proc");
  const int sys = MountOn(steps, "/tmp/root/sys");
  const int dev = MountOn(steps, "/tmp/root/dev");
  ASSERT_GT(proc, root);
  ASSERT_GT(sys, proc);
  ASSERT_GT(dev, sys);
  EXPECT_EQ(steps[proc].fstype, "proc");
  EXPECT_TRUE(steps[sys].flags & MS_RDONLY);
  // Docker's masks over the fresh /proc, and /proc/sys read-only.
  const int kcore = MountOn(steps, "/tmp/root/proc/kcore");
  ASSERT_GT(kcore, proc);
  EXPECT_EQ(steps[kcore].source, "/dev/null");
  EXPECT_TRUE(steps[kcore].optional);
  EXPECT_GE(Find(steps, [](const MountStep& s) {
              return s.op == MountStep::Op::kReadOnly && s.target == "/tmp/root/proc/sys";
            }),
            0);
  EXPECT_GE(MountOn(steps, "/tmp/root/proc/sysrq-trigger"), 0);
  // Devices are binds of the host's few, never a devtmpfs.
  for (const char* d : {"null", "zero", "full", "random", "urandom", "tty"}) {
    const int i = MountOn(steps, std::string("/tmp/root/dev/") + d);
    ASSERT_GT(i, dev) << d;
    EXPECT_EQ(steps[i].source, std::string("/dev/") + d);
    EXPECT_EQ(steps[i].flags, static_cast<unsigned long>(MS_BIND));
  }
  for (const MountStep& s : steps) EXPECT_NE(s.fstype, "devtmpfs");
  const int pts = MountOn(steps, "/tmp/root/dev/pts");
  ASSERT_GT(pts, dev);
  EXPECT_THAT(steps[pts].data, HasSubstr("newinstance"));
  // minipod-init, read-only.
  const int init = MountOn(steps, "/tmp/root/dev/init");
  ASSERT_GT(init, dev);
  EXPECT_EQ(steps[init].source, "/proc/self/fd/11");
  EXPECT_EQ(steps[init + 1].op, MountStep::Op::kReadOnly);
}

TEST(PlanMounts, ReadOnlyRootBindsTmpfsUpperAndRootless) {
  RunConfig c = Config();
  c.read_only = true;
  c.binds = {{"/data", "/mnt/data", false}, {"/cache", "/var/cache", true}, {"/etc/hosts", "/etc/hosts", false}};
  c.tmpfs = {"/scratch"};
  MountInputs in = Inputs();
  in.init_fd = -1;
  in.bind_fds = {20, 21, 22};
  in.bind_is_dir = {true, true, false};
  const auto steps = PlanMounts(c, in);
  const int root = MountOn(steps, "/tmp/root");
  ASSERT_GE(root, 0);
  EXPECT_EQ(steps[root].source, "/proc/self/fd/10");
  EXPECT_EQ(steps[root].flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  // The root becomes read-only last, after everything is mounted in it.
  EXPECT_EQ(steps.back().op, MountStep::Op::kReadOnly);
  EXPECT_EQ(steps.back().target, "/tmp/root");
  EXPECT_FALSE(steps.back().recursive);
  EXPECT_EQ(MountOn(steps, "/tmp/root/dev/init"), -1);

  const int reopen_hosts = Find(steps, [](const MountStep& s) { return s.op == MountStep::Op::kReopen && s.fd == 22; });
  ASSERT_GE(reopen_hosts, 0);
  EXPECT_EQ(steps[reopen_hosts].source, "/etc/hosts");
  EXPECT_NE(steps[reopen_hosts].mode, static_cast<mode_t>(S_IFDIR));
  const int data = MountOn(steps, "/tmp/root/mnt/data");
  ASSERT_GE(data, 0);
  EXPECT_EQ(steps[data].source, "/proc/self/fd/20");
  EXPECT_EQ(steps[data + 1].op, MountStep::Op::kReadOnly);
  EXPECT_TRUE(steps[data + 1].recursive);
  EXPECT_EQ(steps[data - 1].op, MountStep::Op::kMkdir);
  const int cache = MountOn(steps, "/tmp/root/var/cache");
  ASSERT_GE(cache, 0);
  EXPECT_NE(steps[cache + 1].op, MountStep::Op::kReadOnly) << ":rw stays writable";
  const int hosts = MountOn(steps, "/tmp/root/etc/hosts");
  ASSERT_GE(hosts, 0);
  EXPECT_EQ(steps[hosts - 1].op, MountStep::Op::kTouch) << "a file is bound onto a file";
  const int scratch = MountOn(steps, "/tmp/root/scratch");
  ASSERT_GE(scratch, 0);
  EXPECT_EQ(steps[scratch].fstype, "tmpfs");

  c.read_only = false;
  c.upper = "/keep";
  in.upper_fd = 30;
  in.rootless = true;
  c.net_host = true;
  const auto rl = PlanMounts(c, in);
  const int overlay = MountOn(rl, "/tmp/root");
  EXPECT_EQ(rl[overlay].data,
            "lowerdir=/proc/self/fd/10,upperdir=/proc/self/fd/30/upper,workdir=/proc/self/fd/30/work,userxattr");
  // No new sysfs without our own network namespace in a user namespace.
  const int sys = MountOn(rl, "/tmp/root/sys");
  EXPECT_EQ(rl[sys].source, "/sys");
  EXPECT_TRUE(rl[sys].flags & MS_BIND);
}

TEST(PlanMounts, DescribeStepNamesPathsInsideTheSandbox) {
  const auto steps = PlanMounts(Config(), Inputs());
  EXPECT_EQ(DescribeStep(steps[MountOn(steps, "/tmp/root/proc")]), "mount proc on /proc");
  EXPECT_EQ(DescribeStep(steps[MountOn(steps, "/tmp/root/dev/null")]), "bind /dev/null on /dev/null");
  EXPECT_EQ(DescribeStep(steps[MountOn(steps, "/tmp/root")]), "mount overlay on /");
  EXPECT_EQ(DescribeStep(steps[0]), "make / private");
}

}  // namespace
}  // namespace sandbox
