// Mapping from a wait(2) status to the exit code a container init reports:
// the child's own code, 128+N when it died of signal N.
#pragma once

#include <signal.h>
#include <sys/wait.h>

namespace common {

constexpr int ExitCodeFromWaitStatus(int ws) {
  if (WIFEXITED(ws)) return WEXITSTATUS(ws);
  return WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : 255;
}

// Raw statuses as the kernel builds them: exit code in bits 8..15, the
// terminating signal in bits 0..6.
static_assert(ExitCodeFromWaitStatus(3 << 8) == 3);
static_assert(ExitCodeFromWaitStatus(SIGKILL) == 137);
static_assert(ExitCodeFromWaitStatus(SIGTERM) == 143);

}  // namespace common
