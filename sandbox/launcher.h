// `minipod run`: the whole ordered sequence from a checked RunConfig to the
// command's exit status, as named phases (launcher.cc: create, start, wait,
// delete). Read this first: the parent opens and plans everything (root,
// binds, init, mounts, capabilities, seccomp, cgroup, netlink request, and
// the child plan: namespaces, argv, environment), clones the child, maps ids
// and joins the cgroup, then lets the child run its plan (child.cc); the
// child only executes and reports {step, errno} on a CLOEXEC pipe if a step
// fails. While the command runs, one poll loop reads the forwarded signals
// from a signalfd and the child's exit from its pidfd.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/ioctl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"
#include "sandbox/caps.h"
#include "sandbox/cgroup.h"
#include "sandbox/child.h"
#include "sandbox/init_status.h"
#include "sandbox/ns_mount.h"
#include "sandbox/ns_net.h"
#include "sandbox/namespaces.h"
#include "sandbox/run_config.h"
#include "sandbox/seccomp.h"
#include "sandbox/userns.h"

namespace sandbox {

// Exit statuses of the container convention.
inline constexpr int kExitLauncherFailed = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

// `run -t` in the foreground: the child opens a pseudo-terminal in the
// container's own devpts (so `tty` inside names /dev/pts/N there), makes
// its slave the command's stdio and sends the master back; the launcher
// hands the master to this session, which relays it to our terminal
// (runtime::ForegroundTerminal; an interface, so the sandbox library stays
// below runtime/). The launcher polls PollFd() next to its signalfd and the
// child's pidfd.
class TerminalSession {
 public:
  virtual ~TerminalSession() = default;
  // The size the pty starts with, set by the child before the command runs
  // (0 x 0: none known).
  virtual struct winsize InitialSize() = 0;
  // The command runs; master is the pty's master side.
  virtual absl::Status Begin(common::UniqueFd master) = 0;
  // Readable when Pump() has work; -1 before Begin().
  virtual int PollFd() const = 0;
  virtual absl::Status Pump() = 0;
  // SIGWINCH reached the launcher: our size to the pty (the kernel then
  // signals the container's foreground group itself).
  virtual void WindowChanged() = 0;
  // The command has ended: its output relayed until the pty reports EIO or
  // none came for idle_timeout_ms, and our terminal put back.
  virtual absl::Status Finish(int idle_timeout_ms) = 0;
};

// How a launch differs from `minipod run` in the foreground.
struct LaunchOptions {
  // The command's stdin, stdout and stderr (-1: the launcher's own). A
  // detached container's go to its monitor (log pipes, /dev/null, a pty).
  int stdio[3] = {-1, -1, -1};
  // Forward our signals and act on job control (Wait). A monitor runs its
  // own loop over pidfd() instead and reaps with Reap().
  bool foreground = true;
  // A cgroup even without limits (as root): a detached container's, which
  // exec joins and whose end kills everything left in it.
  bool always_cgroup = false;
  // The cgroup's directory name ("": minipod-PID-N).
  std::string cgroup_name;
  // The descriptors of the namespaces to join (container:NAME resolved by
  // the caller; borrowed until Start).
  JoinedNamespaces joined;
  // -t in the foreground (nullptr: none).
  TerminalSession* tty = nullptr;
};

// How the command ended.
struct ExitInfo {
  int code = 0;    // the command's status, 128+N for signal N
  int signal = 0;
  bool oom = false;
  int64_t oom_kills = 0;
  std::string oom_line;  // DescribeOom's, "" without an OOM kill
};

// One sandbox, phase by phase. RunSandbox is Create, Start, Wait, Delete;
// a monitor calls Create and Start, watches pidfd(), then Reap and Delete.
class Sandbox {
 public:
  Sandbox(const RunConfig& config, const std::string& rootfs, LaunchOptions options = {})
      : config_(config), rootfs_(rootfs), options_(std::move(options)) {}
  ~Sandbox() { Delete(); }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Plans, makes the cgroup (the janitor's exec goes on alongside) and
  // clones the child, which joins the namespaces and builds its file
  // system at once and waits for Start only before its credentials and
  // exec (with a user namespace it waits for Start first: the joins and
  // mounts need the id maps written after the clone).
  absl::Status Create();
  // Checks that the cgroup janitor started and lets the child exec.
  // nullopt: the command runs; otherwise the exit status for a command
  // that could not be executed (126/127).
  absl::StatusOr<std::optional<int>> Start();
  // Until the child exits: forwards signals, acts on job control.
  absl::StatusOr<int> Wait();
  // Once pidfd() is readable: collects the child and says how it ended.
  absl::StatusOr<ExitInfo> Reap();
  // Removes the cgroup, puts the signal mask back; idempotent.
  void Delete();

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  CapMask caps() const { return plan_.exec.caps; }
  const SeccompProgram& seccomp() const { return seccomp_; }
  std::vector<std::string> cgroup_paths() const {
    return cgroup_.has_value() ? cgroup_->Paths() : std::vector<std::string>{};
  }
  // The environment, ids and working directory the command got.
  const CommandPlan& command() const { return command_; }

  // What a monitor that execs minipod-monitor hands over to it (the
  // descriptors stay ours; the exec keeps them when marked so).
  struct Remains {
    int init_status_fd = -1;  // minipod-init's status line
    int janitor_fd = -1;
    pid_t janitor_pid = -1;
    std::string oom_file;     // "" without a memory controller
    bool oom_v1 = false;
    std::string memory;       // --memory as given, "" without
    bool init = false;
  };
  Remains remains() const;

 private:
  absl::Status Abandon(const absl::Status& s);
  void Report(const nlohmann::ordered_json& event);
  void OnSignal(int sig);
  void StopCommand();
  bool CommandStopped(bool with_pid1) const;
  int ReadInitStatus(int code, int* sig);
  ExitInfo Finish(int wait_status);
  absl::Status ReceiveTerminal();

  const RunConfig& config_;
  const std::string& rootfs_;
  LaunchOptions options_;
  common::UniqueFd terminal_read_, terminal_write_;  // -t: the child sends the pty master
  int64_t start_ms_ = 0;
  bool rootless_ = false;
  CommandPlan command_;
  ChildPlan plan_;
  SeccompProgram seccomp_;
  std::vector<MountStep> mounts_;
  NetlinkRequest lo_;
  MountInputs inputs_;  // owns the host descriptors the child reopens
  NamespaceJoins joins_;  // owns the ns:PATH files
  Namespaces ns_;
  std::optional<SandboxCgroup> cgroup_;
  UsernsSetup userns_;  // --userns: the maps, the id-mapping namespace, the block held
  common::UniqueFd sync_write_, error_read_, launcher_pidfd_;
  common::UniqueFd init_status_read_, init_status_write_;
  common::UniqueFd sigfd_, pidfd_;
  sigset_t old_mask_{};
  bool mask_changed_ = false;
  pid_t pid_ = -1;
  std::optional<std::pair<dev_t, ino_t>> pid_ns_;
  bool status_fd_broken_ = false;
};

// Runs the command; returns its exit status (128+N for signal N). An error
// Status is a failure of the launcher itself (exit 125), with one line
// naming the input and the reason.
// `joined`: the descriptors of container:NAME choices, resolved by the
// caller (ns:PATH files are opened here when absent). With tty, the
// command gets a new pseudo-terminal (see TerminalSession) and the launcher
// never stops itself on SIGTSTP: the container's terminal is its own.
absl::StatusOr<int> RunSandbox(const RunConfig& config, const std::string& rootfs,
                               const JoinedNamespaces& joined = JoinedNamespaces(), TerminalSession* tty = nullptr);

// The OOM line, worded by what happened: the command itself killed, or
// some of its processes.
struct OomFacts {
  std::string memory;          // --memory as given; empty: no OOM kill seen
  int64_t kills = 0;           // oom_kill events in the cgroup (0: not counted)
  bool command_killed = false; // the command itself died of SIGKILL
};
std::string DescribeOom(const OomFacts& facts);

}  // namespace sandbox
