// Helpers shared by the probes: one write(2) per line, signal names that do
// not depend on libc's tables, and argument parsing that exits 64 on misuse.
// Header-only; glibc; no threads.
#pragma once

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace probes {

inline constexpr int kUsageExit = 64;

// Names without "SIG"; 32..64 print as RT<number> (the kernel's numbering,
// independent of libc's SIGRTMIN).
inline const char* SignalName(int sig, char (&buf)[16]) {
  static constexpr const char* kNames[] = {
      nullptr, "HUP",  "INT",    "QUIT", "ILL",    "TRAP",   "ABRT", "BUS",
      "FPE",   "KILL", "USR1",   "SEGV", "USR2",   "PIPE",   "ALRM", "TERM",
      "STKFLT", "CHLD", "CONT",  "STOP", "TSTP",   "TTIN",   "TTOU", "URG",
      "XCPU",  "XFSZ", "VTALRM", "PROF", "WINCH",  "IO",     "PWR",  "SYS"};
  if (sig > 0 && sig < 32) return kNames[sig];
  snprintf(buf, sizeof buf, "RT%d", sig);
  return buf;
}

// Accepts "USR1", "SIGUSR1" or a number 1..64; exits kUsageExit otherwise.
inline int ParseSignalOrDie(const char* s) {
  char* end = nullptr;
  const long n = strtol(s, &end, 10);
  if (end != s && *end == '\0' && n >= 1 && n <= 64) return static_cast<int>(n);
  if (strncmp(s, "SIG", 3) == 0) s += 3;
  char buf[16];
  for (int sig = 1; sig < 32; ++sig) {
    if (strcmp(SignalName(sig, buf), s) == 0) return sig;
  }
  dprintf(2, "probe: unknown signal '%s'\n", s);
  exit(kUsageExit);
}

inline int ParseIntOrDie(const char* s) {
  char* end = nullptr;
  const long n = strtol(s, &end, 10);
  if (end == s || *end != '\0') {
    dprintf(2, "probe: not a number: '%s'\n", s);
    exit(kUsageExit);
  }
  return static_cast<int>(n);
}

// One line, one write(2): lines from several processes sharing a pipe never
// interleave (PIPE_BUF).
__attribute__((format(printf, 1, 2))) inline void Line(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > static_cast<int>(sizeof buf) - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  const char* p = buf;
  while (n > 0) {
    const ssize_t w = write(STDOUT_FILENO, p, static_cast<size_t>(n));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= static_cast<int>(w);
  }
}

// Dies of sig for real: default disposition, unblocked, raised.
[[noreturn]] inline void DieOf(int sig) {
  signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  sigprocmask(SIG_UNBLOCK, &one, nullptr);
  kill(getpid(), sig);
  // Signals that do not terminate by default (CHLD, CONT, ...).
  _exit(128 + sig);
}

}  // namespace probes
