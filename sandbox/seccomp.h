// The seccomp filter of `minipod run`, compiled in the parent with
// libseccomp into a BPF program; the child installs it last, right before
// execve, with no allocation. "default" is a deny list: it refuses (EPERM)
// the calls Docker's default profile leaves out of its allow list, and more:
// TIOCSTI/TIOCLINUX, device nodes and raw or packet sockets. Calls it does
// not name stay allowed (Docker's allow list refuses them). It covers every ABI of the machine (on x86_64 the
// i386 and x32 entry points too), so a 32-bit syscall cannot go around it.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sandbox {

struct SeccompProgram {
  std::vector<struct sock_filter> filter;  // empty: unconfined
};

// spec: "default", "unconfined", or the path of a Docker-format JSON
// profile (defaultAction, defaultErrnoRet, architectures, syscalls with
// names, action, errnoRet, args and includes/excludes by capability).
// caps: the capabilities the command keeps, for includes/excludes.
absl::StatusOr<SeccompProgram> BuildSeccomp(absl::string_view spec, uint64_t caps = 0);

// The Docker-format compiler on its own (pure; fuzzed). what names the
// input in errors: "profile.json: syscalls[3].action: unknown action 'X'".
absl::StatusOr<SeccompProgram> CompileDockerProfile(absl::string_view json, absl::string_view what,
                                                    uint64_t caps = 0);

// The default filter compiled now with libseccomp. BuildSeccomp("default")
// returns the same program compiled once at build time (seccomp_gen.cc),
// which saves every `minipod run` about a millisecond.
absl::StatusOr<SeccompProgram> CompileDefaultSeccomp();

// Child side, after PR_SET_NO_NEW_PRIVS: seccomp(SECCOMP_SET_MODE_FILTER).
// An empty program installs nothing. Returns 0 or errno.
int InstallSeccompInChild(const SeccompProgram& program);

}  // namespace sandbox
