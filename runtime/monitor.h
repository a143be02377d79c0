// The start of a detached container, as podman's conmon is its parent.
// `minipod run -d` reserves the name, forks the monitor and waits on a pipe
// until the container runs (or failed: 125/126/127 and the reason). The
// monitor detaches (new session), binds the -p host ports, starts the
// container, records it, and execs the small static minipod-monitor
// (monitor/), handing it the descriptors (monitor/handover.h). That one
// runs the event loop: the container's pidfd, its stdout/stderr pipes (with
// -t its pty's master) into the CRI log, the control socket (wait, attach),
// the published ports, and a signalfd (SIGTERM/SIGINT passed on to the
// container). When the container ends it records how, removes the cgroup,
// answers the waiters and exits; with --rm it removes the state directory
// too. If the monitor itself is killed, the container dies with it
// (PDEATHSIG), the cgroup janitor removes the cgroup, and `ps` reports the
// container as lost. Whatever keeps the hand-over from happening fails the
// run (125, the reason), the container killed and its state removed.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "runtime/state.h"
#include "sandbox/namespaces.h"
#include "sandbox/run_config.h"

namespace runtime {

struct DetachRequest {
  Kind kind = Kind::kContainer;  // kPod: a pod's holder
  std::string name;              // "": a random one
  std::string pod;               // the pod a container joins ("" for none)
  sandbox::RunConfig config;
  std::string rootfs;            // the resolved root (--rootfs, or --bundle's tree)
  std::vector<std::string> publish;  // -p specs
  std::vector<std::string> share;    // a pod's shared namespace types
  bool auto_remove = false;      // --rm
  bool interactive = false;      // -i: stdin kept open
  bool tty = false;              // -t
  std::vector<std::string> args; // the command line, for inspect
  sandbox::JoinedNamespaces joined;  // container:NAME and --pod, resolved (inherited by the monitor)
};

struct DetachResult {
  std::string name;
  int status = 0;  // 0: it runs; else 125/126/127
  std::string error;  // the reason, when status != 0
};

// Starts the container under a new monitor and returns when it runs or
// failed. An error Status: nothing was started (the name is free again);
// InvalidArgument for more -p values than minipod-monitor relays
// (monitor::kMaxRelays).
absl::StatusOr<DetachResult> RunDetached(const DetachRequest& request);

// The control socket: asks the monitor of a running container to report
// its exit status when it ends, and waits (timeout_ms < 0: forever).
// NotFound when the container is not running any more.
absl::StatusOr<int> WaitForExit(const StateStore& store, Kind kind, const std::string& name, int timeout_ms = -1);

// The attach protocol on the control socket (minipod-monitor serves it).
// A client sends the line
// "attach\n"; from then on the connection carries
//  - monitor -> client: the container's output as raw bytes, as the
//    monitor reads it (with -t the pty's output; without, stdout and stderr
//    interleaved as written). Nothing from before the attach is replayed.
//  - client -> monitor: frames of a 1-byte type, a 4-byte big-endian
//    payload length (at most kAttachMaxPayload) and the payload:
//      'd' DATA: input for the container: written to the pty master (-t),
//        to the kept stdin pipe (-i without -t), otherwise dropped;
//      'r' RESIZE: rows and cols, 2 bytes each, big-endian (-t only).
//    A malformed frame ends the connection.
// Each client has its own output buffer (kAttachBuffer bytes): one that
// does not read fast enough is disconnected, never waited for, so the log
// and the other clients go on. Input that the container does not take
// beyond a buffer of the same size is dropped. When the container ends,
// the monitor answers its "wait" connections first, then writes the final
// output and closes the attach connections: a client that also holds a
// "wait" connection finds the exit status there once its attach
// connection ends (none there: it was disconnected, or the monitor died).
inline constexpr char kAttachData = 'd';
inline constexpr char kAttachResize = 'r';
inline constexpr size_t kAttachMaxPayload = 64 * 1024;
inline constexpr size_t kAttachBuffer = 1024 * 1024;

// A connection to the control socket of a running container's monitor.
// NotFound when it is not running.
absl::StatusOr<common::UniqueFd> ConnectControl(const StateStore& store, Kind kind, const std::string& name);

// The state.json of a container once it has exited, for minipod-monitor:
// SerializeState's text with the finish time, exit code, signal and OOM
// replaced by monitor/handover.h's markers (which JSON never holds raw).
absl::StatusOr<std::string> ExitedStateTemplate(ContainerState state);

}  // namespace runtime
