// The init's signal-number-dependent logic, checked the same way in two
// builds: natively under GoogleTest (signals_test.cc) and compiled with the
// init's own musl flags (musl_checks.cc), where libc's SIGRTMIN is 35 and
// its sigset_t functions leave 32-34 out. No heap, no C++ runtime: the musl
// program links like minipod-init.
#pragma once

#include <signal.h>
#include <string.h>

#include "common/format.h"
#include "common/signal_set.h"
#include "init/config.h"
#include "init/options.h"
#include "init/signals.h"

namespace init::checks {

// report(ok, what, got, want) is called once per check.
template <typename Report>
void CheckSignalTable(Report&& report) {
  static constexpr const char* kNames[] = {
      "HUP",  "INT",  "QUIT", "ILL",    "TRAP", "ABRT",  "BUS",  "FPE",  "KILL", "USR1", "SEGV",
      "USR2", "PIPE", "ALRM", "TERM",   "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
      "URG",  "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO",  "PWR",  "SYS"};
  for (int s = 1; s <= 31; ++s) {
    const char* name = common::ClassicSignalName(s);
    report(name != nullptr && strcmp(name, kNames[s - 1]) == 0, "ClassicSignalName(s) is the table's", s, s);
    report(common::ClassicSignalNumber(kNames[s - 1], /*ignore_case=*/false) == s,
           "ClassicSignalNumber(name)", common::ClassicSignalNumber(kNames[s - 1], false), s);
  }
  // libc's macros agree with the kernel numbering the table assumes.
  const int libc[] = {SIGHUP, SIGQUIT, SIGUSR1, SIGTERM, SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP,
                      SIGTTIN, SIGTTOU, SIGWINCH, SIGSYS};
  const int kernel[] = {1, 3, 10, 15, 17, 18, 19, 20, 21, 22, 28, 31};
  for (unsigned i = 0; i < sizeof libc / sizeof libc[0]; ++i) {
    report(libc[i] == kernel[i], "libc signal macro is the kernel's number", libc[i], kernel[i]);
  }
  report(common::ClassicSignalName(0) == nullptr, "no name for 0", 0, 0);
  report(common::ClassicSignalName(32) == nullptr, "no classic name for 32", 32, 0);
}

template <typename Report>
void CheckNamesAndNumbers(Report&& report) {
  // RTMIN is glibc's (34), what `kill -l` and the glibc children mean,
  // whatever libc the init was built with.
  struct Case {
    const char* text;
    int want;
  };
  static constexpr Case kCases[] = {
      {"RTMIN", 34},     {"SIGRTMIN", 34},   {"rtmin", 34},      {"RTMIN+1", 35},
      {"RTMIN+3", 37},   {"SIGRTMIN+30", 64}, {"RTMIN+31", 0},   {"RTMAX", 64},
      {"RTMAX-1", 63},   {"SIGRTMAX-30", 34}, {"RTMAX-31", 0},   {"RTMIN-1", 0},
      {"32", 32},        {"33", 33},          {"34", 34},        {"35", 35},
      {"64", 64},        {"65", 0},           {"0", 0},          {"TERM", 15},
      {"SIGUSR1", 10},   {"IOT", 6},          {"CLD", 17},       {"POLL", 29},
  };
  for (const Case& c : kCases) {
    const int got = common::ParseSignal(c.text);
    report(got == c.want, c.text, got, c.want);
  }
  // Every number 1..64 has a name that parses back to it.
  for (int s = 1; s <= 64; ++s) {
    char buf[16];
    const char* name = common::SignalNameOf(s, buf);
    report(common::ParseSignal(name) == s, "ParseSignal(SignalNameOf(s))", common::ParseSignal(name), s);
  }
  char buf[16];
  report(strcmp(common::SignalNameOf(34, buf), "RTMIN") == 0, "SignalNameOf(34) is RTMIN", 34, 34);
  report(strcmp(common::SignalNameOf(35, buf), "RTMIN+1") == 0, "SignalNameOf(35) is RTMIN+1", 35, 35);
  report(strcmp(common::SignalNameOf(33, buf), "33") == 0, "SignalNameOf(33) is 33", 33, 33);
  report(strcmp(common::SignalNameOf(64, buf), "RTMIN+30") == 0, "SignalNameOf(64) is RTMIN+30", 64, 64);
}

// What the child receives for sig under personality p, as each tool does
// it (FIELD-NOTES): 0 when not forwarded.
enum class Tool { kMinipod, kTini, kDumbInit, kDumbInitSingleChild, kCatatonit };

constexpr int ExpectedForward(Tool t, int sig) {
  if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD) return 0;
  if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
    switch (t) {
      case Tool::kMinipod:
      case Tool::kTini:
        return sig == SIGTSTP ? sig : 0;
      case Tool::kDumbInit:
        return SIGSTOP;
      case Tool::kDumbInitSingleChild:
        return sig;
      case Tool::kCatatonit:
        return 0;
    }
  }
  return sig;
}

// Parses a command line the way minipod-init's main() does.
inline bool ParseFor(Tool t, Config& config) {
  static char minipod[] = "minipod-init", tini[] = "tini", dumb[] = "dumb-init",
              catatonit[] = "catatonit", dashdash[] = "--", dash_c[] = "-c", cmd[] = "cmd";
  char* argv[5] = {};
  int argc = 0;
  switch (t) {
    case Tool::kMinipod: argv[argc++] = minipod; break;
    case Tool::kTini: argv[argc++] = tini; argv[argc++] = dashdash; break;
    case Tool::kDumbInit: argv[argc++] = dumb; break;
    case Tool::kDumbInitSingleChild: argv[argc++] = dumb; argv[argc++] = dash_c; break;
    case Tool::kCatatonit: argv[argc++] = catatonit; argv[argc++] = dashdash; break;
  }
  argv[argc++] = cmd;
  char* envp[] = {nullptr};
  char text[4096];
  common::Formatter out(text, sizeof text);
  return ParseCommandLine(argc, argv, envp, config, out).run && config.command != nullptr;
}

template <typename Report>
void CheckForwardedSet(Report&& report) {
  for (int s = 1; s <= 64; ++s) report(HasSignal(kInitBlocked, s), "the init blocks signal s", s, s);
  const Tool tools[] = {Tool::kMinipod, Tool::kTini, Tool::kDumbInit, Tool::kDumbInitSingleChild,
                        Tool::kCatatonit};
  for (Tool t : tools) {
    Config config;
    report(ParseFor(t, config), "command line parses", static_cast<int>(t), 0);
    for (int s = 1; s <= 64; ++s) {
      // got/want read as 100 * forwarded signal + s.
      report(ForwardedAs(config, s) == ExpectedForward(t, s), "ForwardedAs (100*as + s)",
             ForwardedAs(config, s) * 100 + s, ExpectedForward(t, s) * 100 + s);
    }
    report(ForwardedAs(config, 0) == 0 && ForwardedAs(config, 65) == 0, "out of range", 0, 0);
  }
}

template <typename Report>
void CheckAll(Report&& report) {
  CheckSignalTable(report);
  CheckNamesAndNumbers(report);
  CheckForwardedSet(report);
}

}  // namespace init::checks
