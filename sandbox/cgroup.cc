// Cgroup limits for `minipod run`: parsing, layout detection (pure), the
// plan, and the kernel side (mkdir/rmdir/write in cgroupfs, pidfd kills, the
// janitor's fork). Parent side only: nothing here runs after clone in the
// sandboxed child.
#include "sandbox/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/status_util.h"
#include "common/sys.h"

namespace sandbox {
namespace {

using common::ErrnoStatus;
using common::UniqueFd;

// ---- number parsing ------------------------------------------------------

struct Decimal {
  int64_t whole = 0;
  int64_t frac = 0;     // the fraction digits as an integer
  int frac_digits = 0;  // how many (<= 9)
  size_t end = 0;       // index after the number
};

// [digits][.digits], at least one digit in all, at most 9 fraction digits,
// whole part at most 18 digits (no overflow in int64). nullopt otherwise.
std::optional<Decimal> ParseDecimal(absl::string_view s, bool allow_fraction) {
  Decimal d;
  size_t i = 0;
  int whole_digits = 0;
  while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
    if (++whole_digits > 18) return std::nullopt;
    d.whole = d.whole * 10 + (s[i] - '0');
    ++i;
  }
  if (allow_fraction && i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      if (++d.frac_digits > 9) return std::nullopt;
      d.frac = d.frac * 10 + (s[i] - '0');
      ++i;
    }
    if (d.frac_digits == 0) return std::nullopt;  // "1." is not a number
  }
  if (whole_digits + d.frac_digits == 0) return std::nullopt;
  d.end = i;
  return d;
}

