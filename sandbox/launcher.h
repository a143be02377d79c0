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

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sandbox/init_status.h"
#include "sandbox/namespaces.h"
#include "sandbox/run_config.h"

namespace sandbox {

// Exit statuses of the container convention.
inline constexpr int kExitLauncherFailed = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

// Runs the command; returns its exit status (128+N for signal N). An error
// Status is a failure of the launcher itself (exit 125), with one line
// naming the input and the reason.
// `joined`: the descriptors of container:NAME choices, resolved by the
// caller (ns:PATH files are opened here when absent).
absl::StatusOr<int> RunSandbox(const RunConfig& config, const std::string& rootfs,
                               const JoinedNamespaces& joined = JoinedNamespaces());

// The OOM line, worded by what happened: the command itself killed, or
// some of its processes.
struct OomFacts {
  std::string memory;          // --memory as given; empty: no OOM kill seen
  int64_t kills = 0;           // oom_kill events in the cgroup (0: not counted)
  bool command_killed = false; // the command itself died of SIGKILL
};
std::string DescribeOom(const OomFacts& facts);

}  // namespace sandbox
