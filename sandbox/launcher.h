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

#include <sys/ioctl.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"
#include "sandbox/init_status.h"
#include "sandbox/run_config.h"

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

// Runs the command; returns its exit status (128+N for signal N). An error
// Status is a failure of the launcher itself (exit 125), with one line
// naming the input and the reason. With tty, the command gets a new
// pseudo-terminal (see TerminalSession) and the launcher never stops
// itself on SIGTSTP: the container's terminal is its own.
absl::StatusOr<int> RunSandbox(const RunConfig& config, const std::string& rootfs,
                               TerminalSession* tty = nullptr);

// The OOM line, worded by what happened: the command itself killed, or
// some of its processes.
struct OomFacts {
  std::string memory;          // --memory as given; empty: no OOM kill seen
  int64_t kills = 0;           // oom_kill events in the cgroup (0: not counted)
  bool command_killed = false; // the command itself died of SIGKILL
};
std::string DescribeOom(const OomFacts& facts);

}  // namespace sandbox