int64_t Pow10(int n) {
  int64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

// d * mult, rounded down; false on overflow.
bool Scale(const Decimal& d, int64_t mult, int64_t* out) {
  int64_t whole = 0;
  if (__builtin_mul_overflow(d.whole, mult, &whole)) return false;
  // frac < 10^9 < 2^30 and mult is a power of two up to 2^40: split a
  // large mult in two factors of 2^20 so nothing overflows, exactly.
  const int64_t div = Pow10(d.frac_digits);
  int64_t part = 0;
  if (mult <= (int64_t{1} << 33)) {
    part = d.frac * mult / div;
  } else {
    const int64_t low = int64_t{1} << 20, high = mult / low;
    const int64_t a = d.frac * high;
    part = a / div * low + a % div * low / div;
  }
  return !__builtin_add_overflow(whole, part, out);
}

std::string FormatBytes(int64_t n) {
  if (n % (int64_t{1} << 30) == 0) return absl::StrCat(n >> 30, "g");
  if (n % (int64_t{1} << 20) == 0) return absl::StrCat(n >> 20, "m");
  if (n % 1024 == 0) return absl::StrCat(n >> 10, "k");
  return absl::StrCat(n);
}

// ---- text helpers --------------------------------------------------------

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

std::vector<std::string> Words(absl::string_view text) {
  return absl::StrSplit(text, absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
}

bool Contains(const std::vector<std::string>& v, absl::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

// Rootless and read-only cgroupfs are one case for the caller.
absl::Status CgroupErrno(int err, absl::string_view what) {
  if (err == EACCES || err == EPERM || err == EROFS) {
    return absl::PermissionDeniedError(absl::StrCat(what, ": ", strerror(err)));
  }
  return ErrnoStatus(err, what);
}

// ---- kernel helpers ------------------------------------------------------

// Writes value to path in one write(2), as cgroupfs wants; errno or 0.
int WriteFile(const std::string& path, absl::string_view value) {
  const common::SysResult fd = common::sys::Open(path.c_str(), O_WRONLY);
  if (!fd.ok()) return fd.err;
  UniqueFd owned(static_cast<int>(fd.value));
  for (;;) {
    const ssize_t n = ::write(owned.get(), value.data(), value.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    return static_cast<size_t>(n) == value.size() ? 0 : EIO;
  }
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::vector<pid_t> ReadPids(const std::string& procs_path) {
  std::vector<pid_t> pids;
  absl::StatusOr<std::string> text = common::ReadFileToString(procs_path, 16 << 20);
  if (!text.ok()) return pids;
  for (absl::string_view word : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    int pid = 0;
    if (absl::SimpleAtoi(word, &pid) && pid > 0) pids.push_back(pid);
  }
  return pids;
}

// "key N" from a flat-keyed cgroup file (memory.events, memory.oom_control).
std::optional<int64_t> KeyedValue(absl::string_view text, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, absl::MaxSplits(' ', 1));
    int64_t v = 0;
    if (kv.first == key && absl::SimpleAtoi(kv.second, &v)) return v;
  }
  return std::nullopt;
}

// dir and its sub-cgroups, children before parents (rmdir order). Depth is
// bounded: a sandbox that nests deeper than 32 levels is left to the retry.
void CollectTree(const std::string& dir, int depth, std::vector<std::string>* out) {
  if (depth < 32) {
    if (DIR* d = ::opendir(dir.c_str())) {
      std::vector<std::string> subdirs;
      while (struct dirent* e = ::readdir(d)) {
        if (e->d_type != DT_DIR) continue;
        const absl::string_view n = e->d_name;
        if (n == "." || n == "..") continue;
        subdirs.push_back(dir + "/" + std::string(n));
      }
      ::closedir(d);
      for (const std::string& s : subdirs) CollectTree(s, depth + 1, out);
    }
  }
  out->push_back(dir);
}

long PidfdOpen(pid_t pid) { return ::syscall(SYS_pidfd_open, pid, 0); }
long PidfdKill(int pidfd) { return ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0); }

// SIGKILLs everything in one cgroup (not its children); true if it held
// processes. Through cgroup.kill (5.14+) when present; else each listed pid
// through a pidfd taken before re-reading the list, so a pid recycled by a
// process outside the cgroup is never signalled.
bool KillCgroup(const std::string& dir) {
  const std::string procs = dir + "/cgroup.procs";
  std::vector<pid_t> pids = ReadPids(procs);
  if (pids.empty()) return false;
  if (WriteFile(dir + "/cgroup.kill", "1") == 0) return true;
  std::vector<std::pair<pid_t, UniqueFd>> held;
  for (pid_t pid : pids) {
    const long fd = PidfdOpen(pid);
    if (fd >= 0) {
      held.emplace_back(pid, UniqueFd(static_cast<int>(fd)));
    } else if (errno == ENOSYS) {
      ::kill(pid, SIGKILL);  // before 5.3: the small recycling race remains
    }
  }
  const std::vector<pid_t> still = ReadPids(procs);
  for (auto& [pid, fd] : held) {
    if (std::find(still.begin(), still.end(), pid) != still.end()) PidfdKill(fd.get());
  }
  return true;
}

void SleepMs(int ms) {
  struct timespec ts {ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

}  // namespace

// ---- parsers -------------------------------------------------------------

absl::StatusOr<int64_t> ParseMemorySize(absl::string_view text) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("--memory '", text, "': not a size (use e.g. 512m, 2g)"));
  };
  std::optional<Decimal> d = ParseDecimal(text, /*allow_fraction=*/true);
  if (!d) return bad();
  absl::string_view suffix = text.substr(d->end);
  int64_t mult = 1;
  if (!suffix.empty()) {
    switch (absl::ascii_tolower(static_cast<unsigned char>(suffix[0]))) {
      case 'b': mult = 1; break;
      case 'k': mult = int64_t{1} << 10; break;
      case 'm': mult = int64_t{1} << 20; break;
      case 'g': mult = int64_t{1} << 30; break;
      case 't': mult = int64_t{1} << 40; break;
      default: return bad();
    }
    suffix.remove_prefix(1);
    // 512m, 512mb, 512MiB; a lone "b" takes nothing more.
    if (mult != 1) {
      if (absl::EqualsIgnoreCase(suffix, "ib")) suffix.remove_prefix(2);
      else if (absl::EqualsIgnoreCase(suffix, "b")) suffix.remove_prefix(1);
    }
    if (!suffix.empty()) return bad();
  }
  int64_t bytes = 0;
  if (!Scale(*d, mult, &bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("--memory '", text, "': too large"));
  }
  if (bytes < kMinMemoryBytes) {
    return absl::InvalidArgumentError(absl::StrCat("--memory '", text, "': below the minimum of ",
                                                   FormatBytes(kMinMemoryBytes), " (",
                                                   kMinMemoryBytes, " bytes)"));
  }
  return bytes;
}

absl::StatusOr<int64_t> ParsePidsLimit(absl::string_view text) {
  std::optional<Decimal> d = ParseDecimal(text, /*allow_fraction=*/false);
  if (!d || d->end != text.size()) {
    return absl::InvalidArgumentError(absl::StrCat("--pids '", text, "': not a positive integer"));
  }
  if (d->whole < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--pids '", text, "': must be at least 1"));
  }
  if (d->whole > kMaxPids) {
    return absl::InvalidArgumentError(
        absl::StrCat("--pids '", text, "': at most ", kMaxPids, " (the kernel's PID_MAX_LIMIT)"));
  }
  return d->whole;
}

