// Whether cgroup limits can work here, for the tests that set them through
// the minipod command line (run --memory, pod create --memory). Reads the
// cgroup layout and makes (and removes) one probe directory.
#pragma once

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "absl/status/statusor.h"
#include "sandbox/cgroup_layout.h"
#include "tests/testing/probes.h"

namespace itest {

// Whether `minipod run --memory --pids` can work here: a cgroup hierarchy
// holding our cgroup (found also from inside a cgroup namespace), memory and
// pids in it, and a cgroupfs we may create directories in (a container's may
// be read-only).
inline testing_util::Probe CgroupLimitsUsable() {
  absl::StatusOr<sandbox::CgroupLayout> l = sandbox::ReadCgroupLayout();
  if (!l.ok()) return {false, "cgroup layout: " + l.status().ToString()};
  std::string dir;
  if (l->kind == sandbox::CgroupLayout::kV2) {
    for (const char* c : {"memory", "pids"}) {
      if (std::find(l->v2_controllers.begin(), l->v2_controllers.end(), c) == l->v2_controllers.end()) {
        return {false, std::string("our cgroup2 parent offers no '") + c + "' controller"};
      }
    }
    dir = l->own_dirs.at("");
  } else if (l->kind == sandbox::CgroupLayout::kV1) {
    for (const char* c : {"memory", "pids"}) {
      if (l->own_dirs.count(c) == 0) return {false, std::string("no cgroup v1 '") + c + "' hierarchy holding our cgroup"};
    }
    dir = l->own_dirs.at("memory");
  } else {
    return {false, "no cgroup hierarchy holding our cgroup is mounted here"};
  }
  const std::string probe = dir + "/run-test-probe-" + std::to_string(getpid());
  if (mkdir(probe.c_str(), 0755) != 0) return {false, "cannot create cgroups (" + probe + ": " + strerror(errno) + ")"};
  rmdir(probe.c_str());
  return {true, dir};
}

}  // namespace itest
