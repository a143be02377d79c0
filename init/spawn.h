// Starting the command: clone, place the child (own group, new session or
// unchanged), give it its signal state, and execve. Runs in the init; the
// child shares its memory until execve (vfork semantics).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "common/sys.h"
#include "init/config.h"
#include "init/signals.h"

namespace init {

struct SpawnResult {
  pid_t pid = -1;     // the child, or -1 when fork failed
  int fork_err = 0;   // errno of a failed fork
  int exec_err = 0;   // errno of a failed execve (the child has exited)
};

// An inherited SIG_IGN on SIGCHLD would make the kernel reap our children
// itself, leaving no exit status to report: reset it to SIG_DFL. The child
// gets SIG_IGN back when its signals are inherited (ChildSignals::kInherited).
void TakeOverSigchld();

// rt_sigprocmask with a whole kernel mask: libc's sigprocmask would drop
// the bits of the signals it reserves (musl: 32-34) from old.
inline common::SysResult SetKernelSigMask(int how, const KernelSigMask* set, KernelSigMask* old) {
  return common::FromRet(::syscall(SYS_rt_sigprocmask, how, set, old, kKernelSigMaskBytes));
}

// envp may be modified in the child only (LISTEN_PID). original_mask is the
// mask the init started with, restored in the child for kInherited.
SpawnResult Spawn(const Config& config, KernelSigMask original_mask, char** envp);

// The exit code for an execve failure with errno err.
constexpr int ExecFailureExitCode(const Config& config, int err) {
  if (err == ENOENT) return config.exit_not_found;
  if (err == EACCES || config.exit_exec_other < 0) return config.exit_not_executable;
  return config.exit_exec_other;
}

}  // namespace init