absl::StatusOr<double> ParseCpus(absl::string_view text, int available_cpus) {
  std::optional<Decimal> d = ParseDecimal(text, /*allow_fraction=*/true);
  if (!d || d->end != text.size() || d->whole > 1'000'000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--cpus '", text, "': not a number of CPUs (use e.g. 0.5, 2)"));
  }
  // Nano-CPUs, as Docker counts them: exact for up to 9 fraction digits.
  const int64_t nano = d->whole * 1'000'000'000 + d->frac * Pow10(9 - d->frac_digits);
  if (nano < static_cast<int64_t>(kMinCpus * 1e9 + 0.5)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--cpus '", text, "': at least ", kMinCpus, " (a 1 ms quota per 100 ms)"));
  }
  if (available_cpus > 0 && nano > int64_t{available_cpus} * 1'000'000'000) {
    return absl::InvalidArgumentError(absl::StrCat("--cpus '", text, "': more than the ",
                                                   available_cpus, " CPUs available"));
  }
  return static_cast<double>(nano) / 1e9;
}

absl::StatusOr<double> ParseCpus(absl::string_view text) {
  cpu_set_t set;
  CPU_ZERO(&set);
  int n = 0;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
  if (n <= 0) n = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  return ParseCpus(text, n);
}

absl::StatusOr<Limits> ParseLimits(const std::optional<std::string>& memory,
                                   const std::optional<std::string>& pids,
                                   const std::optional<std::string>& cpus) {
  Limits l;
  if (memory) {
    ASSIGN_OR_RETURN(l.memory_bytes, ParseMemorySize(*memory));
  }
  if (pids) {
    ASSIGN_OR_RETURN(l.pids, ParsePidsLimit(*pids));
  }
  if (cpus) {
    ASSIGN_OR_RETURN(l.cpus, ParseCpus(*cpus));
  }
  return l;
}

int64_t CpuQuotaUs(double cpus, int64_t period_us) {
  return std::llround(cpus * static_cast<double>(period_us));
}

// ---- layout --------------------------------------------------------------

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

// ---- plan ----------------------------------------------------------------

absl::StatusOr<CgroupPlan> PlanCgroup(absl::string_view name, const Limits& limits,
                                      const CgroupLayout& layout,
                                      absl::string_view own_subtree_control) {
  if (name.empty() || name.size() > 255 || name == "." || name == ".." ||
      name.find_first_of(absl::string_view("/\n\0", 3)) != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("cgroup name '", name, "': not one path component"));
  }
  struct Need {
    const char* controller;
    const char* option;
  };
  std::vector<Need> needed;
  if (limits.memory_bytes) needed.push_back({"memory", "--memory"});
  if (limits.pids) needed.push_back({"pids", "--pids"});
  if (limits.cpus) needed.push_back({"cpu", "--cpus"});

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
    const std::string dir = parent == "/" ? absl::StrCat("/", name) : absl::StrCat(parent, "/", name);
    plan.dirs.push_back(dir);
    if (limits.memory_bytes) {
      plan.writes.push_back({dir + "/memory.max", absl::StrCat(*limits.memory_bytes)});
      // Without swap accounting the file is absent, and there is no swap to
      // escape to through this cgroup either.
      plan.writes.push_back({dir + "/memory.swap.max", "0", /*optional=*/true});
    }
    if (limits.pids) plan.writes.push_back({dir + "/pids.max", absl::StrCat(*limits.pids)});
    if (limits.cpus) {
      plan.writes.push_back(
          {dir + "/cpu.max", absl::StrCat(CpuQuotaUs(*limits.cpus), " ", kCpuPeriodUs)});
    }
    return plan;
  }
  if (layout.kind == CgroupLayout::kV1) {
    if (needed.empty()) {
      for (const char* c : {"pids", "memory", "cpu"}) {
        if (layout.own_dirs.count(c) != 0) {
          needed.push_back({c, "(tracking)"});
          break;
        }
      }
    }
    const auto dir_of = [&](const char* controller) {
      return absl::StrCat(layout.own_dirs.at(controller), "/", name);
    };
    for (const Need& n : needed) {
      if (layout.own_dirs.count(n.controller) == 0) {
        return absl::FailedPreconditionError(absl::StrCat(n.option, " needs the cgroup v1 '",
                                                          n.controller, "' hierarchy, which is not mounted"));
      }
      const std::string dir = dir_of(n.controller);
      if (!Contains(plan.dirs, dir)) plan.dirs.push_back(dir);  // cpu,cpuacct: one
    }
    if (limits.memory_bytes) {
      const std::string dir = dir_of("memory");
      const std::string v = absl::StrCat(*limits.memory_bytes);
      // memsw (memory + swap) must stay >= the memory limit: set it after.
      plan.writes.push_back({dir + "/memory.limit_in_bytes", v});
      plan.writes.push_back({dir + "/memory.memsw.limit_in_bytes", v, /*optional=*/true});
    }
    if (limits.pids) plan.writes.push_back({dir_of("pids") + "/pids.max", absl::StrCat(*limits.pids)});
    if (limits.cpus) {
      const std::string dir = dir_of("cpu");
      plan.writes.push_back({dir + "/cpu.cfs_period_us", absl::StrCat(kCpuPeriodUs)});
      plan.writes.push_back({dir + "/cpu.cfs_quota_us", absl::StrCat(CpuQuotaUs(*limits.cpus))});
    }
    return plan;
  }
  return absl::FailedPreconditionError(
      "no usable cgroup hierarchy: neither a cgroup2 mount nor a v1 memory, pids or cpu hierarchy "
      "holding our cgroup");
}

