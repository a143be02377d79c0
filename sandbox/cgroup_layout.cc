// Cgroup layout detection from mountinfo and /proc/self/cgroup texts, and
// its reader. Pure but for ReadCgroupLayout's reads of /proc/self files and
// our v2 cgroup.controllers.
#include "sandbox/cgroup_layout.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/absl/file_util.h"
#include "common/absl/status_util.h"
#include "sandbox/cgroup_fs.h"

namespace sandbox {
namespace {

// mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo.
std::string Unescape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool HasDotDot(absl::string_view path) {
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part == "..") return true;
  }
  return false;
}

// mount point + own path below the mount's root, or "" when our cgroup is
// not below it.
std::string JoinBelowRoot(const std::string& mount_point, const std::string& root,
                          const std::string& own) {
  if (own.empty() || own[0] != '/' || HasDotDot(own) || HasDotDot(root)) return "";
  std::string rest;
  if (root == "/") {
    rest = own;
  } else if (own == root) {
    rest = "/";
  } else if (absl::StartsWith(own, root) && own.size() > root.size() && own[root.size()] == '/') {
    rest = own.substr(root.size());
  } else {
    return "";
  }
  if (rest == "/") return mount_point;
  if (mount_point == "/") return rest;
  return mount_point + rest;
}

}  // namespace

CgroupLayout DetectCgroupLayout(absl::string_view mountinfo, absl::string_view self_cgroup,
                                absl::string_view v2_controllers_text) {
  struct Mount {
    std::string root, point, fstype;
    std::vector<std::string> super_opts;
  };
  std::vector<Mount> mounts;
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (dash + 3 >= f.size()) continue;  // no "- fstype source super_options"
    Mount m;
    m.root = Unescape(f[3]);
    m.point = Unescape(f[4]);
    m.fstype = std::string(f[dash + 1]);
    m.super_opts = absl::StrSplit(f[dash + 3], ',', absl::SkipEmpty());
    if (m.point.empty() || m.point[0] != '/' || HasDotDot(m.point)) continue;
    mounts.push_back(std::move(m));
  }
  // A later mount on the same directory or on a parent hides this one.
  const auto hidden = [&](size_t i) {
    const std::string& p = mounts[i].point;
    for (size_t j = i + 1; j < mounts.size(); ++j) {
      const std::string& q = mounts[j].point;
      if (q == p || q == "/" || (absl::StartsWith(p, q) && p.size() > q.size() && p[q.size()] == '/')) {
        return true;
      }
    }
    return false;
  };

  CgroupLayout layout;
  for (absl::string_view line : absl::StrSplit(self_cgroup, '\n', absl::SkipEmpty())) {
    // ID:controllers:path; the path may itself contain ':'.
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (f.size() != 3 || f[2].empty()) continue;
    const std::string path(f[2]);
    if (f[1].empty()) {
      if (f[0] == "0") layout.own[""] = path;
      continue;
    }
    for (absl::string_view c : absl::StrSplit(f[1], ',', absl::SkipEmpty())) {
      layout.own[std::string(c)] = path;
    }
  }

  for (size_t i = 0; i < mounts.size(); ++i) {
    const Mount& m = mounts[i];
    if ((m.fstype != "cgroup2" && m.fstype != "cgroup") || hidden(i)) continue;
    if (m.fstype == "cgroup2") {
      auto own = layout.own.find("");
      if (own == layout.own.end() || !layout.v2_root.empty()) continue;
      const std::string dir = JoinBelowRoot(m.point, m.root, own->second);
      if (dir.empty()) continue;
      layout.v2_root = m.point;
      layout.own_dirs[""] = dir;
      continue;
    }
    // v1: the hierarchy of every /proc/self/cgroup controller this mount
    // carries (super options "rw,cpu,cpuacct", "rw,name=systemd").
    for (const auto& [controller, path] : layout.own) {
      if (controller.empty() || !Contains(m.super_opts, controller)) continue;
      if (layout.v1_mounts.count(controller) != 0) continue;
      const std::string dir = JoinBelowRoot(m.point, m.root, path);
      if (dir.empty()) continue;
      layout.v1_mounts[controller] = m.point;
      layout.own_dirs[controller] = dir;
    }
  }
  if (!layout.v2_root.empty()) layout.v2_controllers = Words(v2_controllers_text);

  static constexpr const char* kLimited[] = {"memory", "pids", "cpu"};
  bool v2_has = false, v1_has = false;
  for (const char* c : kLimited) {
    v2_has = v2_has || Contains(layout.v2_controllers, c);
    v1_has = v1_has || layout.own_dirs.count(c) != 0;
  }
  if (v2_has) {
    layout.kind = CgroupLayout::kV2;
  } else if (v1_has) {
    layout.kind = CgroupLayout::kV1;
  } else if (!layout.v2_root.empty()) {
    layout.kind = CgroupLayout::kV2;
  }
  return layout;
}

absl::StatusOr<CgroupLayout> ReadCgroupLayout() {
  ASSIGN_OR_RETURN(const std::string mountinfo, common::ReadFileToString("/proc/self/mountinfo"));
  ASSIGN_OR_RETURN(const std::string self_cgroup, common::ReadFileToString("/proc/self/cgroup"));
  CgroupLayout layout = DetectCgroupLayout(mountinfo, self_cgroup, "");
  auto v2 = layout.own_dirs.find("");
  if (v2 == layout.own_dirs.end()) return layout;
  // Unreadable (a cgroup removed under us): no v2 controllers.
  absl::StatusOr<std::string> controllers = common::ReadFileToString(v2->second + "/cgroup.controllers");
  return DetectCgroupLayout(mountinfo, self_cgroup, controllers.ok() ? *controllers : "");
}

}  // namespace sandbox
