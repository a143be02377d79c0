// Which signals the init takes over and what each one becomes for the
// child, as kernel signal numbers (1..64), never libc's sigset_t: musl
// reserves 32-34 and glibc 32-33, and their sigfillset/sigaddset leave those
// out, yet a glibc child can be sent 34 (its SIGRTMIN) and 32-33 by number.
// Pure; builds for musl (the init) and glibc (the unit tests).
#pragma once

#include <signal.h>
#include <stdint.h>

#include "init/config.h"

namespace init {

// A signal mask as the rt_sig* system calls take it: bit sig-1 is signal sig.
using KernelSigMask = uint64_t;
inline constexpr unsigned long kKernelSigMaskBytes = sizeof(KernelSigMask);

constexpr KernelSigMask SignalBit(int sig) { return KernelSigMask{1} << (sig - 1); }
constexpr bool HasSignal(KernelSigMask m, int sig) { return (m & SignalBit(sig)) != 0; }

// What the init blocks and reads from its signalfd: every signal. The kernel
// never blocks SIGKILL and SIGSTOP whatever the mask says, and a real fault
// (SIGSEGV, SIGBUS, ... raised by the init's own code) is delivered even
// when blocked: force_sig_info() unblocks it and resets it to SIG_DFL, so a
// bug still kills the init loudly. A fault signal someone sends with kill()
// is a plain signal and gets forwarded like the others.
inline constexpr KernelSigMask kInitBlocked = ~KernelSigMask{0};

constexpr bool IsJobControlSignal(int sig) {
  return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

// The signal the child (or its group) receives when the init receives sig
// while a child runs; 0 when the init does not forward it. SIGKILL and
// SIGSTOP never reach the init; SIGCHLD is the init's own.
constexpr int ForwardedAs(const Config& c, int sig) {
  if (sig < 1 || sig > kMaxSignalNumber || sig == SIGCHLD || sig == SIGKILL || sig == SIGSTOP) {
    return 0;
  }
  if (IsJobControlSignal(sig)) {
    if (c.job_control == JobControl::kDropAll) return 0;
    if (c.job_control == JobControl::kTini && sig != SIGTSTP) return 0;
  }
  return c.rewrite[sig];
}

}  // namespace init