// ---- removal -------------------------------------------------------------

absl::Status KillAndRemoveCgroups(const std::vector<std::string>& dirs, int timeout_ms) {
  const long long deadline = common::sys::MonotonicMs() + timeout_ms;
  absl::Status result;
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    const std::string& top = *it;
    for (;;) {
      std::vector<std::string> tree;
      CollectTree(top, 0, &tree);
      bool populated = false;
      for (const std::string& d : tree) populated = KillCgroup(d) || populated;
      int err = 0;
      std::string failed;
      if (!populated) {
        for (const std::string& d : tree) {
          if (::rmdir(d.c_str()) != 0 && errno != ENOENT) {
            err = errno;
            failed = d;
            break;
          }
        }
        if (err == 0) break;
        // EBUSY: a process arrived or a child cgroup appeared; retry.
        if (err != EBUSY) {
          result.Update(CgroupErrno(err, absl::StrCat("rmdir(", failed, ")")));
          break;
        }
      }
      if (common::sys::MonotonicMs() >= deadline) {
        result.Update(absl::DeadlineExceededError(absl::StrCat(
            "cgroup ", top, ": still ", populated ? "has processes" : "busy", " after ", timeout_ms,
            " ms of SIGKILL and rmdir")));
        break;
      }
      SleepMs(populated ? 2 : 10);
    }
  }
  return result;
}

// ---- SandboxCgroup -------------------------------------------------------

SandboxCgroup::SandboxCgroup(SandboxCgroup&& other) noexcept
    : kind_(other.kind_),
      dirs_(std::move(other.dirs_)),
      memory_dir_(std::move(other.memory_dir_)),
      v2_fd_(std::move(other.v2_fd_)),
      janitor_fd_(std::move(other.janitor_fd_)),
      janitor_pid_(std::exchange(other.janitor_pid_, -1)) {
  other.dirs_.clear();
}

SandboxCgroup& SandboxCgroup::operator=(SandboxCgroup&& other) noexcept {
  if (this != &other) {
    (void)Remove();
    kind_ = other.kind_;
    dirs_ = std::move(other.dirs_);
    other.dirs_.clear();
    memory_dir_ = std::move(other.memory_dir_);
    v2_fd_ = std::move(other.v2_fd_);
    janitor_fd_ = std::move(other.janitor_fd_);
    janitor_pid_ = std::exchange(other.janitor_pid_, -1);
  }
  return *this;
}

SandboxCgroup::~SandboxCgroup() { (void)Remove(); }

