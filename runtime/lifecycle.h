// stop, kill and rm of a container or a pod's holder, through pidfds
// opened from the recorded pid and start time. The monitor does the
// cleaning when the container ends; these only signal and wait for it
// (bounded), and clean up themselves only after a monitor that was lost.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/state.h"

namespace runtime {

// SIGTERM (or sig) to the container's first process, SIGKILL after
// timeout_s seconds, and back once its monitor has finished (the state
// says exited, or it is gone with --rm). A container that is not running
// is fine.
absl::Status StopContainer(const StateStore& store, Kind kind, const std::string& name, int timeout_s, int sig = 15);

// Waits until every recorded process has exited (true), together through
// their pidfds, or until timeout_ms passes (false). Processes already gone
// count as exited.
bool WaitAllGone(const std::vector<ProcessRef>& refs, int timeout_ms);

// Sends sig to the container's first process (FailedPrecondition when it
// is not running).
absl::Status KillContainer(const StateStore& store, Kind kind, const std::string& name, int sig);

// Removes the container's state; a running one only with force (killed at
// once, as `docker rm -f`). A lost container's leftovers (a process that
// outlived its monitor, a cgroup) are removed too.
absl::Status RemoveContainer(const StateStore& store, Kind kind, const std::string& name, bool force);

}  // namespace runtime
