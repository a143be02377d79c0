// The seccomp filter of `minipod run`, compiled in the parent with
// libseccomp into a BPF program; the child installs it last, right before
// execve, with no allocation. "default" is Docker's default profile (an
// allow list, with the calls a capability opens when the command holds it)
// plus a second filter that refuses by argument what an allow list cannot:
// TIOCSTI/TIOCLINUX, device nodes, raw or packet sockets; and io_uring and
// ptrace without CAP_SYS_PTRACE. It covers every ABI of the machine (on x86_64 the
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
  // A second filter installed with it (the default's allow list); the
  // kernel runs both and the stricter answer wins.
  std::vector<struct sock_filter> second;
};

// Docker's default capability set, for which the default filter is
// compiled at build time (CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW
// SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL
// AUDIT_WRITE).
inline constexpr uint64_t kDefaultSeccompCaps = 0xa80425fb;

// spec: "default", "unconfined", or the path of a Docker-format JSON
// profile (defaultAction, defaultErrnoRet, architectures, syscalls with
// names, action, errnoRet, args and includes/excludes by capability).
// caps: the capabilities the command keeps, for includes/excludes.
absl::StatusOr<SeccompProgram> BuildSeccomp(absl::string_view spec, uint64_t caps = kDefaultSeccompCaps);

// The Docker-format compiler on its own (pure; fuzzed). what names the
// input in errors: "profile.json: syscalls[3].action: unknown action 'X'".
absl::StatusOr<SeccompProgram> CompileDockerProfile(absl::string_view json, absl::string_view what,
                                                    uint64_t caps = 0);

// The default filters compiled now with libseccomp for caps.
// BuildSeccomp("default", caps) returns the same programs compiled once at
// build time (seccomp_gen.cc) for the sets in kPrecompiledSeccompCaps:
// compiling costs a millisecond of CPU, and far more wall time on a busy
// machine (tens of milliseconds measured for a pod's holder).
absl::StatusOr<SeccompProgram> CompileDefaultSeccomp(uint64_t caps = kDefaultSeccompCaps);

// The capabilities the default filters depend on (those that allow more
// system calls); the others do not change a bit of them.
uint64_t DefaultSeccompCapMask();

// The capability sets whose default filters are compiled at build time:
// Docker's default set, and none at all (a pod's holder, --cap-drop ALL).
// A set is served from them when it agrees on DefaultSeccompCapMask().
inline constexpr uint64_t kPrecompiledSeccompCaps[] = {kDefaultSeccompCaps, 0};

// Child side, after PR_SET_NO_NEW_PRIVS: seccomp(SECCOMP_SET_MODE_FILTER).
// An empty program installs nothing. Returns 0 or errno.
int InstallSeccompInChild(const SeccompProgram& program);

}  // namespace sandbox
