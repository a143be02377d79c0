// Unit tests of the cgroup code that needs no privileges: --memory, --pids
// and --cpus parsing, layout detection from mountinfo and /proc/self/cgroup
// texts (this hybrid host, pure v2 hosts, a VM's PID 1, cgroup namespaces,
// hidden mounts), the plan Create carries out, for v2 and v1, the device
// policy (its v1 lines, and its BPF program run by a small interpreter here;
// loaded by the kernel's verifier when run as root), and the OOM counters.
#include "sandbox/cgroup.h"

#include <errno.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "sandbox/cgroup_devices.h"
#include "sandbox/cgroup_fs.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sandbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// ---- parsers -------------------------------------------------------------

TEST(ParseMemorySize, Accepted) {
  const struct {
    const char* text;
    int64_t bytes;
  } kCases[] = {
      {"512m", 512LL << 20},        {"512M", 512LL << 20},        {"512mb", 512LL << 20},
      {"512MiB", 512LL << 20},      {"1g", 1LL << 30},            {"1G", 1LL << 30},
      {"1.5g", 3LL << 29},          {"0.5G", 512LL << 20},        {"6m", 6LL << 20},
      {"6144k", 6LL << 20},         {"6291456", 6291456},         {"6291456b", 6291456},
      {"6291456B", 6291456},        {"2t", 2LL << 40},            {"1.000000001t", (1LL << 40) + 1099},
      {".5g", 512LL << 20},         {"8388608", 8LL << 20},       {"100000000k", 100000000LL << 10},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<int64_t> r = ParseMemorySize(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status();
    EXPECT_EQ(*r, c.bytes) << c.text;
  }
}

TEST(ParseMemorySize, Rejected) {
  const struct {
    const char* text;
    const char* message;
  } kCases[] = {
      {"12x", "--memory '12x': not a size (use e.g. 512m, 2g)"},
      {"", "not a size"},
      {"m", "not a size"},
      {"-1", "not a size"},
      {"1.g", "not a size"},
      {"1.5.5g", "not a size"},
      {" 512m", "not a size"},
      {"512m ", "not a size"},
      {"512mm", "not a size"},
      {"512bb", "not a size"},
      {"512ib", "not a size"},
      {"0x10m", "not a size"},
      {"1.0000000001g", "not a size"},  // more than 9 fraction digits
      {"1e9", "not a size"},
      {"5m", "--memory '5m': below the minimum of 6m (6291456 bytes)"},
      {"0", "below the minimum"},
      {"6291455", "below the minimum"},
      {"1.5", "below the minimum"},
      {"9999999999t", "too large"},
      {"999999999999999999k", "too large"},
      {"9999999999999999999", "not a size"},  // 19 digits
  };
  for (const auto& c : kCases) {
    absl::StatusOr<int64_t> r = ParseMemorySize(c.text);
    ASSERT_FALSE(r.ok()) << c.text << " gave " << *r;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message)) << c.text;
  }
}

TEST(ParsePidsLimit, AcceptedAndRejected) {
  EXPECT_EQ(*ParsePidsLimit("1"), 1);
  EXPECT_EQ(*ParsePidsLimit("64"), 64);
  EXPECT_EQ(*ParsePidsLimit("007"), 7);
  EXPECT_EQ(*ParsePidsLimit("4194304"), kMaxPids);
  for (const char* bad : {"", "0", "-1", "+5", "1.5", "5k", "4194305", "99999999999999999999", " 5", "max"}) {
    absl::StatusOr<int64_t> r = ParsePidsLimit(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(absl::StrCat("--pids '", bad, "'")));
  }
  EXPECT_THAT(std::string(ParsePidsLimit("0").status().message()), HasSubstr("at least 1"));
  EXPECT_THAT(std::string(ParsePidsLimit("4194305").status().message()), HasSubstr("PID_MAX_LIMIT"));
}

