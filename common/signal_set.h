// Signal sets and the table of signal names, shared by init and the tools.
// Pure functions plus thin sigset_t helpers; libc only, no heap.
#pragma once

#include <signal.h>
#include <stddef.h>
#include <string.h>

namespace common {

// The names of signals 1..31 on Linux x86-64, in number order, packed into
// one string (the init counts every byte): entry i names signal i+1.
inline constexpr char kSignalNameTable[] =
    "HUP\0INT\0QUIT\0ILL\0TRAP\0ABRT\0BUS\0FPE\0KILL\0USR1\0SEGV\0USR2\0PIPE\0ALRM\0TERM\0"
    "STKFLT\0CHLD\0CONT\0STOP\0TSTP\0TTIN\0TTOU\0URG\0XCPU\0XFSZ\0VTALRM\0PROF\0WINCH\0IO\0"
    "PWR\0SYS";
static_assert(SIGHUP == 1 && SIGTERM == 15 && SIGSTKFLT == 16 && SIGCHLD == 17 &&
              SIGTSTP == 20 && SIGURG == 23 && SIGWINCH == 28 && SIGIO == 29 &&
              SIGPWR == 30 && SIGSYS == 31, "kSignalNameTable assumes Linux numbering");

// Aliases accepted when parsing only.
inline constexpr struct {
  int number;
  char name[5];
} kSignalAliases[] = {{SIGABRT, "IOT"}, {SIGIO, "POLL"}, {SIGCHLD, "CLD"}};

// The highest signal number the kernel accepts (_NSIG - 1 = 64 on x86-64).
inline constexpr int kMaxSignal = 64;
// What "RTMIN" means in names: glibc's SIGRTMIN, as `kill -l` and the
// glibc programs we signal number it. musl's SIGRTMIN is 35 (it reserves
// 32-34), so libc's macro would make "RTMIN" mean two signals.
inline constexpr int kRtMin = 34;
inline constexpr int kRtMax = kMaxSignal;

// "TERM" for 15; nullptr outside 1..31.
inline const char* ClassicSignalName(int sig) {
  if (sig < 1 || sig > 31) return nullptr;
  const char* p = kSignalNameTable;
  for (int i = 1; i < sig; ++i) p += strlen(p) + 1;
  return p;
}

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

// The number of the classic signal called name (no "SIG" prefix), or 0.
inline int ClassicSignalNumber(const char* name, bool ignore_case) {
  const size_t len = strlen(name);
  const char* p = kSignalNameTable;
  for (int sig = 1; sig <= 31; ++sig, p += strlen(p) + 1) {
    if (strlen(p) != len) continue;
    if (ignore_case ? EqualsIgnoreCase(p, name, len) : memcmp(p, name, len) == 0) return sig;
  }
  return 0;
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
  if (const int sig = ClassicSignalNumber(s, /*ignore_case=*/true); sig != 0) return sig;
  for (const auto& e : kSignalAliases) {
    if (strlen(e.name) == len && EqualsIgnoreCase(s, e.name, len)) return e.number;
  }
  if (len >= 5 && (EqualsIgnoreCase(s, "RTMIN", 5) || EqualsIgnoreCase(s, "RTMAX", 5))) {
    const bool min = EqualsIgnoreCase(s, "RTMIN", 5);
    const int base = min ? kRtMin : kRtMax;
    if (len == 5) return base;
    if (s[5] != (min ? '+' : '-')) return 0;
    const int offset = ParseSmallUnsigned(s + 6);
    if (offset < 0) return 0;
    const int sig = min ? base + offset : base - offset;
    return sig >= kRtMin && sig <= kRtMax ? sig : 0;
  }
  return 0;
}

// Writes the canonical name of sig ("TERM", "RTMIN+2") into buf and returns
// buf; an unknown number is written as its decimal value.
inline const char* SignalNameOf(int sig, char (&buf)[16]) {
  size_t pos = 0;
  if (const char* name = ClassicSignalName(sig); name != nullptr) {
    for (; name[pos] != '\0' && pos < sizeof buf - 1; ++pos) buf[pos] = name[pos];
    buf[pos] = '\0';
    return buf;
  }
  const bool rt = sig >= kRtMin && sig <= kRtMax;
  unsigned v = static_cast<unsigned>(rt ? sig - kRtMin : sig);
  if (rt) {
    memcpy(buf, "RTMIN", 5);
    pos = 5;
    if (v == 0) {
      buf[pos] = '\0';
      return buf;
    }
    buf[pos++] = '+';
  }
  char digits[12];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < 11);
  while (n > 0 && pos < sizeof buf - 1) buf[pos++] = digits[--n];
  buf[pos] = '\0';
  return buf;
}

}  // namespace common
