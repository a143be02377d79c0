// PlanCgroup: where the sandbox cgroup goes on this layout and what is
// written into it. Pure: no syscalls.
#include "sandbox/cgroup_plan.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sandbox/cgroup_devices.h"
#include "sandbox/cgroup_fs.h"

namespace sandbox {

absl::StatusOr<CgroupPlan> PlanCgroup(absl::string_view name, const CgroupRequest& request,
                                      const CgroupLayout& layout,
                                      absl::string_view own_subtree_control) {
  const Limits& limits = request.limits;
  if (name.empty() || name.size() > 255 || name == "." || name == ".." ||
      name.find_first_of(absl::string_view("/\n\0", 3)) != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("cgroup name '", name, "': not one path component"));
  }
  const std::string& group = request.parent;
  if (!group.empty() && (group.size() > 255 || group == "." || group == ".." ||
                         group.find_first_of(std::string("/\n\0", 3)) != std::string::npos)) {
    return absl::InvalidArgumentError(absl::StrCat("cgroup parent '", group, "': not one path component"));
  }
  // The sandbox's directory, relative to where it is placed.
  const std::string leaf = group.empty() ? std::string(name) : absl::StrCat(group, "/", name);
  struct Need {
    const char* controller;
    const char* option;
  };
  const Limits& group_limits = request.parent_limits;
  if (group.empty() && group_limits.any()) {
    return absl::InvalidArgumentError("cgroup parent limits without a parent");
  }
  std::vector<Need> needed;
  if (limits.memory_bytes || group_limits.memory_bytes) needed.push_back({"memory", "--memory"});
  if (limits.pids || group_limits.pids) needed.push_back({"pids", "--pids"});
  if (limits.cpus || group_limits.cpus) needed.push_back({"cpu", "--cpus"});

  CgroupPlan plan;
  plan.kind = layout.kind;
  if (layout.kind == CgroupLayout::kV2) {
    auto own = layout.own_dirs.find("");
    if (own == layout.own_dirs.end()) {
      return absl::FailedPreconditionError("cgroup v2: our own cgroup is not below the cgroup2 mount");
    }
    const std::string& own_dir = own->second;
    const std::vector<std::string> subtree = Words(own_subtree_control);
    std::vector<std::string> missing;  // from our subtree_control
    for (const Need& n : needed) {
      if (!Contains(layout.v2_controllers, n.controller)) {
        return absl::FailedPreconditionError(absl::StrCat(
            n.option, " needs the cgroup v2 '", n.controller, "' controller, which ", own_dir,
            " does not offer (cgroup.controllers: '", absl::StrJoin(layout.v2_controllers, " "), "')"));
      }
      if (!Contains(subtree, n.controller)) missing.push_back(absl::StrCat("+", n.controller));
    }
    std::string parent = own_dir;
    if (!missing.empty()) {
      if (own_dir == layout.v2_root) {
        plan.enable_at = own_dir;
        plan.enable = missing;
      } else {
        parent = DirName(own_dir);
      }
    }
    const std::string dir = parent == "/" ? absl::StrCat("/", leaf) : absl::StrCat(parent, "/", leaf);
    plan.dirs.push_back(dir);
    if (!group.empty()) {
      // The group holds no process itself: it may hand every controller
      // its parent gave it down to ours (first, before any limit).
      plan.parents.push_back(DirName(dir));
      std::vector<std::string> enable;
      for (const Need& n : needed) enable.push_back(absl::StrCat("+", n.controller));
      if (!enable.empty()) plan.writes.push_back({DirName(dir) + "/cgroup.subtree_control", absl::StrJoin(enable, " ")});
    }
    const auto write_limits = [&plan](const std::string& d, const Limits& l) {
      if (l.memory_bytes) {
        plan.writes.push_back({d + "/memory.max", absl::StrCat(*l.memory_bytes)});
        // Without swap accounting the file is absent, and there is no swap
        // to escape to through this cgroup either.
        plan.writes.push_back({d + "/memory.swap.max", "0", /*optional=*/true});
      }
      if (l.pids) plan.writes.push_back({d + "/pids.max", absl::StrCat(*l.pids)});
      if (l.cpus) plan.writes.push_back({d + "/cpu.max", absl::StrCat(CpuQuotaUs(*l.cpus), " ", kCpuPeriodUs)});
    };
    if (!group.empty()) write_limits(DirName(dir), group_limits);
    write_limits(dir, limits);
    plan.device_program = request.devices;
    return plan;
  }
  if (layout.kind == CgroupLayout::kV1) {
    if (request.devices) needed.push_back({"devices", "the device policy"});
    if (needed.empty()) {
      for (const char* c : {"pids", "memory", "cpu"}) {
        if (layout.own_dirs.count(c) != 0) {
          needed.push_back({c, "(tracking)"});
          break;
        }
      }
    }
    const auto dir_of = [&](const char* controller) {
      return absl::StrCat(layout.own_dirs.at(controller), "/", leaf);
    };
    for (const Need& n : needed) {
      if (layout.own_dirs.count(n.controller) == 0) {
        return absl::FailedPreconditionError(absl::StrCat(n.option, " needs the cgroup v1 '",
                                                          n.controller, "' hierarchy, which is not mounted"));
      }
      const std::string dir = dir_of(n.controller);
      if (!Contains(plan.dirs, dir)) plan.dirs.push_back(dir);  // cpu,cpuacct: one
      if (!group.empty() && !Contains(plan.parents, DirName(dir))) plan.parents.push_back(DirName(dir));
    }
    // In the sandbox's directory (or, above=true, its parent) of a hierarchy.
    const auto write_limits = [&](const Limits& l, bool above) {
      const auto at = [&](const char* controller) {
        const std::string d = dir_of(controller);
        return above ? DirName(d) : d;
      };
      if (l.memory_bytes) {
        const std::string d = at("memory");
        const std::string v = absl::StrCat(*l.memory_bytes);
        // memsw (memory + swap) must stay >= the memory limit: set it after.
        plan.writes.push_back({d + "/memory.limit_in_bytes", v});
        plan.writes.push_back({d + "/memory.memsw.limit_in_bytes", v, /*optional=*/true});
      }
      if (l.pids) plan.writes.push_back({at("pids") + "/pids.max", absl::StrCat(*l.pids)});
      if (l.cpus) {
        const std::string d = at("cpu");
        plan.writes.push_back({d + "/cpu.cfs_period_us", absl::StrCat(kCpuPeriodUs)});
        plan.writes.push_back({d + "/cpu.cfs_quota_us", absl::StrCat(CpuQuotaUs(*l.cpus))});
      }
    };
    if (!group.empty()) write_limits(group_limits, /*above=*/true);
    write_limits(limits, /*above=*/false);
    if (request.devices) {
      // A new devices cgroup copies its parent's list: deny everything
      // first, then allow the rules, as Docker does.
      const std::string dir = dir_of("devices");
      plan.writes.push_back({dir + "/devices.deny", "a"});
      for (const DeviceRule& r : DefaultDeviceRules()) {
        plan.writes.push_back({dir + "/devices.allow", DeviceRuleLine(r), /*optional=*/false,
                               /*may_be_refused=*/true});
      }
    }
    return plan;
  }
  return absl::FailedPreconditionError(
      "no usable cgroup hierarchy: neither a cgroup2 mount nor a v1 memory, pids or cpu hierarchy "
      "holding our cgroup");
}


}  // namespace sandbox
