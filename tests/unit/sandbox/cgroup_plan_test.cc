// Unit tests of the plan Create carries out, for v2 and v1, with limits and
// the device policy (cgroup_plan.h).
#include "sandbox/cgroup_plan.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/cgroup_devices.h"
#include "tests/unit/sandbox/cgroup_hosts.h"

namespace sandbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::sandbox::testing_hosts::kHybridMountinfo;
using ::sandbox::testing_hosts::kHybridCgroup;

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

TEST(PlanCgroup, ParentGroupAboveTheSandbox) {
  // v1: below the group in each hierarchy used; the group made first.
  CgroupRequest req(AllLimits());
  req.parent = "minipod-pod-web-1a2b";
  const CgroupLayout l1 = DetectCgroupLayout(kHybridMountinfo, kHybridCgroup, "");
  absl::StatusOr<CgroupPlan> p = PlanCgroup("sb", req, l1, "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->dirs, ElementsAre("/sys/fs/cgroup/memory/process_api/a5/minipod-pod-web-1a2b/sb",
                                   "/sys/fs/cgroup/pids/minipod-pod-web-1a2b/sb",
                                   "/sys/fs/cgroup/cpu/minipod-pod-web-1a2b/sb"));
  EXPECT_THAT(p->parents, ElementsAre("/sys/fs/cgroup/memory/process_api/a5/minipod-pod-web-1a2b",
                                      "/sys/fs/cgroup/pids/minipod-pod-web-1a2b",
                                      "/sys/fs/cgroup/cpu/minipod-pod-web-1a2b"));
  EXPECT_EQ(p->writes.front().path, "/sys/fs/cgroup/memory/process_api/a5/minipod-pod-web-1a2b/sb/memory.limit_in_bytes");
  // v2: the group hands the controllers down before any limit is written.
  p = PlanCgroup("sb", req, V2Layout("/sys/fs/cgroup/svc", {"cpu", "memory", "pids"}), "cpu memory pids\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->dirs, ElementsAre("/sys/fs/cgroup/svc/minipod-pod-web-1a2b/sb"));
  EXPECT_THAT(p->parents, ElementsAre("/sys/fs/cgroup/svc/minipod-pod-web-1a2b"));
  EXPECT_EQ(Writes(*p).front(), "/sys/fs/cgroup/svc/minipod-pod-web-1a2b/cgroup.subtree_control=+memory +pids +cpu");
  // No group: nothing above.
  EXPECT_THAT(PlanCgroup("sb", Limits{}, l1, "")->parents, IsEmpty());
  // The group is one path component.
  for (const char* bad : {"a/b", "..", "."}) {
    req.parent = bad;
    p = PlanCgroup("sb", req, l1, "");
    EXPECT_FALSE(p.ok()) << bad;
    EXPECT_THAT(p.status().message(), HasSubstr("not one path component"));
  }
}

TEST(PlanCgroup, ParentLimitsGoOnTheGroupAndPlaceTheSandboxBelowThem) {
  // A pod's --memory and --pids: a member without limits of its own still
  // gets a directory in those v1 hierarchies (its processes are charged to
  // the pod's), and the group's limits come before the member's own.
  CgroupRequest req(Limits{});
  req.parent = "minipod-pod-web-1a2b";
  req.parent_limits.memory_bytes = 32LL << 20;
  req.parent_limits.pids = 20;
  const CgroupLayout l1 = DetectCgroupLayout(kHybridMountinfo, kHybridCgroup, "");
  absl::StatusOr<CgroupPlan> p = PlanCgroup("sb", req, l1, "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->dirs, ElementsAre("/sys/fs/cgroup/memory/process_api/a5/minipod-pod-web-1a2b/sb",
                                   "/sys/fs/cgroup/pids/minipod-pod-web-1a2b/sb"));
  EXPECT_THAT(Writes(*p),
              ElementsAre("/sys/fs/cgroup/memory/process_api/a5/minipod-pod-web-1a2b/memory.limit_in_bytes=33554432",
                          "/sys/fs/cgroup/memory/process_api/a5/minipod-pod-web-1a2b/memory.memsw.limit_in_bytes=33554432?",
                          "/sys/fs/cgroup/pids/minipod-pod-web-1a2b/pids.max=20"));
  // Its own --memory below the pod's: both written, the pod's first.
  req.limits.memory_bytes = 16LL << 20;
  req.parent_limits.cpus = 1;
  req.limits.cpus = 0.5;
  p = PlanCgroup("sb", req, l1, "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(Writes(*p),
              ElementsAre("/sys/fs/cgroup/memory/process_api/a5/minipod-pod-web-1a2b/memory.limit_in_bytes=33554432",
                          "/sys/fs/cgroup/memory/process_api/a5/minipod-pod-web-1a2b/memory.memsw.limit_in_bytes=33554432?",
                          "/sys/fs/cgroup/pids/minipod-pod-web-1a2b/pids.max=20",
                          "/sys/fs/cgroup/cpu/minipod-pod-web-1a2b/cpu.cfs_period_us=100000",
                          "/sys/fs/cgroup/cpu/minipod-pod-web-1a2b/cpu.cfs_quota_us=100000",
                          "/sys/fs/cgroup/memory/process_api/a5/minipod-pod-web-1a2b/sb/memory.limit_in_bytes=16777216",
                          "/sys/fs/cgroup/memory/process_api/a5/minipod-pod-web-1a2b/sb/memory.memsw.limit_in_bytes=16777216?",
                          "/sys/fs/cgroup/cpu/minipod-pod-web-1a2b/sb/cpu.cfs_period_us=100000",
                          "/sys/fs/cgroup/cpu/minipod-pod-web-1a2b/sb/cpu.cfs_quota_us=50000"));
  // v2: placed as if the sandbox needed the pod's controllers itself (every
  // member of the pod lands in the same group), which the group hands down.
  req = CgroupRequest(Limits{});
  req.parent = "minipod-pod-web-1a2b";
  req.parent_limits.memory_bytes = 32LL << 20;
  p = PlanCgroup("sb", req, V2Layout("/sys/fs/cgroup/user.slice/s.scope", {"memory", "pids"}), "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->dirs, ElementsAre("/sys/fs/cgroup/user.slice/minipod-pod-web-1a2b/sb"));
  EXPECT_THAT(Writes(*p), ElementsAre("/sys/fs/cgroup/user.slice/minipod-pod-web-1a2b/cgroup.subtree_control=+memory",
                                      "/sys/fs/cgroup/user.slice/minipod-pod-web-1a2b/memory.max=33554432",
                                      "/sys/fs/cgroup/user.slice/minipod-pod-web-1a2b/memory.swap.max=0?"));
  // A controller the host does not offer is an error naming the option.
  req.parent_limits.cpus = 1;
  p = PlanCgroup("sb", req, V2Layout("/sys/fs/cgroup/user.slice/s.scope", {"memory", "pids"}), "");
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("--cpus needs the cgroup v2 'cpu' controller"));
  // Limits for a parent that is not there.
  req.parent.clear();
  EXPECT_FALSE(PlanCgroup("sb", req, l1, "").ok());
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

}  // namespace
}  // namespace sandbox
