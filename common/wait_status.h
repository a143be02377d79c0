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

// Builds a raw wait status, for tests and for tables.
constexpr int WaitStatusExited(int code) { return (code & 0xff) << 8; }
constexpr int WaitStatusSignaled(int sig) { return sig & 0x7f; }

static_assert(ExitCodeFromWaitStatus(WaitStatusExited(3)) == 3);
static_assert(ExitCodeFromWaitStatus(WaitStatusSignaled(SIGKILL)) == 137);
static_assert(ExitCodeFromWaitStatus(WaitStatusSignaled(SIGTERM)) == 143);

}  // namespace common
