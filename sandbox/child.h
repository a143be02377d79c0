// The sandbox's child: the plan the launcher builds for it (BuildChildPlan,
// pure, unit-tested) and the fixed sequence it runs after the clone
// (ChildMain, no allocation): join or unshare namespaces, mounts, pivot_root,
// host name, loopback, then ExecInChild, the credential / seccomp / exec half
// that `exec` into a running container reuses. A failing step is reported as
// {step, errno} on a CLOEXEC pipe.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/unique_fd.h"
#include "sandbox/caps.h"
#include "sandbox/namespaces.h"
#include "sandbox/ns_mount.h"
#include "sandbox/ns_net.h"
#include "sandbox/run_config.h"
#include "sandbox/seccomp.h"

namespace sandbox {

// The child's steps, in order; a failure reports one of them.
enum class Step : int {
  kSync, kJoinNs, kCgroupNs, kSetsid, kMounts, kPivot, kHostname, kLoopback, kBounding, kSetgroups,
  kSetgid, kSetuid, kParentDeath, kCaps, kWorkdir, kTerminal, kStdio, kNoNewPrivs, kCloseFds, kSeccomp, kExec,
};
const char* StepName(Step step);

// ChildError::index of a kExec failure found by the command_paths check.
inline constexpr size_t kCommandProbe = 1;

struct ChildError {
  int step;
  int err;
  size_t index;  // the mount step for kMounts, the NsType for kJoinNs
};

// The credential / seccomp / exec half, as plain data: every pointer is
// into storage the parent keeps alive.
struct ExecPlan {
  int error_fd = -1;  // write: ChildError; CLOEXEC, so a successful exec closes it
  CapMask caps = 0;
  int last_cap = 0;
  bool clear_groups = true;  // setgroups(0, NULL); not in a user namespace of ours (denied there)
  uid_t uid = 0;
  gid_t gid = 0;
  // Changing the ids clears PR_SET_PDEATHSIG: armed again after them, then
  // the launcher is checked to be still there (its pidfd not readable, and
  // getppid() still expected_ppid: 0 from a new pid namespace).
  int launcher_pidfd = -1;
  pid_t expected_ppid = 0;
  const char* workdir = "/";
  const SeccompProgram* seccomp = nullptr;  // nullptr: none
  const char* const* exec_paths = nullptr;  // tried in order (the PATH search), nullptr-terminated
  // Under minipod-init, the command's own candidates (its PATH search):
  // checked before the init is executed, so a command that is not there
  // (or cannot run) is the launcher's 127 (126) before anything started,
  // also for a detached container. nullptr: no check.
  const char* const* command_paths = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  int keep_fd = -1;  // left open across the exec (minipod-init's --status-fd)

  // The command's stdio. Each stdio[i] >= 0 becomes descriptor i (pipes to
  // a monitor's log, /dev/null); -1 leaves i as inherited.
  int stdio[3] = {-1, -1, -1};
  // >= 0: a new pseudo-terminal from the devpts at /dev/pts in our root
  // (the container's own instance; its ptmx checked to be devpts's), opened
  // after the ids change so the slave is the command's user's; the slave
  // becomes 0, 1 and 2 (over stdio), sized rows x cols when both are set,
  // and the master goes to this unix socket (SCM_RIGHTS).
  int terminal_socket = -1;
  unsigned short terminal_rows = 0, terminal_cols = 0;
  // Take descriptor 0 as the controlling terminal: setsid() unless already
  // a session leader, then TIOCSCTTY; the caller's group becomes the
  // terminal's foreground group. Not under minipod-init --setsid, which
  // gives the terminal to the command's own session (a terminal controls
  // one session only).
  bool controlling_tty = false;
};

// Runs the half above; never returns (execve, or ChildFail).
[[noreturn]] void ExecInChild(const ExecPlan& plan);

[[noreturn]] void ChildFail(int error_fd, Step step, int err, size_t index = 0);

// The whole child.
struct ChildPlan {
  int sync_fd = -1;        // read: one byte "go", EOF: the launcher died
  int sync_write_fd = -1;  // the parent's end, closed in the child
  int error_read_fd = -1;  // the parent's end, closed in the child
  Namespaces ns;
  absl::Span<const MountStep> mounts;
  const char* hostname = nullptr;
  const NetlinkRequest* loopback = nullptr;  // nullptr: the host's network
  // Cloned by root into a user namespace of its own (--userns auto|keep-id),
  // or joining one: the child still has the host's uid 0, which that
  // namespace does not map (files it creates would be EOVERFLOW); it
  // becomes the namespace's 0 right after the joins.
  bool become_ns_root = false;
  // Wait for "go" only after the mounts, right before the cgroup namespace
  // and the exec, instead of first thing: the file system is built while
  // the launcher moves the child into its cgroup and waits for the janitor
  // (as `runc create` builds everything and holds the exec back). Not with
  // a user namespace: its id maps are written after the clone and the
  // joins and mounts need them.
  bool go_before_exec = false;
  // Our root is the initramfs's rootfs (RootIsRootfs): PivotRootInChild's
  // detour.
  bool pivot_from_rootfs = false;
  ExecPlan exec;
};

[[noreturn]] void ChildMain(const ChildPlan& plan);

// What the launcher knows besides the configuration.
struct PlanInputs {
  bool rootless = false;
  const char* term = nullptr;  // the caller's TERM
  pid_t launcher_pid = 0;
  int init_status_fd = -1;  // >= 0: minipod-init reports to this fd (--status-fd)
  const Namespaces* ns = nullptr;  // the table (PlanNamespaces); nullptr: SandboxNamespaces's
};

// Namespaces, argv, environment, PATH search and ids of the child, with
// the storage its ExecPlan points into. Pure. Move it, never copy it: the
// pointer arrays point into its strings.
struct CommandPlan {
  CommandPlan() = default;
  CommandPlan(CommandPlan&&) = default;
  CommandPlan& operator=(CommandPlan&&) = default;
  CommandPlan(const CommandPlan&) = delete;
  CommandPlan& operator=(const CommandPlan&) = delete;

  Namespaces ns;
  uid_t uid = 0;
  gid_t gid = 0;
  bool clear_groups = true;
  pid_t expected_ppid = 0;
  int keep_fd = -1;
  std::vector<std::string> args, env, exec_paths;
  std::vector<char*> argv, envp;
  std::vector<const char*> paths;
  // minipod-init's command, searched as the init will (empty without init).
  std::vector<std::string> command_candidates;
  std::vector<const char*> command_paths;
};
CommandPlan BuildChildPlan(const RunConfig& config, const PlanInputs& inputs);

// Parent: the pty master a child sent (OpenTerminalInChild) before its
// exec, queued on sock by the time the exec is known to have worked.
absl::StatusOr<common::UniqueFd> ReceivePtyMaster(int sock);

// Where execve looks for cmd, as execvp would: cmd itself when it holds a
// '/', else each directory of PATH= in env (the last one given), in order.
std::vector<std::string> SearchPath(const std::string& cmd, const std::vector<std::string>& env);

}  // namespace sandbox
