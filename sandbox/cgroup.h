// The sandbox cgroup: creating it from a plan (mkdir, the limit and device
// writes, the v2 device program), moving processes in, reading its OOM
// kills, and removing it (killing what is left, rmdir deepest first), with
// the janitor armed from before the first mkdir. Parent side only: mkdir,
// rmdir, open/write/read of cgroupfs files, kill, pidfd_open,
// pidfd_send_signal, and the bpf(2) and fork/exec of the files it uses.
// The pieces: cgroup_limits.h (options), cgroup_layout.h (the host),
// cgroup_plan.h (what to do), cgroup_devices.h (the device policy),
// cgroup_janitor.h (removal after the launcher's death).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"
#include "sandbox/cgroup_janitor.h"
#include "sandbox/cgroup_layout.h"
#include "sandbox/cgroup_limits.h"
#include "sandbox/cgroup_plan.h"

namespace sandbox {

// Kills every process in dirs and their sub-cgroups (v2 cgroup.kill where
// present, else SIGKILL through a pidfd to each pid of cgroup.procs, which
// cannot hit a recycled pid, repeated until empty), then rmdirs them deepest
// first, in reverse order of dirs, within timeout_ms. A missing directory is
// fine. Used by Remove() and the janitor.
absl::Status KillAndRemoveCgroups(const std::vector<std::string>& dirs, int timeout_ms = 5000);

// The oom_kill count of a v2 memory.events or a v1 memory.oom_control text
// (kernel 4.13+ on v1); nullopt when the text has none.
std::optional<int64_t> ParseOomKills(absl::string_view text);

class SandboxCgroup {
 public:
  // Plans (PlanCgroup) and creates "<name>" (one path component, unique per
  // sandbox) with its limits and, with request.devices, the device policy
  // (before any process can join). With janitor_exe (normally
  // kJanitorSelfExe: minipod), the janitor is forked before the first
  // mkdir, so a SIGKILL of the launcher at any later point leaves nothing
  // behind (WaitJanitorStarted checks that its exec worked). mkdir or write failing with EACCES, EPERM or EROFS returns
  // PermissionDenied (rootless: the caller goes on without limits and says
  // so); a controller that is missing returns FailedPrecondition; a value
  // the kernel refuses, InvalidArgument. On failure whatever was created is
  // removed.
  static absl::StatusOr<SandboxCgroup> Create(const std::string& name, const CgroupRequest& request,
                                              const CgroupLayout& layout,
                                              const char* janitor_exe = nullptr);

  SandboxCgroup(SandboxCgroup&& other) noexcept;
  SandboxCgroup& operator=(SandboxCgroup&& other) noexcept;
  SandboxCgroup(const SandboxCgroup&) = delete;
  SandboxCgroup& operator=(const SandboxCgroup&) = delete;
  ~SandboxCgroup();  // Remove(), errors ignored

  // Waits (bounded) until the janitor started by Create has exec'd: its
  // exec runs alongside whatever the caller does after Create, and a
  // janitor that failed to start is an error (a SIGKILL would leave the
  // cgroup). Call it before the cgroup is relied on, i.e. before anything
  // of the sandboxed command runs. OK without a janitor.
  absl::Status WaitJanitorStarted();
  // Moves pid into each directory (cgroup.procs). A pid that is gone:
  // NotFound.
  absl::Status AddProcess(pid_t pid);
  std::vector<std::string> Paths() const { return dirs_; }  // for --status-fd
  // O_PATH|O_DIRECTORY fd of the v2 directory, for clone3's
  // CLONE_INTO_CGROUP (the child starts inside, so no window outside the
  // limits); -1 in v1.
  int v2_dir_fd() const { return v2_fd_.get(); }
  CgroupLayout::Kind kind() const { return kind_; }
  // How many processes the kernel's OOM killer killed inside (call before
  // Remove): v2 memory.events oom_kill, v1 memory.oom_control oom_kill.
  // nullopt when the kernel does not count them (v1 before 4.13) or the
  // memory controller is not on for this cgroup.
  std::optional<int64_t> OomKillCount() const;
  // An OOM kill happened inside: OomKillCount() > 0; on v1 before 4.13 its
  // under_oom instead. False where the memory controller is not on for it.
  bool OomKilled() const;
  // KillAndRemoveCgroups on our directories; idempotent. On success, tells
  // the janitor there is nothing left to do and reaps it (bounded).
  absl::Status Remove();

  pid_t janitor_pid() const { return janitor_.pid(); }
  // For a monitor that execs minipod-monitor: the janitor's socket (which
  // must survive the exec, or the janitor fires) and the file OomKilled
  // reads ("" when none).
  int janitor_fd() const { return janitor_.write_fd(); }
  std::string OomFile() const;

 private:
  SandboxCgroup() = default;
  // Reads the memory controller's OOM file ("" when there is none).
  std::string OomText() const;

  CgroupLayout::Kind kind_ = CgroupLayout::kNone;
  std::vector<std::string> dirs_;
  std::string memory_dir_;  // where OomKilled looks ("" without --memory)
  common::UniqueFd v2_fd_;
  Janitor janitor_;
};

}  // namespace sandbox