TEST(ParseCpus, AcceptedAndRejected) {
  EXPECT_DOUBLE_EQ(*ParseCpus("0.5", 2), 0.5);
  EXPECT_DOUBLE_EQ(*ParseCpus("2", 2), 2.0);
  EXPECT_DOUBLE_EQ(*ParseCpus(".25", 2), 0.25);
  EXPECT_DOUBLE_EQ(*ParseCpus("0.01", 1), 0.01);
  EXPECT_DOUBLE_EQ(*ParseCpus("64", 0), 64.0) << "0: no upper check";
  EXPECT_THAT(std::string(ParseCpus("3", 2).status().message()),
              HasSubstr("--cpus '3': more than the 2 CPUs available"));
  EXPECT_THAT(std::string(ParseCpus("2.000000001", 2).status().message()), HasSubstr("more than"));
  EXPECT_THAT(std::string(ParseCpus("0.009", 2).status().message()), HasSubstr("at least 0.01"));
  EXPECT_THAT(std::string(ParseCpus("0", 2).status().message()), HasSubstr("at least"));
  for (const char* bad : {"", "x", "-1", "1.", "1/2", "1e0", "0.5 ", "0.0000000001", "1,5", "2000000"}) {
    absl::StatusOr<double> r = ParseCpus(bad, 0);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("not a number of CPUs")) << bad;
  }
  // The one-argument form checks against this machine's CPUs.
  EXPECT_TRUE(ParseCpus("1").ok());
  EXPECT_FALSE(ParseCpus("100000").ok());
}

TEST(CpuQuota, RoundsToMicroseconds) {
  EXPECT_EQ(CpuQuotaUs(0.5), 50000);
  EXPECT_EQ(CpuQuotaUs(2), 200000);
  EXPECT_EQ(CpuQuotaUs(0.01), 1000);
  EXPECT_EQ(CpuQuotaUs(0.333333333), 33333);
  EXPECT_EQ(CpuQuotaUs(1.5, 1000000), 1500000);
}

TEST(ParseLimits, AllOrNothing) {
  absl::StatusOr<Limits> l = ParseLimits(std::string("32m"), std::string("10"), std::nullopt);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->memory_bytes, 32LL << 20);
  EXPECT_EQ(l->pids, 10);
  EXPECT_FALSE(l->cpus.has_value());
  EXPECT_TRUE(l->any());
  EXPECT_FALSE(ParseLimits(std::nullopt, std::nullopt, std::nullopt)->any());
  EXPECT_FALSE(ParseLimits(std::string("32m"), std::string("0"), std::nullopt).ok());
}

// ---- layout --------------------------------------------------------------

