// Cgroup limits for `minipod run`: --memory, --pids, --cpus parsing, the
// host's cgroup layout (v2, or v1 hierarchies on a hybrid host), one
// sandbox cgroup with its limits, and its removal, also after a SIGKILL of
// the launcher (a janitor process). Runs in the parent (the launcher) only:
// mkdir, rmdir, open/write of cgroupfs files, kill, pidfd_open, fork.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace sandbox {

struct Limits {
  std::optional<int64_t> memory_bytes;  // memory.max / memory.limit_in_bytes (+ no swap)
  std::optional<int64_t> pids;          // pids.max
  std::optional<double> cpus;           // cpu.max / cfs quota, as a fraction of CPUs
  bool any() const { return memory_bytes.has_value() || pids.has_value() || cpus.has_value(); }
};

// Docker's smallest --memory (since 20.10): below it even a shell is
// OOM-killed while starting, which reads as a confusing failure.
inline constexpr int64_t kMinMemoryBytes = int64_t{6} << 20;
// PID_MAX_LIMIT: the kernel refuses a larger pids.max (EINVAL).
inline constexpr int64_t kMaxPids = int64_t{4} << 20;
// The CFS period we write; the quota is cpus * period, at least 1 ms (the
// kernel's minimum quota), so --cpus is at least 0.01.
inline constexpr int64_t kCpuPeriodUs = 100000;
inline constexpr double kMinCpus = 0.01;

// --memory: a number of bytes with an optional binary suffix b, k, m, g or t
// (any case, optionally followed by "b" or "ib": 512m, 512MB, 512MiB), a
// decimal fraction with a suffix ("1.5g", rounded down to a byte), as
// Docker's RAMInBytes accepts. At least kMinMemoryBytes. Errors:
// "--memory '12x': not a size (use e.g. 512m, 2g)".
absl::StatusOr<int64_t> ParseMemorySize(absl::string_view text);
// --pids: a decimal integer in [1, kMaxPids].
absl::StatusOr<int64_t> ParsePidsLimit(absl::string_view text);
// --cpus: a decimal number ("0.5", "2", at most 9 fraction digits) in
// [kMinCpus, available_cpus]; available_cpus <= 0 skips the upper check.
// The one-argument form takes the CPUs this process may run on
// (sched_getaffinity), as Docker errors above runtime.NumCPU().
absl::StatusOr<double> ParseCpus(absl::string_view text, int available_cpus);
absl::StatusOr<double> ParseCpus(absl::string_view text);
// All three from run's raw option values (absent: no limit).
absl::StatusOr<Limits> ParseLimits(const std::optional<std::string>& memory,
                                   const std::optional<std::string>& pids,
                                   const std::optional<std::string>& cpus);
// cpus * period in microseconds, rounded to the nearest one.
int64_t CpuQuotaUs(double cpus, int64_t period_us = kCpuPeriodUs);

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

// Pure: the layout from the texts of /proc/self/mountinfo, /proc/self/cgroup
// and our v2 cgroup's cgroup.controllers ("" when unknown). kV2 when the
// cgroup2 mount is reachable and offers memory, pids or cpu; otherwise kV1
// when a v1 hierarchy of memory, pids or cpu is reachable; otherwise kV2 for
// a reachable cgroup2 mount without those controllers (a cgroup without
// limits still collects and kills the sandbox's processes); otherwise kNone.
// A mount hidden by a later mount on the same or a parent directory is
// ignored; mount points are unescaped (\040 etc.).
CgroupLayout DetectCgroupLayout(absl::string_view mountinfo, absl::string_view self_cgroup,
                                absl::string_view v2_controllers_text);
// The same from /proc/self/{mountinfo,cgroup} and the v2 cgroup.controllers.
absl::StatusOr<CgroupLayout> ReadCgroupLayout();

