// Unit tests of layout detection from mountinfo and /proc/self/cgroup texts
// (this hybrid host, pure v2 hosts, a VM's PID 1, cgroup namespaces, hidden
// mounts), and of the reader on this machine (cgroup_layout.h).
#include "sandbox/cgroup_layout.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/absl/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/cgroup_fs.h"
#include "tests/unit/sandbox/cgroup_hosts.h"

namespace sandbox {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::sandbox::testing_hosts::kHybridMountinfo;
using ::sandbox::testing_hosts::kHybridCgroup;
using ::sandbox::testing_hosts::kV2Mountinfo;
using ::sandbox::testing_hosts::kV2Cgroup;

TEST(DetectCgroupLayout, HybridHostIsV1) {
  const CgroupLayout l = DetectCgroupLayout(kHybridMountinfo, kHybridCgroup, "hugetlb\n");
  EXPECT_EQ(l.kind, CgroupLayout::kV1);
  EXPECT_EQ(l.v2_root, "/sys/fs/cgroup/unified");
  EXPECT_THAT(l.v2_controllers, ElementsAre("hugetlb"));
  EXPECT_EQ(l.v1_mounts.at("memory"), "/sys/fs/cgroup/memory");
  EXPECT_EQ(l.v1_mounts.at("cpu"), "/sys/fs/cgroup/cpu");
  EXPECT_EQ(l.v1_mounts.at("name=systemd"), "/sys/fs/cgroup/systemd");
  EXPECT_EQ(l.own.at("memory"), "/process_api/a5");
  EXPECT_EQ(l.own_dirs.at("memory"), "/sys/fs/cgroup/memory/process_api/a5");
  EXPECT_EQ(l.own_dirs.at("pids"), "/sys/fs/cgroup/pids");
  EXPECT_EQ(l.own_dirs.at(""), "/sys/fs/cgroup/unified");
}


TEST(DetectCgroupLayout, PureV2) {
  const CgroupLayout l = DetectCgroupLayout(kV2Mountinfo, kV2Cgroup, "cpuset cpu io memory pids\n");
  EXPECT_EQ(l.kind, CgroupLayout::kV2);
  EXPECT_EQ(l.v2_root, "/sys/fs/cgroup");
  EXPECT_EQ(l.own_dirs.at(""), "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope");
  EXPECT_THAT(l.v2_controllers, ElementsAre("cpuset", "cpu", "io", "memory", "pids"));
  EXPECT_THAT(l.v1_mounts, IsEmpty());
}

TEST(DetectCgroupLayout, V2WithoutLimitControllersStillV2) {
  EXPECT_EQ(DetectCgroupLayout(kV2Mountinfo, kV2Cgroup, "").kind, CgroupLayout::kV2);
  EXPECT_EQ(DetectCgroupLayout(kV2Mountinfo, kV2Cgroup, "io cpuset").kind, CgroupLayout::kV2);
}

TEST(DetectCgroupLayout, NothingMounted) {
  const CgroupLayout l =
      DetectCgroupLayout("24 1 259:2 / / rw - ext4 /dev/sda1 rw\n", "0::/\n", "memory pids");
  EXPECT_EQ(l.kind, CgroupLayout::kNone);
  EXPECT_THAT(l.own_dirs, IsEmpty());
  EXPECT_THAT(l.v2_controllers, IsEmpty());
  EXPECT_EQ(DetectCgroupLayout("", "", "").kind, CgroupLayout::kNone);
}

TEST(DetectCgroupLayout, CombinedV1HierarchyAndOptionalFields) {
  const char* mi =
      "30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:12 master:3 - cgroup cgroup "
      "rw,cpu,cpuacct\n"
      "31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid shared:13 - cgroup cgroup rw,memory\n";
  const CgroupLayout l = DetectCgroupLayout(mi, "3:cpu,cpuacct:/a\n2:memory:/a\n", "");
  EXPECT_EQ(l.kind, CgroupLayout::kV1);
  EXPECT_EQ(l.v1_mounts.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(l.v1_mounts.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(l.own_dirs.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct/a");
  EXPECT_EQ(l.v2_root, "");
}

TEST(DetectCgroupLayout, MountRootBelowOwnPathAndNamespaces) {
  // A container's cgroupfs bind-mounted from /docker/abc, our cgroup below.
  const char* mi = "40 30 0:30 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
  CgroupLayout l = DetectCgroupLayout(mi, "0::/docker/abc/app\n", "memory");
  EXPECT_EQ(l.own_dirs.at(""), "/sys/fs/cgroup/app");
  EXPECT_EQ(l.kind, CgroupLayout::kV2);
  l = DetectCgroupLayout(mi, "0::/docker/abc\n", "memory");
  EXPECT_EQ(l.own_dirs.at(""), "/sys/fs/cgroup");
  // Not below the mount's root, or outside our cgroup namespace: unusable.
  l = DetectCgroupLayout(mi, "0::/docker/abcd\n", "memory");
  EXPECT_EQ(l.own_dirs.count(""), 0u);
  EXPECT_EQ(l.kind, CgroupLayout::kNone);
  l = DetectCgroupLayout("40 30 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/../../x\n", "memory");
  EXPECT_EQ(l.kind, CgroupLayout::kNone);
  l = DetectCgroupLayout("40 30 0:30 /.. /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/x\n", "memory");
  EXPECT_EQ(l.kind, CgroupLayout::kNone);
}

// Inside a cgroup namespace with the host's cgroupfs mounts: roots are "/.."
// paths, our paths "/"; only the finder can place us.
TEST(DetectCgroupLayout, MountFromAboveOurNamespaceGoesThroughTheFinder) {
  const char* mi =
      "34 30 0:31 /../.. /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "38 30 0:35 /.. /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
      "39 30 0:36 /../x /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n"
      "40 30 0:37 /.. /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
  const char* self = "9:name=systemd:/\n8:pids:/\n4:memory:/app\n0::/\n";
  std::vector<std::string> asked;
  const CgroupFinder find = [&](const std::string& point, int levels, const std::string& own) {
    asked.push_back(point + " " + std::to_string(levels) + " " + own);
    if (point == "/sys/fs/cgroup/pids") return std::string();  // not found
    return point + "/ns-root" + (own == "/" ? "" : own);
  };
  const CgroupLayout l = DetectCgroupLayout(mi, self, "", find);
  EXPECT_EQ(l.kind, CgroupLayout::kV1);
  EXPECT_EQ(l.own_dirs.at("memory"), "/sys/fs/cgroup/memory/ns-root/app");
  EXPECT_EQ(l.own_dirs.at(""), "/sys/fs/cgroup/unified/ns-root");
  EXPECT_EQ(l.own_dirs.count("pids"), 0u);
  EXPECT_EQ(l.own_dirs.count("name=systemd"), 0u) << "a sibling's subtree, not above us";
  EXPECT_THAT(asked, ::testing::UnorderedElementsAre("/sys/fs/cgroup/memory 2 /app", "/sys/fs/cgroup/pids 1 /",
                                                     "/sys/fs/cgroup/unified 1 /"));
  // Without a finder the same texts give nothing usable.
  EXPECT_EQ(DetectCgroupLayout(mi, self, "").kind, CgroupLayout::kNone);
}

// FindCgroupBelow on an ordinary tree standing in for a cgroupfs: the one
// directory `levels` down whose cgroup.procs lists the pid.
TEST(FindCgroupBelow, FindsTheDirectoryListingThePid) {
  const std::string top = ::testing::TempDir() + "/find-cgroup-" + std::to_string(::getpid());
  std::filesystem::remove_all(top);
  std::filesystem::remove_all(top + "-elsewhere");
  for (const char* d : {"a/x/app", "a/y/app", "b/z/app", "c"}) std::filesystem::create_directories(top + "/" + d);
  std::ofstream(top + "/a/x/app/cgroup.procs") << "1\n20\n";
  std::ofstream(top + "/b/z/app/cgroup.procs") << "7\n1234\n";
  std::ofstream(top + "/b/z/cgroup.procs") << "99\n";
  // A link to a tree elsewhere is not walked into.
  std::filesystem::create_directories(top + "-elsewhere/z/app");
  std::ofstream(top + "-elsewhere/z/app/cgroup.procs") << "555\n";
  std::filesystem::create_directory_symlink(top + "-elsewhere", top + "/link");
  EXPECT_EQ(FindCgroupBelow(top, 2, "/app", 1234), top + "/b/z/app");
  EXPECT_EQ(FindCgroupBelow(top, 2, "/", 99), top + "/b/z");
  EXPECT_EQ(FindCgroupBelow(top, 2, "/app", 123), "") << "whole numbers only";
  EXPECT_EQ(FindCgroupBelow(top, 1, "/app", 1234), "") << "only exactly `levels` down";
  EXPECT_EQ(FindCgroupBelow(top, 2, "/../b/z/app", 1234), "");
  EXPECT_EQ(FindCgroupBelow(top, 0, "/", 99), "");
  EXPECT_EQ(FindCgroupBelow(top, 33, "/", 99), "");
  EXPECT_EQ(FindCgroupBelow(top + "/missing", 1, "/", 99), "");
  EXPECT_EQ(FindCgroupBelow(top, 2, "/app", 555), "") << "not through a link";
  EXPECT_EQ(FindCgroupBelow(top + "-elsewhere", 1, "/app", 555), top + "-elsewhere/z/app");
  std::filesystem::remove_all(top);
  std::filesystem::remove_all(top + "-elsewhere");
}

TEST(DetectCgroupLayout, EscapedMountPointAndColonInPath) {
  const char* mi = "40 30 0:30 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n";
  const CgroupLayout l = DetectCgroupLayout(mi, "0::/a:b\n", "pids");
  EXPECT_EQ(l.own_dirs.at(""), "/mnt/my cgroups/a:b");
  EXPECT_EQ(l.own.at(""), "/a:b");
}

TEST(DetectCgroupLayout, HiddenMountsAreIgnored) {
  // A cgroup2 mount at /sys/fs/cgroup hidden by a later tmpfs there.
  const char* mi =
      "28 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
      "31 25 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  CgroupLayout l = DetectCgroupLayout(mi, "4:memory:/m\n0::/\n", "memory");
  EXPECT_EQ(l.v2_root, "");
  EXPECT_EQ(l.kind, CgroupLayout::kV1);
  // Hidden by a mount on a parent directory.
  const char* mi2 =
      "28 25 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
      "31 25 0:28 / /sys/fs rw - tmpfs tmpfs rw\n";
  l = DetectCgroupLayout(mi2, "0::/\n", "memory");
  EXPECT_EQ(l.kind, CgroupLayout::kNone);
  // Not hidden by a sibling with a common name prefix.
  const char* mi3 =
      "28 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
      "31 25 0:28 / /sys/fs/cgroupx rw - tmpfs tmpfs rw\n";
  EXPECT_EQ(DetectCgroupLayout(mi3, "0::/\n", "memory").kind, CgroupLayout::kV2);
}

TEST(DetectCgroupLayout, GarbageLinesAreSkipped) {
  const char* mi =
      "garbage\n"
      "1 2 3 4\n"
      "1 2 3 / relative rw - cgroup2 cgroup2 rw\n"
      "1 2 3 / /x rw - cgroup2\n"
      "28 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
  const CgroupLayout l = DetectCgroupLayout(mi, "junk\n1:memory:\n0::/s\n", "memory");
  EXPECT_EQ(l.kind, CgroupLayout::kV2);
  EXPECT_EQ(l.own_dirs.at(""), "/sys/fs/cgroup/s");
  EXPECT_EQ(l.own.count("memory"), 0u);
}

TEST(ReadCgroupLayout, ThisMachine) {
  absl::StatusOr<CgroupLayout> l = ReadCgroupLayout();
  ASSERT_TRUE(l.ok()) << l.status();
  if (l->kind == CgroupLayout::kNone) GTEST_SKIP() << "no cgroup hierarchy holding our cgroup is mounted here";
  // Whatever the host, each directory found is our real cgroup there: it
  // lists this process.
  ASSERT_FALSE(l->own_dirs.empty());
  if (l->kind == CgroupLayout::kV2) {
    ASSERT_EQ(l->own_dirs.count(""), 1u);
  }
  const std::string self = std::to_string(::getpid());
  for (const auto& [controller, dir] : l->own_dirs) {
    absl::StatusOr<std::string> procs = common::ReadFileToString(dir + "/cgroup.procs");
    ASSERT_TRUE(procs.ok()) << controller << ": " << procs.status();
    EXPECT_THAT(Words(*procs), ::testing::Contains(self)) << controller << " at " << dir;
  }
}

}  // namespace
}  // namespace sandbox