// This machine: v1 hierarchies, an empty cgroup2 at /sys/fs/cgroup/unified.
constexpr char kHybridMountinfo[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
    "23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr char kHybridCgroup[] =
    "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
    "4:memory:/process_api/a5\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";

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

// A systemd host in unified mode, a user session.
constexpr char kV2Mountinfo[] =
    "24 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
    "25 24 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
    "28 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";
constexpr char kV2Cgroup[] = "0::/user.slice/user-1000.slice/session-3.scope\n";

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

// ---- plan ----------------------------------------------------------------

CgroupLayout V2Layout(const std::string& own_dir, std::vector<std::string> controllers) {
  CgroupLayout l;
  l.kind = CgroupLayout::kV2;
  l.v2_root = "/sys/fs/cgroup";
  l.own[""] = own_dir.substr(l.v2_root.size());
  l.own_dirs[""] = own_dir;
  l.v2_controllers = std::move(controllers);
  return l;
}

Limits AllLimits() {
  Limits l;
  l.memory_bytes = 32LL << 20;
  l.pids = 16;
  l.cpus = 0.5;
  return l;
}

std::vector<std::string> Writes(const CgroupPlan& p) {
  std::vector<std::string> out;
  for (const CgroupWrite& w : p.writes) out.push_back(w.path + "=" + w.value + (w.optional ? "?" : ""));
  return out;
}

TEST(PlanCgroup, V2ControllersAlreadyEnabledBelowUs) {
  const CgroupLayout l = V2Layout("/sys/fs/cgroup/svc", {"cpu", "memory", "pids"});
  absl::StatusOr<CgroupPlan> p = PlanCgroup("sb1", AllLimits(), l, "cpu memory pids\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->kind, CgroupLayout::kV2);
  EXPECT_THAT(p->enable, IsEmpty());
  EXPECT_THAT(p->dirs, ElementsAre("/sys/fs/cgroup/svc/sb1"));
  EXPECT_THAT(Writes(*p), ElementsAre("/sys/fs/cgroup/svc/sb1/memory.max=33554432",
                                      "/sys/fs/cgroup/svc/sb1/memory.swap.max=0?",
                                      "/sys/fs/cgroup/svc/sb1/pids.max=16",
                                      "/sys/fs/cgroup/svc/sb1/cpu.max=50000 100000"));
}

TEST(PlanCgroup, V2SiblingWhenOurCgroupHoldsProcesses) {
  // The no-internal-process rule: our scope cannot enable controllers for
  // children while we are in it, so the sandbox goes next to it, where the
  // parent has already enabled what our cgroup.controllers lists.
  const CgroupLayout l = V2Layout("/sys/fs/cgroup/user.slice/session-3.scope", {"memory", "pids"});
  Limits lim;
  lim.memory_bytes = 64LL << 20;
  absl::StatusOr<CgroupPlan> p = PlanCgroup("sb", lim, l, "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->enable, IsEmpty());
  EXPECT_THAT(p->dirs, ElementsAre("/sys/fs/cgroup/user.slice/sb"));
  // Only one of the needed controllers enabled below us: still a sibling.
  p = PlanCgroup("sb", AllLimits(), V2Layout("/sys/fs/cgroup/a/b", {"memory", "pids", "cpu"}), "memory");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->dirs, ElementsAre("/sys/fs/cgroup/a/sb"));
}

TEST(PlanCgroup, V2RootEnablesControllers) {
  // A VM's PID 1 (or a cgroup namespace root): the root is exempt from the
  // no-internal-process rule, so we enable what is missing there.
  const CgroupLayout l = V2Layout("/sys/fs/cgroup", {"cpuset", "cpu", "io", "memory", "pids"});
  absl::StatusOr<CgroupPlan> p = PlanCgroup("sb", AllLimits(), l, "pids\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->enable_at, "/sys/fs/cgroup");
  EXPECT_THAT(p->enable, ElementsAre("+memory", "+cpu"));
  EXPECT_THAT(p->dirs, ElementsAre("/sys/fs/cgroup/sb"));
}

TEST(PlanCgroup, V2NoLimitsIsAPlainChild) {
  const CgroupLayout l = V2Layout("/sys/fs/cgroup/x", {});
  absl::StatusOr<CgroupPlan> p = PlanCgroup("sb", Limits{}, l, "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->dirs, ElementsAre("/sys/fs/cgroup/x/sb"));
  EXPECT_THAT(p->writes, IsEmpty());
  EXPECT_THAT(p->enable, IsEmpty());
}

TEST(PlanCgroup, V2MissingControllerIsAnError) {
  const CgroupLayout l = V2Layout("/sys/fs/cgroup/x", {"memory"});
  Limits lim;
  lim.cpus = 1;
  absl::StatusOr<CgroupPlan> p = PlanCgroup("sb", lim, l, "memory");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("--cpus needs the cgroup v2 'cpu' controller"));
}

TEST(PlanCgroup, V1OneDirectoryPerHierarchy) {
  const CgroupLayout l = DetectCgroupLayout(kHybridMountinfo, kHybridCgroup, "");
  absl::StatusOr<CgroupPlan> p = PlanCgroup("sb", AllLimits(), l, "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->kind, CgroupLayout::kV1);
  EXPECT_THAT(p->dirs, ElementsAre("/sys/fs/cgroup/memory/process_api/a5/sb", "/sys/fs/cgroup/pids/sb",
                                   "/sys/fs/cgroup/cpu/sb"));
  EXPECT_THAT(Writes(*p),
              ElementsAre("/sys/fs/cgroup/memory/process_api/a5/sb/memory.limit_in_bytes=33554432",
                          "/sys/fs/cgroup/memory/process_api/a5/sb/memory.memsw.limit_in_bytes=33554432?",
                          "/sys/fs/cgroup/pids/sb/pids.max=16", "/sys/fs/cgroup/cpu/sb/cpu.cfs_period_us=100000",
                          "/sys/fs/cgroup/cpu/sb/cpu.cfs_quota_us=50000"));
  // Only what is asked for; nothing asked: the pids hierarchy, for tracking.
  Limits mem;
  mem.memory_bytes = 8LL << 20;
  EXPECT_THAT(PlanCgroup("sb", mem, l, "")->dirs, ElementsAre("/sys/fs/cgroup/memory/process_api/a5/sb"));
  EXPECT_THAT(PlanCgroup("sb", Limits{}, l, "")->dirs, ElementsAre("/sys/fs/cgroup/pids/sb"));
}

TEST(PlanCgroup, V1CombinedCpuHierarchyOnce) {
  const CgroupLayout l = DetectCgroupLayout(
      "30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n", "3:cpu,cpuacct:/\n", "");
  Limits lim;
  lim.cpus = 1.5;
  absl::StatusOr<CgroupPlan> p = PlanCgroup("sb", lim, l, "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->dirs, ElementsAre("/sys/fs/cgroup/cpu,cpuacct/sb"));
  lim.pids = 3;
  p = PlanCgroup("sb", lim, l, "");
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("--pids needs the cgroup v1 'pids' hierarchy"));
}

TEST(PlanCgroup, BadNamesAndNoHierarchy) {
  const CgroupLayout l = DetectCgroupLayout(kHybridMountinfo, kHybridCgroup, "");
  for (const char* name : {"", ".", "..", "a/b", "/a", "a\nb"}) {
    EXPECT_EQ(PlanCgroup(name, Limits{}, l, "").status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
  EXPECT_EQ(PlanCgroup(std::string("a\0b", 3), Limits{}, l, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanCgroup(std::string(256, 'a'), Limits{}, l, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanCgroup("sb", Limits{}, CgroupLayout{}, "").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(KillAndRemoveCgroups, MissingDirectoriesAreFine) {
  EXPECT_TRUE(KillAndRemoveCgroups({"/nonexistent/minipod-x", "/nonexistent/minipod-y"}, 100).ok());
}

// ---- device policy -------------------------------------------------------

TEST(DeviceRules, DockerDefaultAsDevicesAllowLines) {
  std::vector<std::string> lines;
  for (const DeviceRule& r : DefaultDeviceRules()) lines.push_back(DeviceRuleLine(r));
  EXPECT_THAT(lines, ElementsAre("c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
                                 "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",
                                 "c 10:200 rwm"));
  EXPECT_EQ(DeviceRuleLine({'a', kAnyDev, 7, kDevRead | kDevWrite}), "a *:7 rw");
}

TEST(DeviceRules, DecisionsOfTheDefault) {
  const auto allowed = [](char type, uint32_t major, uint32_t minor, uint32_t access) {
    return DeviceAllowed(DefaultDeviceRules(), type, major, minor, access);
  };
  EXPECT_TRUE(allowed('c', 1, 3, kDevRead | kDevWrite));  // /dev/null
  EXPECT_TRUE(allowed('c', 1, 9, kDevRead));              // /dev/urandom
  EXPECT_TRUE(allowed('c', 136, 7, kDevAll));             // /dev/pts/7
  EXPECT_TRUE(allowed('c', 10, 200, kDevRead | kDevWrite));
  EXPECT_TRUE(allowed('c', 5, 2, kDevRead | kDevWrite));
  EXPECT_TRUE(allowed('c', 1, 11, kDevMknod)) << "mknod of anything, as Docker";
  EXPECT_TRUE(allowed('b', 8, 0, kDevMknod));
  EXPECT_FALSE(allowed('c', 1, 11, kDevWrite));  // /dev/kmsg
  EXPECT_FALSE(allowed('c', 1, 1, kDevRead));    // /dev/mem
  EXPECT_FALSE(allowed('c', 1, 11, kDevMknod | kDevRead)) << "every bit from one rule";
  EXPECT_FALSE(allowed('b', 8, 0, kDevRead));    // /dev/sda
  EXPECT_FALSE(allowed('c', 10, 229, kDevRead)); // /dev/fuse
  EXPECT_FALSE(allowed('c', 4, 0, kDevWrite));   // /dev/tty0
  EXPECT_FALSE(allowed('b', 1, 3, kDevRead)) << "a block device with null's numbers";
}

// Runs a device program on one context, for the instructions DeviceProgram
// uses (anything else fails the test). -1 when the program is malformed:
// an unknown opcode, a jump out of range, falling off the end, too many
// steps.
int64_t RunDeviceProgram(const std::vector<struct bpf_insn>& prog, uint32_t type, uint32_t access,
                         uint32_t major, uint32_t minor) {
  const uint32_t ctx[3] = {access << 16 | type, major, minor};
  uint64_t r[11] = {};
  bool ctx_reg[11] = {};
  ctx_reg[1] = true;
  size_t pc = 0;
  for (int steps = 0; steps < 4096; ++steps) {
    if (pc >= prog.size()) return -1;
    const struct bpf_insn& i = prog[pc++];
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W:
        if (!ctx_reg[i.src_reg] || i.off < 0 || i.off % 4 != 0 || i.off / 4 >= 3) return -1;
        r[i.dst_reg] = ctx[i.off / 4];
        ctx_reg[i.dst_reg] = false;
        break;
      case BPF_ALU64 | BPF_MOV | BPF_X:
        r[i.dst_reg] = r[i.src_reg];
        ctx_reg[i.dst_reg] = ctx_reg[i.src_reg];
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        r[i.dst_reg] = static_cast<uint64_t>(static_cast<int64_t>(i.imm));
        ctx_reg[i.dst_reg] = false;
        break;
      case BPF_ALU64 | BPF_AND | BPF_K:
        r[i.dst_reg] &= static_cast<uint64_t>(static_cast<int64_t>(i.imm));
        break;
      case BPF_ALU64 | BPF_RSH | BPF_K:
        r[i.dst_reg] >>= i.imm;
        break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (r[i.dst_reg] != static_cast<uint64_t>(static_cast<int64_t>(i.imm))) {
          if (i.off < 0 || pc + i.off > prog.size()) return -1;
          pc += i.off;
        }
        break;
      case BPF_JMP | BPF_EXIT:
        return static_cast<int64_t>(r[0]);
      default:
        ADD_FAILURE() << "opcode " << int{i.code} << " at " << pc - 1;
        return -1;
    }
  }
  return -1;
}

// Every (type, major, minor, access) from a grid that covers each rule's
// numbers, their neighbours and the extremes: the program decides as
// DeviceAllowed does.
void ExpectProgramMatchesRules(std::span<const DeviceRule> rules) {
  const std::vector<struct bpf_insn> prog = DeviceProgram(rules);
  ASSERT_FALSE(prog.empty());
  std::vector<uint32_t> numbers = {0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 136, 137, 200, 229, 0x7fffffff, 0xffffffff};
  for (const DeviceRule& r : rules) {
    for (int64_t n : {r.major, r.minor}) {
      if (n != kAnyDev) numbers.push_back(static_cast<uint32_t>(n + 1));
    }
  }
  int checked = 0;
  for (const char type : {'b', 'c'}) {
    const uint32_t t = type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
    for (uint32_t major : numbers) {
      for (uint32_t minor : numbers) {
        for (uint32_t access = 1; access <= kDevAll; ++access) {
          const bool want = DeviceAllowed(rules, type, major, minor, access);
          ASSERT_EQ(RunDeviceProgram(prog, t, access, major, minor), want ? 1 : 0)
              << type << " " << major << ":" << minor << " access " << access;
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(DeviceProgram, DecidesAsTheRules) {
  ExpectProgramMatchesRules(DefaultDeviceRules());
  // Other shapes: 'a', partial access, a wildcard major with a fixed minor.
  const DeviceRule other[] = {
      {'a', kAnyDev, 7, kDevRead},
      {'b', 8, kAnyDev, kDevRead | kDevMknod},
      {'c', 4, 64, kDevWrite},
  };
  ExpectProgramMatchesRules(other);
  // No rules: everything denied.
  const std::vector<struct bpf_insn> none = DeviceProgram({});
  EXPECT_EQ(RunDeviceProgram(none, BPF_DEVCG_DEV_CHAR, kDevRead, 1, 3), 0);
}

// The kernel's verifier on this machine accepts the program (BPF_PROG_LOAD
// needs CAP_SYS_ADMIN or CAP_BPF; no cgroup2 is needed to load it).
TEST(DeviceProgram, TheVerifierAcceptsIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "BPF_PROG_LOAD needs root (CAP_SYS_ADMIN or CAP_BPF)";
  const std::vector<struct bpf_insn> prog = DeviceProgram(DefaultDeviceRules());
  absl::StatusOr<common::UniqueFd> fd = LoadDeviceProgram(prog);
  if (!fd.ok() && (absl::IsPermissionDenied(fd.status()) || absl::IsUnimplemented(fd.status()))) {
    GTEST_SKIP() << "bpf(2) unavailable here (a container without CAP_BPF, or no CONFIG_BPF_SYSCALL): "
                 << fd.status();
  }
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_GE(fd->get(), 0);
  // A program that falls off its end is refused, and the verifier says why.
  std::vector<struct bpf_insn> bad(prog.begin(), prog.end() - 1);
  absl::StatusOr<common::UniqueFd> refused = LoadDeviceProgram(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("BPF_PROG_LOAD"));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("verifier"));
}

TEST(PlanCgroup, V1DevicePolicy) {
  const CgroupLayout l = DetectCgroupLayout(kHybridMountinfo, kHybridCgroup, "");
  absl::StatusOr<CgroupPlan> p = PlanCgroup("sb", CgroupRequest(Limits{}, /*devices=*/true), l, "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->dirs, ElementsAre("/sys/fs/cgroup/devices/sb")) << "the devices hierarchy tracks them too";
  EXPECT_FALSE(p->device_program);
  ASSERT_EQ(p->writes.size(), 1 + DefaultDeviceRules().size());
  EXPECT_EQ(p->writes[0].path, "/sys/fs/cgroup/devices/sb/devices.deny");
  EXPECT_EQ(p->writes[0].value, "a");
  EXPECT_FALSE(p->writes[0].may_be_refused) << "deny-all must take";
  EXPECT_EQ(p->writes[1].path, "/sys/fs/cgroup/devices/sb/devices.allow");
  EXPECT_EQ(p->writes[1].value, "c *:* m");
  EXPECT_TRUE(p->writes[1].may_be_refused);
  EXPECT_EQ(p->writes.back().value, "c 10:200 rwm");
  // With limits: their hierarchies, then devices.
  Limits mem;
  mem.memory_bytes = 8LL << 20;
  p = PlanCgroup("sb", CgroupRequest(mem, true), l, "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->dirs, ElementsAre("/sys/fs/cgroup/memory/process_api/a5/sb", "/sys/fs/cgroup/devices/sb"));
  // No devices hierarchy: refused rather than run without the policy.
  const CgroupLayout no_devices = DetectCgroupLayout(
      "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n", "8:pids:/\n", "");
  p = PlanCgroup("sb", CgroupRequest(Limits{}, true), no_devices, "");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(p.status().message()),
              HasSubstr("the device policy needs the cgroup v1 'devices' hierarchy"));
}

TEST(PlanCgroup, V2DevicePolicyIsTheProgram) {
  // No controller is needed for a device program.
  const CgroupLayout l = V2Layout("/sys/fs/cgroup/x", {});
  absl::StatusOr<CgroupPlan> p = PlanCgroup("sb", CgroupRequest(Limits{}, /*devices=*/true), l, "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->device_program);
  EXPECT_THAT(p->dirs, ElementsAre("/sys/fs/cgroup/x/sb"));
  EXPECT_THAT(p->writes, IsEmpty());
  EXPECT_FALSE(PlanCgroup("sb", Limits{}, l, "")->device_program);
}

// ---- OOM counters --------------------------------------------------------

TEST(ParseOomKills, V2EventsAndV1OomControl) {
  EXPECT_EQ(ParseOomKills("low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n"), 2);
  EXPECT_EQ(ParseOomKills("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"), 0);
  EXPECT_EQ(ParseOomKills("oom_kill_disable 0\nunder_oom 0\noom_kill 5\n"), 5);
  // v1 before 4.13 has no count, and oom_kill_disable is another key.
  EXPECT_EQ(ParseOomKills("oom_kill_disable 1\nunder_oom 1\n"), std::nullopt);
  EXPECT_EQ(ParseOomKills(""), std::nullopt);
  EXPECT_EQ(ParseOomKills("oom_kill x\n"), std::nullopt);
}

}  // namespace
}  // namespace sandbox
