// `minipod exec`: a new process in a running container, entered through a
// pidfd of the container's first process (setns with every namespace type
// that differs from ours, user first, in one call), moved into the
// container's cgroup, then the same credential / seccomp / exec steps as
// the container's own child (sandbox::ExecInChild): the capabilities, ids,
// no_new_privs and seccomp filter the container got, never more. The
// filter is kept in the container's directory (seccomp.bpf) by the monitor.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/state.h"
#include "sandbox/seccomp.h"

namespace runtime {

struct ExecRequest {
  std::vector<std::string> command;
  std::vector<std::string> env;       // K=V, over the container's
  std::optional<std::string> workdir; // default: the container's
  std::optional<uid_t> uid;           // default: the container's
  std::optional<gid_t> gid;
  bool interactive = false;           // -i: our stdin; otherwise /dev/null
  // -t: a pty from the container's devpts (opened by the process itself,
  // the master sent back), relayed to our stdin/stdout by a
  // ForegroundTerminal: our size at start and on SIGWINCH, our terminal in
  // raw mode with -i and put back on every way out.
  bool tty = false;
};

// Runs the command in the container and returns its exit status (128+N for
// signal N, 126/127 when it cannot be executed or is not found); an error
// Status is exec's own failure (exit 125).
absl::StatusOr<int> ExecInContainer(const StateStore& store, const std::string& name, const ExecRequest& request);

// The compiled filters, written next to the state and read back by exec.
absl::Status WriteSeccompFile(int dir_fd, const sandbox::SeccompProgram& program);
absl::StatusOr<sandbox::SeccompProgram> ReadSeccompFile(int dir_fd);

}  // namespace runtime