// What Create does, as data (pure, unit-tested for v2 where this host has no
// v2 controllers).
struct CgroupWrite {
  std::string path;
  std::string value;
  bool optional = false;  // skipped when the file does not exist (swap accounting off)
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
  // hierarchy (memory, pids, cpu or cpu,cpuacct).
  std::vector<std::string> dirs;
  std::vector<CgroupWrite> writes;  // in order
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
// Needed controllers: memory for --memory, pids for --pids, cpu for --cpus.
// v1: <mount>/<own path>/<name> in each needed hierarchy; with no limits at
// all, the pids hierarchy (else memory) so the processes are still tracked.
// own_subtree_control is our v2 cgroup's cgroup.subtree_control text.
absl::StatusOr<CgroupPlan> PlanCgroup(absl::string_view name, const Limits& limits,
                                      const CgroupLayout& layout,
                                      absl::string_view own_subtree_control);

// Kills every process in dirs and their sub-cgroups (v2 cgroup.kill where
// present, else SIGKILL through a pidfd to each pid of cgroup.procs, which
// cannot hit a recycled pid, repeated until empty), then rmdirs them deepest
// first, in reverse order of dirs, within timeout_ms. A missing directory is
// fine. Used by Remove() and the janitor.
absl::Status KillAndRemoveCgroups(const std::vector<std::string>& dirs, int timeout_ms = 5000);

class SandboxCgroup {
 public:
  // Plans (PlanCgroup) and creates "<name>" (one path component, unique per
  // sandbox) with its limits. With start_janitor, the janitor
  // (StartJanitor) is forked before the first mkdir, so a SIGKILL of the
  // launcher at any later point leaves nothing behind. mkdir or write
  // failing with EACCES, EPERM or EROFS returns PermissionDenied (rootless:
  // the caller goes on without limits and says so); a controller that is
  // missing returns FailedPrecondition; a value the kernel refuses,
  // InvalidArgument. On failure whatever was created is removed.
  static absl::StatusOr<SandboxCgroup> Create(const std::string& name, const Limits& limits,
                                              const CgroupLayout& layout,
                                              bool start_janitor = false);

  SandboxCgroup(SandboxCgroup&& other) noexcept;
  SandboxCgroup& operator=(SandboxCgroup&& other) noexcept;
  SandboxCgroup(const SandboxCgroup&) = delete;
  SandboxCgroup& operator=(const SandboxCgroup&) = delete;
  ~SandboxCgroup();  // Remove(), errors ignored

  // Moves pid into each directory (cgroup.procs). A pid that is gone:
  // NotFound.
  absl::Status AddProcess(pid_t pid);
  std::vector<std::string> Paths() const { return dirs_; }  // for --status-fd
  // O_PATH|O_DIRECTORY fd of the v2 directory, for clone3's
  // CLONE_INTO_CGROUP (the child starts inside, so no window outside the
  // limits); -1 in v1.
  int v2_dir_fd() const { return v2_fd_.get(); }
  CgroupLayout::Kind kind() const { return kind_; }
  // An OOM kill happened inside (call before Remove): v2 memory.events
  // oom_kill > 0; v1 memory.oom_control oom_kill > 0 (kernel >= 4.13), else
  // its under_oom. False where the memory controller is not on for it.
  bool OomKilled() const;
  // How many processes the OOM killer killed in the cgroup (v2
  // memory.events, v1 memory.oom_control oom_kill); nullopt where the
  // kernel does not count them.
  std::optional<int64_t> OomKills() const;
  // KillAndRemoveCgroups on our directories; idempotent. On success, tells
  // the janitor there is nothing left to do and reaps it (bounded).
  absl::Status Remove();

  // Forks the janitor: a new session, SIGINT/SIGTERM/SIGHUP/SIGPIPE
  // ignored, every fd closed but a pipe's read end and a pidfd of the
  // launcher (stdio on /dev/null). It polls both: a byte from Remove()
  // means "all done"; the pipe's EOF without one, or the launcher's exit
  // (SIGKILL included; the pidfd covers a forked child that still holds a
  // copy of the write end before its exec) makes it run
  // KillAndRemoveCgroups on our directories and exit (0: all removed). We
  // keep the write end O_CLOEXEC, so the sandboxed command never holds it.
  // The janitor lives in the launcher's cgroups, never the sandbox's (call
  // this before adding the launcher itself anywhere), and holds no cgroup
  // directory open. Returns its pid; a second call returns the same pid.
  absl::StatusOr<pid_t> StartJanitor();
  pid_t janitor_pid() const { return janitor_pid_; }

 private:
  SandboxCgroup() = default;
  // The janitor, on the directories we will create; forked by StartJanitor.
  absl::StatusOr<pid_t> ForkJanitor();
  void DismissJanitor();  // writes "done", closes, reaps (bounded)

  CgroupLayout::Kind kind_ = CgroupLayout::kNone;
  std::vector<std::string> dirs_;
  std::string memory_dir_;  // where OomKilled looks ("" without --memory)
  common::UniqueFd v2_fd_;
  common::UniqueFd janitor_fd_;  // write end
  pid_t janitor_pid_ = -1;
};

}  // namespace sandbox
