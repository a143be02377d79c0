// `minipod run`: the whole ordered sequence from a checked RunConfig to the
// command's exit status. Read this first: the parent opens and plans
// everything (root, binds, init, mounts, capabilities, seccomp, cgroup,
// netlink request, argv and environment), clones the child into new
// namespaces, maps ids and joins the cgroup, then lets the child run its
// plan; the child only executes and reports {step, errno} on a CLOEXEC
// pipe if a step fails.
#pragma once

#include "absl/status/statusor.h"
#include "sandbox/run_config.h"

namespace sandbox {

// Exit statuses of the container convention.
inline constexpr int kExitLauncherFailed = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

// Runs the command; returns its exit status (128+N for signal N). An error
// Status is a failure of the launcher itself (exit 125), with one line
// naming the input and the reason.
absl::StatusOr<int> RunSandbox(const RunConfig& config, const std::string& rootfs);

}  // namespace sandbox