absl::StatusOr<SandboxCgroup> SandboxCgroup::Create(const std::string& name, const Limits& limits,
                                                    const CgroupLayout& layout, bool start_janitor) {
  std::string subtree;
  if (layout.kind == CgroupLayout::kV2 && layout.own_dirs.count("") != 0) {
    absl::StatusOr<std::string> text =
        common::ReadFileToString(layout.own_dirs.at("") + "/cgroup.subtree_control");
    if (text.ok()) subtree = *text;
  }
  ASSIGN_OR_RETURN(CgroupPlan plan, PlanCgroup(name, limits, layout, subtree));
  for (const std::string& dir : plan.dirs) {
    // Checked before the janitor learns the paths: it must never remove a
    // cgroup that is not ours. (The mkdir below still catches a race.)
    if (Exists(dir)) return absl::AlreadyExistsError(absl::StrCat("cgroup ", dir, ": already exists"));
  }

  SandboxCgroup cg;
  cg.kind_ = plan.kind;
  if (start_janitor) {
    cg.dirs_ = plan.dirs;  // what the janitor removes if we die from here on
    absl::StatusOr<pid_t> janitor = cg.ForkJanitor();
    cg.dirs_.clear();
    if (!janitor.ok()) return janitor.status();
  }
  if (!plan.enable.empty()) {
    const std::string path = plan.enable_at + "/cgroup.subtree_control";
    const std::string value = absl::StrJoin(plan.enable, " ");
    if (const int err = WriteFile(path, value); err != 0) {
      if (err == EBUSY) {
        return absl::FailedPreconditionError(absl::StrCat(
            "write(", path, ", '", value, "'): ", strerror(err),
            " (cgroup v2 allows no processes in a non-root cgroup that delegates controllers)"));
      }
      return CgroupErrno(err, absl::StrCat("write(", path, ", '", value, "')"));
    }
  }
  for (const std::string& dir : plan.dirs) {
    if (::mkdir(dir.c_str(), 0755) != 0) {
      const int err = errno;
      if (err == EEXIST) return absl::AlreadyExistsError(absl::StrCat("mkdir(", dir, "): already exists"));
      return CgroupErrno(err, absl::StrCat("mkdir(", dir, ")"));  // cg's destructor removes the rest
    }
    cg.dirs_.push_back(dir);
  }
  for (const CgroupWrite& w : plan.writes) {
    const int err = WriteFile(w.path, w.value);
    if (err == 0 || (err == ENOENT && w.optional)) continue;
    const std::string what = absl::StrCat("write(", w.path, ", '", w.value, "')");
    if (err == EINVAL || err == ERANGE || err == EBUSY) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": the kernel refuses the limit: ", strerror(err)));
    }
    return CgroupErrno(err, what);
  }
  if (plan.kind == CgroupLayout::kV2) {
    const std::string& dir = plan.dirs.front();
    const common::SysResult fd = common::sys::Open(dir.c_str(), O_PATH | O_DIRECTORY);
    if (!fd.ok()) return ErrnoStatus(fd.err, absl::StrCat("open(", dir, ", O_PATH)"));
    cg.v2_fd_.Reset(static_cast<int>(fd.value));
    cg.memory_dir_ = dir;
  } else if (layout.own_dirs.count("memory") != 0) {
    const std::string dir = absl::StrCat(layout.own_dirs.at("memory"), "/", name);
    if (Contains(cg.dirs_, dir)) cg.memory_dir_ = dir;
  }
  return cg;
}

absl::Status SandboxCgroup::AddProcess(pid_t pid) {
  if (dirs_.empty()) return absl::FailedPreconditionError("cgroup already removed");
  for (const std::string& dir : dirs_) {
    const std::string path = dir + "/cgroup.procs";
    if (const int err = WriteFile(path, absl::StrCat(pid)); err != 0) {
      if (err == ESRCH) return absl::NotFoundError(absl::StrCat("write(", path, ", ", pid, "): no such process"));
      return CgroupErrno(err, absl::StrCat("write(", path, ", ", pid, ")"));
    }
  }
  return absl::OkStatus();
}

bool SandboxCgroup::OomKilled() const {
  if (memory_dir_.empty()) return false;
  if (kind_ == CgroupLayout::kV2) {
    absl::StatusOr<std::string> text = common::ReadFileToString(memory_dir_ + "/memory.events");
    if (!text.ok()) return false;
    return KeyedValue(*text, "oom_kill").value_or(0) > 0;
  }
  absl::StatusOr<std::string> text = common::ReadFileToString(memory_dir_ + "/memory.oom_control");
  if (!text.ok()) return false;
  if (std::optional<int64_t> n = KeyedValue(*text, "oom_kill")) return *n > 0;
  return KeyedValue(*text, "under_oom").value_or(0) > 0;  // before 4.13
}

