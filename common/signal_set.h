// Signal sets and the table of signal names, shared by init and the tools.
// Pure functions plus thin sigset_t helpers; libc only, no heap.
#pragma once

#include <signal.h>
#include <stddef.h>
#include <string.h>

namespace common {

struct SignalName {
  int number;
  const char* name;  // without the "SIG" prefix
};

// The Linux x86-64 signal numbers with their canonical names. SIGIOT,
// SIGPOLL and SIGCLD are aliases accepted when parsing only.
inline constexpr SignalName kSignalNames[] = {
    {SIGHUP, "HUP"},       {SIGINT, "INT"},       {SIGQUIT, "QUIT"},
    {SIGILL, "ILL"},       {SIGTRAP, "TRAP"},     {SIGABRT, "ABRT"},
    {SIGBUS, "BUS"},       {SIGFPE, "FPE"},       {SIGKILL, "KILL"},
    {SIGUSR1, "USR1"},     {SIGSEGV, "SEGV"},     {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"},     {SIGALRM, "ALRM"},     {SIGTERM, "TERM"},
    {SIGSTKFLT, "STKFLT"}, {SIGCHLD, "CHLD"},     {SIGCONT, "CONT"},
    {SIGSTOP, "STOP"},     {SIGTSTP, "TSTP"},     {SIGTTIN, "TTIN"},
    {SIGTTOU, "TTOU"},     {SIGURG, "URG"},       {SIGXCPU, "XCPU"},
    {SIGXFSZ, "XFSZ"},     {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"},
    {SIGWINCH, "WINCH"},   {SIGIO, "IO"},         {SIGPWR, "PWR"},
    {SIGSYS, "SYS"},
};
inline constexpr SignalName kSignalAliases[] = {
    {SIGABRT, "IOT"}, {SIGIO, "POLL"}, {SIGCHLD, "CLD"}};

// The highest signal number the kernel accepts (_NSIG - 1 = 64 on x86-64).
inline constexpr int kMaxSignal = 64;

inline bool EqualsIgnoreCase(const char* a, const char* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// Parses a non-negative decimal integer of at most 9 digits that spans the
// whole string; returns -1 otherwise.
inline int ParseSmallUnsigned(const char* s) {
  if (s == nullptr || *s == '\0') return -1;
  int v = 0;
  for (int i = 0; s[i] != '\0'; ++i) {
    if (s[i] < '0' || s[i] > '9' || i >= 9) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// Accepts "TERM", "SIGTERM", "sigterm", "15", "RTMIN", "RTMIN+3", "SIGRTMAX-2".
// Returns the signal number, or 0 when s names no signal. Numbers must lie in
// 1..kMaxSignal; "0" is rejected here (callers that give 0 a meaning check it).
inline int ParseSignal(const char* s) {
  if (s == nullptr || *s == '\0') return 0;
  const int number = ParseSmallUnsigned(s);
  if (number >= 0) return number >= 1 && number <= kMaxSignal ? number : 0;
  if (strlen(s) > 3 && EqualsIgnoreCase(s, "SIG", 3)) s += 3;
  const size_t len = strlen(s);
  for (const auto& e : kSignalNames) {
    if (strlen(e.name) == len && EqualsIgnoreCase(s, e.name, len)) return e.number;
  }
  for (const auto& e : kSignalAliases) {
    if (strlen(e.name) == len && EqualsIgnoreCase(s, e.name, len)) return e.number;
  }
  if (len >= 5 && (EqualsIgnoreCase(s, "RTMIN", 5) || EqualsIgnoreCase(s, "RTMAX", 5))) {
    const bool min = EqualsIgnoreCase(s, "RTMIN", 5);
    const int base = min ? SIGRTMIN : SIGRTMAX;
    if (len == 5) return base;
    if (s[5] != (min ? '+' : '-')) return 0;
    const int offset = ParseSmallUnsigned(s + 6);
    if (offset < 0) return 0;
    const int sig = min ? base + offset : base - offset;
    return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : 0;
  }
  return 0;
}

// Writes the canonical name of sig ("TERM", "RTMIN+2") into buf and returns
// buf; an unknown number is written as its decimal value.
inline const char* SignalNameOf(int sig, char (&buf)[16]) {
  for (const auto& e : kSignalNames) {
    if (e.number == sig) {
      size_t i = 0;
      for (; e.name[i] != '\0' && i < sizeof buf - 1; ++i) buf[i] = e.name[i];
      buf[i] = '\0';
      return buf;
    }
  }
  char digits[12];
  int n = 0;
  unsigned v = static_cast<unsigned>(sig >= SIGRTMIN && sig <= SIGRTMAX ? sig - SIGRTMIN : sig);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < 11);
  size_t pos = 0;
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
    memcpy(buf, "RTMIN", 5);
    pos = 5;
    if (sig != SIGRTMIN) buf[pos++] = '+';
  }
  if (!(sig == SIGRTMIN && pos == 5)) {
    while (n > 0 && pos < sizeof buf - 1) buf[pos++] = digits[--n];
  }
  buf[pos] = '\0';
  return buf;
}

// The signals that report a fault in the process itself. They stay
// unblocked in init so a bug kills it loudly instead of hanging.
inline constexpr int kFaultSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE,
                                        SIGABRT, SIGTRAP, SIGSYS};

inline bool IsFaultSignal(int sig) {
  for (int f : kFaultSignals) {
    if (f == sig) return true;
  }
  return false;
}

// A sigset_t holding every signal except the fault signals.
inline sigset_t AllButFaultSignals() {
  sigset_t set;
  sigfillset(&set);
  for (int f : kFaultSignals) sigdelset(&set, f);
  return set;
}

}  // namespace common
