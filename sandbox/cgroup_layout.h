// The host's cgroup layout: which cgroup2 and v1 hierarchies are mounted
// where, our own cgroup in each, and what the cgroup2 side offers. Detection
// is pure (texts in, layout out); ReadCgroupLayout reads
// /proc/self/{mountinfo,cgroup} and one cgroup.controllers file, and inside a
// cgroup namespace looks for our cgroup in a mount of the host's hierarchy.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sandbox {

struct CgroupLayout {
  enum Kind { kNone, kV1, kV2 };
  Kind kind = kNone;
  std::string v2_root;  // cgroup2 mount point ("" when none is reachable)
  std::map<std::string, std::string> v1_mounts;  // controller -> mount point
  // Our cgroup from /proc/self/cgroup: controller (or "" for v2) -> path.
  std::map<std::string, std::string> own;
  // The same as directories: controller (or "") -> mount point + our path
  // below the mount's root. Missing when our cgroup is not below the
  // mount's root (another cgroup namespace's mount, "/.." paths).
  std::map<std::string, std::string> own_dirs;
  // Our v2 cgroup's cgroup.controllers: what we may enable below it (or
  // what our parent enabled for siblings).
  std::vector<std::string> v2_controllers;
};

// Finds our cgroup in a hierarchy mounted at mount_point whose root is
// `levels` directories above our cgroup namespace's root (mountinfo root
// "/.." repeated `levels` times: a mount made outside the namespace, as a
// container sharing the host's /sys/fs/cgroup sees it). `own` is our path
// from /proc/self/cgroup, relative to the namespace's root. The directory, or
// "" when not found.
using CgroupFinder = std::function<std::string(const std::string& mount_point, int levels, const std::string& own)>;

// The real finder: among the directories exactly `levels` below mount_point
// (opened without following links; at most a few thousand looked at), the one
// whose <dir><own>/cgroup.procs lists pid. The kernel puts a process in one
// cgroup per hierarchy, so at most one does.
std::string FindCgroupBelow(const std::string& mount_point, int levels, const std::string& own, pid_t pid);

// Pure: the layout from the texts of /proc/self/mountinfo, /proc/self/cgroup
// and our v2 cgroup's cgroup.controllers ("" when unknown). kV2 when the
// cgroup2 mount is reachable and offers memory, pids or cpu; otherwise kV1
// when a v1 hierarchy of memory, pids or cpu is reachable; otherwise kV2 for
// a reachable cgroup2 mount without those controllers (a cgroup without
// limits still collects and kills the sandbox's processes); otherwise kNone.
// A mount hidden by a later mount on the same or a parent directory is
// ignored; mount points are unescaped (\040 etc.). A hierarchy mounted from
// above our cgroup namespace's root is used only through `find` (when given).
CgroupLayout DetectCgroupLayout(absl::string_view mountinfo, absl::string_view self_cgroup,
                                absl::string_view v2_controllers_text, const CgroupFinder& find = nullptr);
// The same from /proc/self/{mountinfo,cgroup} and the v2 cgroup.controllers,
// with FindCgroupBelow for our own pid.
absl::StatusOr<CgroupLayout> ReadCgroupLayout();

}  // namespace sandbox
