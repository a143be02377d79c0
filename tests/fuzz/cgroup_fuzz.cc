// libFuzzer target: the --memory, --pids and --cpus parsers, and cgroup
// layout detection plus the plan (with and without the device policy) over
// mountinfo, /proc/self/cgroup and cgroup.controllers texts (the input split
// at NUL bytes, in that order), also for a pod's member (the pod's limits on
// the group above it).
#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "sandbox/cgroup_layout.h"
#include "sandbox/cgroup_limits.h"
#include "sandbox/cgroup_plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (absl::StatusOr<int64_t> m = sandbox::ParseMemorySize(text); m.ok()) {
    if (*m < sandbox::kMinMemoryBytes) __builtin_trap();
  }
  if (absl::StatusOr<int64_t> p = sandbox::ParsePidsLimit(text); p.ok()) {
    if (*p < 1 || *p > sandbox::kMaxPids) __builtin_trap();
  }
  if (absl::StatusOr<double> c = sandbox::ParseCpus(text, 4); c.ok()) {
    const int64_t quota = sandbox::CpuQuotaUs(*c);
    if (quota < 1000 || quota > 4 * sandbox::kCpuPeriodUs) __builtin_trap();
  }

  const std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits('\0', 2));
  const std::string& mountinfo = parts[0];
  const std::string self_cgroup = parts.size() > 1 ? parts[1] : "";
  const std::string controllers = parts.size() > 2 ? parts[2] : "";
  const sandbox::CgroupLayout l = sandbox::DetectCgroupLayout(mountinfo, self_cgroup, controllers);
  for (const auto& [controller, dir] : l.own_dirs) {
    // Every directory is absolute and never climbs out with "..".
    if (dir.empty() || dir[0] != '/' || dir.find("/../") != std::string::npos) __builtin_trap();
  }
  if (l.kind == sandbox::CgroupLayout::kV2 && l.own_dirs.count("") == 0) __builtin_trap();
  sandbox::Limits limits;
  limits.memory_bytes = 64 << 20;
  limits.pids = 10;
  limits.cpus = 0.5;
  for (const bool devices : {false, true}) {
    for (const char* name : {"sb", ".."}) {
      absl::StatusOr<sandbox::CgroupPlan> plan =
          sandbox::PlanCgroup(name, sandbox::CgroupRequest(limits, devices), l, controllers);
      if (!plan.ok()) continue;
      if (plan->dirs.empty() || std::string(name) == "..") __builtin_trap();
      for (const std::string& d : plan->dirs) {
        if (d.size() < 3 || d.compare(d.size() - 3, 3, "/sb") != 0) __builtin_trap();
      }
      // The device policy is never silently left out.
      if (devices && !plan->device_program &&
          std::none_of(plan->writes.begin(), plan->writes.end(),
                       [](const sandbox::CgroupWrite& w) { return w.value == "a"; })) {
        __builtin_trap();
      }
    }
  }
  // A pod's member: no limits of its own, the pod's on the group above.
  // Its directories are right below the group, the group is made first,
  // and every write lands in one of them.
  sandbox::CgroupRequest member{sandbox::Limits{}};
  member.parent = "minipod-pod-p";
  member.parent_limits = limits;
  absl::StatusOr<sandbox::CgroupPlan> plan = sandbox::PlanCgroup("sb", member, l, controllers);
  if (plan.ok()) {
    for (const std::string& d : plan->dirs) {
      const std::string parent = d.substr(0, d.rfind('/'));
      if (std::find(plan->parents.begin(), plan->parents.end(), parent) == plan->parents.end()) __builtin_trap();
      if (parent.size() < 14 || parent.compare(parent.size() - 14, 14, "/minipod-pod-p") != 0) __builtin_trap();
    }
    for (const sandbox::CgroupWrite& w : plan->writes) {
      const std::string dir = w.path.substr(0, w.path.rfind('/'));
      if (std::find(plan->dirs.begin(), plan->dirs.end(), dir) == plan->dirs.end() &&
          std::find(plan->parents.begin(), plan->parents.end(), dir) == plan->parents.end()) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
