// Cgroup layout detection from mountinfo and /proc/self/cgroup texts, and
// its reader. Pure but for ReadCgroupLayout's reads of /proc/self files and
// our v2 cgroup.controllers, and FindCgroupBelow's walk (openat, getdents,
// read of cgroup.procs files).
#include "sandbox/cgroup_layout.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/absl/dir_stream.h"
#include "common/absl/file_util.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"
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

// k for a mount root of k ".." components ("/..", "/../.."), else 0.
int LevelsAbove(absl::string_view root) {
  int levels = 0;
  for (absl::string_view part : absl::StrSplit(root, '/', absl::SkipEmpty())) {
    if (part != "..") return 0;
    ++levels;
  }
  return levels;
}

// Walk limits: deeper than this no sane cgroup tree goes, and more
// directories than this we do not read through for one lookup.
constexpr int kMaxLevels = 32;
constexpr int kMaxVisited = 4096;

// Whether the cgroup.procs below dir_fd at rel lists pid.
bool ListsPid(int dir_fd, const std::string& rel, const std::string& pid) {
  const common::UniqueFd fd(::openat(dir_fd, rel.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return false;
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return Contains(Words(text), pid);
}

// Depth-first over the directories `levels` below dir_fd (named `path`).
std::string FindAt(int dir_fd, const std::string& path, int levels, const std::string& procs_rel,
                   const std::string& own, const std::string& pid, int& visited) {
  if (++visited > kMaxVisited) return "";
  if (levels == 0) {
    if (!ListsPid(dir_fd, procs_rel, pid)) return "";
    return own == "/" ? path : path + own;
  }
  absl::StatusOr<common::DirStream> stream = common::OpenDirStream(dir_fd, path);
  if (!stream.ok()) return "";
  DIR* dir = stream->get();
  std::string found;
  while (found.empty() && visited <= kMaxVisited) {
    errno = 0;
    const dirent* e = ::readdir(dir);
    if (e == nullptr) break;
    const std::string name = e->d_name;
    if ((e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) || name == "." || name == "..") continue;
    const common::UniqueFd child(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (child.get() < 0) continue;  // removed meanwhile, or not ours to read
    found = FindAt(child.get(), path + "/" + name, levels - 1, procs_rel, own, pid, visited);
  }
  return found;
}

}  // namespace

std::string FindCgroupBelow(const std::string& mount_point, int levels, const std::string& own, pid_t pid) {
  if (levels <= 0 || levels > kMaxLevels || own.empty() || own[0] != '/' || HasDotDot(own)) return "";
  const common::UniqueFd top(::open(mount_point.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (top.get() < 0) return "";
  const std::string procs_rel = own == "/" ? "cgroup.procs" : own.substr(1) + "/cgroup.procs";
  int visited = 0;
  return FindAt(top.get(), mount_point == "/" ? "" : mount_point, levels, procs_rel, own, std::to_string(pid),
                visited);
}

CgroupLayout DetectCgroupLayout(absl::string_view mountinfo, absl::string_view self_cgroup,
                                absl::string_view v2_controllers_text, const CgroupFinder& find) {
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
  // Our directory in mount m: below its root, or (through find) found
  // below a root above our cgroup namespace's.
  const auto own_dir = [&](const Mount& m, const std::string& own) {
    std::string dir = JoinBelowRoot(m.point, m.root, own);
    if (dir.empty() && find) {
      if (const int levels = LevelsAbove(m.root); levels > 0) dir = find(m.point, levels, own);
    }
    return dir;
  };
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
      const std::string dir = own_dir(m, own->second);
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
      const std::string dir = own_dir(m, path);
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
  const pid_t pid = ::getpid();
  const CgroupFinder find = [pid](const std::string& mount_point, int levels, const std::string& own) {
    return FindCgroupBelow(mount_point, levels, own, pid);
  };
  CgroupLayout layout = DetectCgroupLayout(mountinfo, self_cgroup, "", find);
  auto v2 = layout.own_dirs.find("");
  if (v2 == layout.own_dirs.end()) return layout;
  // Unreadable (a cgroup removed under us): no v2 controllers.
  absl::StatusOr<std::string> controllers = common::ReadFileToString(v2->second + "/cgroup.controllers");
  return DetectCgroupLayout(mountinfo, self_cgroup, controllers.ok() ? *controllers : "", find);
}

}  // namespace sandbox
