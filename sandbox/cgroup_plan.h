// What creating a sandbox cgroup does, as data: the directories to make,
// the controllers to enable, the files to write (limits, the v1 device
// list) and whether to attach the v2 device program. Pure: no syscalls.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sandbox/cgroup_layout.h"
#include "sandbox/cgroup_limits.h"

namespace sandbox {

// What the sandbox cgroup is for.
struct CgroupRequest {
  CgroupRequest() = default;
  // A Limits alone is a request without the device policy.
  CgroupRequest(const Limits& l, bool d = false) : limits(l), devices(d) {}  // NOLINT(runtime/explicit)

  Limits limits;
  // Docker's default device allow list (cgroup_devices.h) in the cgroup:
  // v1 devices.deny/devices.allow, v2 a BPF device program. Needs root.
  bool devices = false;
  // One path component ("" for none): the sandbox's cgroup is made below a
  // directory of that name, itself placed where the sandbox's would be
  // (a pod's cgroup, shared by its containers). Made when missing; never
  // removed with the sandbox's.
  std::string parent;
  // The parent's own limits (a pod's, shared by all its sandboxes): written
  // into the parent directory (again by each sandbox: the same values, so
  // it does not matter which one made it), and the controllers they need
  // are this sandbox's too, so its processes are charged below them (in
  // v1, a directory in each of those hierarchies).
  Limits parent_limits;
};

struct CgroupWrite {
  std::string path;
  std::string value;
  bool optional = false;  // skipped when the file does not exist (swap accounting off)
  // Skipped on EPERM: a v1 devices.allow line the parent cgroup's own list
  // lacks (a container's), so it stays denied, which is what we want.
  bool may_be_refused = false;
};
struct CgroupPlan {
  CgroupLayout::Kind kind = CgroupLayout::kNone;
  // v2: controllers ("+memory") to enable in enable_at/cgroup.subtree_control
  // first. Only ever our own cgroup when it is the hierarchy's root (exempt
  // from the no-internal-process rule); this is left enabled afterwards, as
  // systemd and Docker leave it, since disabling it would lift the limits of
  // any other cgroup there.
  std::string enable_at;
  std::vector<std::string> enable;
  // Directories to mkdir, in order (removed in reverse): v2 one; v1 one per
  // hierarchy (memory, pids, cpu or cpu,cpuacct, devices).
  std::vector<std::string> dirs;
  // With CgroupRequest::parent: the directories above dirs to make first
  // when missing (never removed by the sandbox); in v2, writes then start
  // with the controllers the limits need in its cgroup.subtree_control.
  std::vector<std::string> parents;
  std::vector<CgroupWrite> writes;  // in order
  // v2: attach the device program (DeviceProgram(DefaultDeviceRules())) to
  // dirs.front() before any process joins.
  bool device_program = false;
};
// v2 layout decision (the no-internal-process rule: a non-root cgroup with
// processes cannot enable controllers for its children, and our own cgroup
// holds at least the launcher):
//   1. our cgroup's subtree_control already has every needed controller:
//      <own>/<name>;
//   2. our cgroup is the hierarchy's root (a VM's PID 1, a container's
//      cgroup namespace root): enable them there, <own>/<name>;
//   3. otherwise a sibling, <parent of own>/<name>: our cgroup.controllers
//      is exactly what the parent enabled, so no subtree_control changes.
// Needed controllers: memory for --memory, pids for --pids, cpu for --cpus,
// in the request's limits or its parent_limits; the device program needs
// none (it is part of cgroup2 itself). The parent's limits are written
// before the sandbox's own (v1 refuses a child's CFS quota above its
// parent's).
// v1: <mount>/<own path>/<name> in each needed hierarchy (devices for the
// device policy: devices.deny "a", then one devices.allow per rule); with
// no limits and no device policy, the pids hierarchy (else memory) so the
// processes are still tracked.
// own_subtree_control is our v2 cgroup's cgroup.subtree_control text.
absl::StatusOr<CgroupPlan> PlanCgroup(absl::string_view name, const CgroupRequest& request,
                                      const CgroupLayout& layout,
                                      absl::string_view own_subtree_control);

}  // namespace sandbox