std::optional<int64_t> SandboxCgroup::OomKills() const {
  if (memory_dir_.empty()) return std::nullopt;
  const bool v2 = kind_ == CgroupLayout::kV2;
  absl::StatusOr<std::string> text =
      common::ReadFileToString(memory_dir_ + (v2 ? "/memory.events" : "/memory.oom_control"));
  if (!text.ok()) return std::nullopt;
  return KeyedValue(*text, "oom_kill");
}

absl::Status SandboxCgroup::Remove() {
  if (!dirs_.empty()) {
    v2_fd_.Reset();
    RETURN_IF_ERROR(KillAndRemoveCgroups(dirs_));  // the janitor stays armed
    dirs_.clear();
  }
  DismissJanitor();
  return absl::OkStatus();
}

absl::StatusOr<pid_t> SandboxCgroup::StartJanitor() {
  if (janitor_pid_ > 0) return janitor_pid_;
  return ForkJanitor();
}

absl::StatusOr<pid_t> SandboxCgroup::ForkJanitor() {
  int fds[2];
  if (const common::SysResult r = common::sys::Pipe(fds); !r.ok()) {
    return ErrnoStatus(r.err, "pipe2(janitor)");
  }
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  // Our own pidfd: the janitor learns of our exit from it even when a child
  // we forked without exec (still in setup) holds a copy of the write end.
  // Before 5.3 (ENOSYS) the pipe's EOF alone has to do.
  const long self_pidfd = PidfdOpen(::getpid());
  UniqueFd launcher(self_pidfd >= 0 ? static_cast<int>(self_pidfd) : -1);
  // The child only touches its copy of dirs_ (glibc keeps malloc usable
  // after fork), never a lock another thread could hold.
  const pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus(errno, "fork(janitor)");
  if (pid == 0) {
    ::setsid();  // out of the caller's process group and terminal
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::sigaction(sig, &ign, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::prctl(PR_SET_NAME, reinterpret_cast<unsigned long>("minipod-janitor"), 0UL, 0UL, 0UL);
    // Keep only the read end (fd 3) and our pidfd (fd 4), stdio on
    // /dev/null; no cwd on a mount that must go. Move them out of the way
    // first, since either may sit on 3 or 4 already.
    const int r_tmp = ::fcntl(read_end.get(), F_DUPFD, 100);
    const int l_tmp = launcher ? ::fcntl(launcher.get(), F_DUPFD, 100) : -1;
    if (r_tmp < 0 || ::dup2(r_tmp, 3) < 0) ::_exit(2);
    const bool have_pidfd = l_tmp >= 0 && ::dup2(l_tmp, 4) == 4;
    if (::syscall(SYS_close_range, have_pidfd ? 5U : 4U, ~0U, 0U) != 0) {
      for (int fd = have_pidfd ? 5 : 4; fd < 65536; ++fd) ::close(fd);
    }
    const int null_fd = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; ++fd) {
      if (null_fd >= 0 && null_fd != fd) ::dup2(null_fd, fd);
    }
    if (null_fd > 4) ::close(null_fd);
    (void)!::chdir("/");
    ::fcntl(3, F_SETFL, O_NONBLOCK);
    for (;;) {
      struct pollfd p[2] = {{3, POLLIN, 0}, {4, POLLIN, 0}};
      if (::poll(p, have_pidfd ? 2 : 1, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      // The "done" byte wins, even when we also see the launcher exit.
      char c = 0;
      const ssize_t n = ::read(3, &c, 1);
      if (n == 1) ::_exit(0);  // dismissed: the launcher removed everything
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;  // closed without "done"
      if (have_pidfd && p[1].revents != 0) break;  // the launcher exited
    }
    ::_exit(KillAndRemoveCgroups(dirs_).ok() ? 0 : 1);
  }
  janitor_fd_ = std::move(write_end);
  janitor_pid_ = pid;
  return pid;
}

void SandboxCgroup::DismissJanitor() {
  if (janitor_fd_) {
    const char done = 'D';
    (void)!::write(janitor_fd_.get(), &done, 1);
    janitor_fd_.Reset();
  }
  if (janitor_pid_ > 0) {
    // It exits at once on the byte; bounded in case it is stopped.
    for (int i = 0; i < 200; ++i) {
      const common::SysResult r = common::sys::WaitPid(janitor_pid_, nullptr, WNOHANG);
      if (!r.ok() || r.value == janitor_pid_) break;  // ECHILD: reaped elsewhere
      SleepMs(10);
    }
    janitor_pid_ = -1;
  }
}

}  // namespace sandbox
