// The command lines of tini/docker-init 0.19, dumb-init 1.2.5, catatonit
// 0.1.7 and Kubernetes' pause, parsed into Config with each tool's options,
// environment variables, defaults, messages and exit codes. Pure (getpid()
// only, for the tools' "name (pid)" prefixes); builds for musl and glibc.
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common/signal_set.h"
#include "init/option_scanner.h"
#include "init/options.h"

namespace init {
namespace {

using common::Formatter;

ParseResult Exit(int code, int fd) { return ParseResult{false, code, fd}; }

const char* Arg0(int argc, char** argv, const char* fallback) {
  return argc > 0 && argv[0] != nullptr ? argv[0] : fallback;
}

const char* Basename(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

// glibc's getopt permutes unless POSIXLY_CORRECT is set, whatever its value.
bool Permute(char** envp) { return GetEnv(envp, "POSIXLY_CORRECT") == nullptr; }

void Begin(Config& c, Personality p, MessageStyle s, const char* name) {
  c.personality = p;
  c.style = s;
  c.program_name = name;
  ResetRewrites(c);
}

// strtol(s, &end, 10) without errno or locale: blanks, a sign, digits;
// saturates at LONG_MIN/LONG_MAX. *end == s when there was no digit.
long CStrtol(const char* s, const char** end) {
  const char* p = s;
  while (*p == ' ' || (*p >= '\t' && *p <= '\r')) ++p;
  const bool negative = *p == '-';
  if (*p == '-' || *p == '+') ++p;
  if (*p < '0' || *p > '9') {
    *end = s;
    return 0;
  }
  const unsigned long limit = static_cast<unsigned long>(LONG_MAX) + (negative ? 1 : 0);
  unsigned long v = 0;
  bool overflow = false;
  for (; *p >= '0' && *p <= '9'; ++p) {
    const unsigned long digit = static_cast<unsigned long>(*p - '0');
    if (v > (limit - digit) / 10) {
      overflow = true;
    } else {
      v = v * 10 + digit;
    }
  }
  *end = p;
  if (overflow) return negative ? LONG_MIN : LONG_MAX;
  return static_cast<long>(negative ? 0UL - v : v);  // modular, as C++20 defines
}

// tini -l and catatonit -L: this binary's license, not the tool's.
void License(Formatter& out) {
  out.Printf("minipod-init %s\n"
             "Licensed under the Apache License, Version 2.0\n"
             "<https://www.apache.org/licenses/LICENSE-2.0>, without warranties or\n"
             "conditions of any kind.\n",
             kVersion);
}

// --- tini 0.19 --------------------------------------------------------------

constexpr char kTiniVersion[] = "tini version 0.19.0 - minipod-init ";

// Same layout as tini's usage (the first two lines verbatim but for the
// version); printed to stdout for -h, to stderr after a usage error.
constexpr char kTiniUsage[] =
    "%s (%s%s)\n"
    "Usage: %s [OPTIONS] PROGRAM -- [ARGS] | --version\n"
    "\n"
    "Run a program as the child of a valid init process (%s)\n"
    "\n"
    "Command line options:\n"
    "\n"
    "  --version: Print the version and exit (only as the sole argument).\n"
    "  -h: Print this help and exit.\n"
    "  -s: Register as a child subreaper (needs Linux >= 3.4).\n"
    "  -p SIGNAL: Receive SIGNAL when the parent dies, e.g. \"-p SIGKILL\".\n"
    "  -v: More verbose output; repeat for more.\n"
    "  -w: Warn about every orphaned process reaped.\n"
    "  -g: Forward signals to the child's process group.\n"
    "  -e EXIT_CODE: Report the child's EXIT_CODE (0 to 255) as 0; repeatable.\n"
    "  -l: Print the license and exit.\n"
    "\n"
    "Environment variables:\n"
    "\n"
    "  TINI_SUBREAPER: Register as a child subreaper (needs Linux >= 3.4).\n"
    "  TINI_VERBOSITY: The verbosity level (default: 1).\n"
    "  TINI_KILL_PROCESS_GROUP: Forward signals to the child's process group.\n"
    "\n";

ParseResult TiniUsage(Formatter& out, const char* name, int code) {
  out.Printf(kTiniUsage, name, kTiniVersion, kVersion, name, name);
  return Exit(code, code == 0 ? STDOUT_FILENO : STDERR_FILENO);
}

ParseResult TiniFatal(Formatter& out, char option, const char* arg) {
  out.Printf("[FATAL tini (%d)] Not a valid option for -%c: %s\n", static_cast<int>(getpid()),
             option, arg);
  return Exit(1, STDERR_FILENO);
}

// tini's -p takes exactly "SIG" + a name from its table: case-sensitive, no
// numbers, and SIGSTKFLT, SIGIO, SIGPWR and real-time signals are missing.
int TiniSignal(const char* arg) {
  if (strncmp(arg, "SIG", 3) != 0) return 0;
  for (const common::SignalName& e : common::kSignalNames) {
    if (e.number == SIGSTKFLT || e.number == SIGIO || e.number == SIGPWR) continue;
    if (strcmp(arg + 3, e.name) == 0) return e.number;
  }
  return 0;
}

// --- dumb-init 1.2.5 --------------------------------------------------------

constexpr LongOption kDumbInitLong[] = {
    {"help", false, 'h'},    {"single-child", false, 'c'}, {"rewrite", true, 'r'},
    {"verbose", false, 'v'}, {"version", false, 'V'},
};

constexpr char kDumbInitVersion[] = "dumb-init v1.2.5 - minipod-init %s\n";

constexpr char kDumbInitHelp[] =
    "Usage: %s [option] command [[arg] ...]\n"
    "\n"
    "Runs command as PID 1's child in a minimal container: forwards signals to\n"
    "its children and reaps zombies.\n"
    "\n"
    "Optional arguments:\n"
    "   -c, --single-child   Single-child mode: proxy signals to the direct\n"
    "                        child only, not to its descendants.\n"
    "   -r, --rewrite s:r    Proxy received signal s as signal r; r=0 drops s.\n"
    "                        May be given several times.\n"
    "   -v, --verbose        Print debugging information to stderr.\n"
    "   -h, --help           Print this help message and exit.\n"
    "   -V, --version        Print the current version and exit.\n"
    "\n"
    "Environment: DUMB_INIT_SETSID=0 acts as -c, DUMB_INIT_DEBUG=1 as -v.\n";

// Verbatim: scripts may match it.
constexpr char kDumbInitRewriteUsage[] =
    "Usage: -r option takes <signum>:<signum>, where <signum> is between 1 and 31.\n"
    "This option can be specified multiple times.\n"
    "Use --help for full usage.\n";

// sscanf's %d: blanks, a sign, digits, read as a long and truncated to int.
bool ScanInt(const char*& p, int& value) {
  const char* end = nullptr;
  const long v = CStrtol(p, &end);
  if (end == p) return false;
  value = static_cast<int>(v);
  p = end;
  return true;
}

// sscanf(arg, "%d:%d") == 2 with 1 <= s <= 31 and 0 <= r <= 31; anything
// after the second number is ignored, as sscanf does.
bool DumbInitRewrite(const char* arg, int& from, int& to) {
  const char* p = arg;
  if (!ScanInt(p, from) || *p++ != ':' || !ScanInt(p, to)) return false;
  return from >= 1 && from <= 31 && to >= 0 && to <= 31;
}

// --- catatonit 0.1.7 --------------------------------------------------------

constexpr LongOption kCatatonitLong[] = {{"version", false, 'V'}};

// Verbatim: scripts may match it.
constexpr char kCatatonitUsage[] =
    "usage: catatonit [-ghLPV] [--] <progname> [<arguments>...]\n";

constexpr char kCatatonitHelp[] =
    "\n"
    "options:\n"
    "  -g              Forward signals to the process group of pid1 (the program).\n"
    "  -h              Print this help.\n"
    "  -L              Print the license.\n"
    "  -P              Pause mode: run no program, exit on SIGINT or SIGTERM.\n"
    "  -V, --version   Print the version.\n"
    "\n"
    "This is minipod-init %s speaking catatonit's command line.\n";

ParseResult CatatonitError(Formatter& out, const char* what, bool usage) {
  out.Printf("ERROR (catatonit:%d): %s\n", static_cast<int>(getpid()), what);
  if (usage) out.Str(kCatatonitUsage);
  return Exit(1, STDERR_FILENO);
}

}  // namespace

// tini: options permute (glibc getopt, no long options); --version only as
// the sole argument; the environment is read after the command line, so
// TINI_VERBOSITY replaces any -v.
ParseResult ParseTini(int argc, char** argv, char** envp, Config& config,
                      common::Formatter& out) {
  Begin(config, Personality::kTini, MessageStyle::kTini, "tini");
  config.placement = Placement::kOwnGroup;
  config.job_control = JobControl::kTini;
  config.child_signals = ChildSignals::kInherited;
  config.exit_not_found = 127;
  config.exit_not_executable = 126;
  config.exit_exec_other = 1;
  config.exit_setup_failed = 1;
  const char* name = Basename(Arg0(argc, argv, "tini"));

  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    out.Printf("%s%s\n", kTiniVersion, kVersion);
    return Exit(0, STDOUT_FILENO);
  }
  OptionScanner scan(argc, argv, "p:hvwgle:s", nullptr, 0, Permute(envp));
  bool subreaper = false;
  bool group = false;
  unsigned verbosity = 1;
  for (;;) {
    const int opt = scan.Next(out);
    if (opt == OptionScanner::kEnd) break;
    const char* arg = scan.arg();
    switch (opt) {
      case 'h':
        return TiniUsage(out, name, 0);
      case 's':
        subreaper = true;
        break;
      case 'p':
        config.pdeathsig = TiniSignal(arg);
        if (config.pdeathsig == 0) return TiniFatal(out, 'p', arg);
        break;
      case 'v':
        ++verbosity;
        break;
      case 'w':
        config.warn_on_reap = true;
        break;
      case 'g':
        group = true;
        break;
      case 'e': {
        // strtol with the whole string consumed: " 7" and "+7" pass, and so
        // does "" (as 0); "7 " and "0x7" do not.
        const char* end = nullptr;
        const long code = CStrtol(arg, &end);
        if (*end != '\0' || code < 0 || code > 255) return TiniFatal(out, 'e', arg);
        SetExpectedExit(config, static_cast<int>(code));
        break;
      }
      case 'l':
        License(out);
        return Exit(0, STDOUT_FILENO);
      default:  // glibc's diagnostic is already in out
        return TiniUsage(out, name, 1);
    }
  }
  if (scan.OperandCount() == 0) return TiniUsage(out, name, 1);

  // Set at all, even empty, counts; TINI_VERBOSITY goes through atoi() into
  // an unsigned, so "-1" means everything and "abc" means fatal errors only.
  if (GetEnv(envp, "TINI_SUBREAPER") != nullptr) subreaper = true;
  if (GetEnv(envp, "TINI_KILL_PROCESS_GROUP") != nullptr) group = true;
  if (const char* v = GetEnv(envp, "TINI_VERBOSITY"); v != nullptr) {
    const char* end = nullptr;
    verbosity = static_cast<unsigned>(static_cast<int>(CStrtol(v, &end)));
  }
  config.verbosity = verbosity > 4 ? 4 : static_cast<int>(verbosity);
  config.subreaper = subreaper ? Subreaper::kAlways : Subreaper::kNever;
  config.forward_to_group = group;
  config.command = scan.Operands();
  return ParseResult{};
}

// dumb-init: options stop at the first operand ("+hvVcr:"); help, version
// and every error go to stderr; the environment is read after the command
// line. Its debug lines about the environment are left in out with run=true.
ParseResult ParseDumbInit(int argc, char** argv, char** envp, Config& config,
                          common::Formatter& out) {
  Begin(config, Personality::kDumbInit, MessageStyle::kDumbInit, "dumb-init");
  const char* argv0 = Arg0(argc, argv, "dumb-init");
  OptionScanner scan(argc, argv, "hvVcr:", kDumbInitLong,
                     sizeof kDumbInitLong / sizeof kDumbInitLong[0], /*permute=*/false);
  bool setsid = true;
  bool debug = false;
  uint32_t user_rewrote = 0;  // bit s: -r s:... was given
  for (;;) {
    const int opt = scan.Next(out);
    if (opt == OptionScanner::kEnd) break;
    switch (opt) {
      case 'h':
        out.Printf(kDumbInitVersion, kVersion);
        out.Printf(kDumbInitHelp, argv0);
        return Exit(0, STDERR_FILENO);
      case 'v':
        debug = true;
        break;
      case 'V':
        out.Printf(kDumbInitVersion, kVersion);
        return Exit(0, STDERR_FILENO);
      case 'c':
        setsid = false;
        break;
      case 'r': {
        int from = 0;
        int to = 0;
        if (!DumbInitRewrite(scan.arg(), from, to)) {
          out.Str(kDumbInitRewriteUsage);
          return Exit(1, STDERR_FILENO);
        }
        config.rewrite[from] = static_cast<uint8_t>(to);
        user_rewrote |= 1u << from;
        break;
      }
      default:  // glibc's diagnostic is already in out
        return Exit(1, STDERR_FILENO);
    }
  }
  if (scan.OperandCount() == 0) {
    out.Printf("Usage: %s [option] program [args]\nTry %s --help for full usage.\n", argv0,
               argv0);
    return Exit(1, STDERR_FILENO);
  }

  if (const char* e = GetEnv(envp, "DUMB_INIT_DEBUG"); e != nullptr && strcmp(e, "1") == 0) {
    debug = true;
    out.Str("[dumb-init] Running in debug mode.\n");
  }
  if (const char* e = GetEnv(envp, "DUMB_INIT_SETSID"); e != nullptr && strcmp(e, "0") == 0) {
    setsid = false;
    if (debug) out.Str("[dumb-init] Not running in setsid mode.\n");
  }

  if (setsid) {
    // The child leads a new session; signals go to its whole group, and
    // job-control signals stop that group (as SIGSTOP, unless rewritten).
    config.placement = Placement::kNewSession;
    constexpr int kJobControl[] = {SIGTSTP, SIGTTOU, SIGTTIN};
    for (int s : kJobControl) {
      if ((user_rewrote & (1u << s)) == 0) config.rewrite[s] = SIGSTOP;
    }
  } else {
    config.placement = Placement::kSameGroup;
  }
  config.forward_to_group = setsid;
  config.tty_handoff = setsid;
  config.term_group_on_exit = setsid;
  config.job_control = JobControl::kStopSelf;
  config.child_signals = ChildSignals::kReset;
  config.subreaper = Subreaper::kNever;
  config.chdir_root = true;
  config.verbosity = debug ? 3 : 0;  // dumb-init prints errors, or everything
  config.exit_not_found = 2;
  config.exit_not_executable = 2;
  config.exit_exec_other = 2;
  config.exit_setup_failed = 1;
  config.command = scan.Operands();
  return ParseResult{};
}

// catatonit: options permute (glibc getopt_long, "ghLPV" + --version); usage
// errors print the usage line; CATATONIT_LOG is refused before anything else.
ParseResult ParseCatatonit(int argc, char** argv, char** envp, Config& config,
                           common::Formatter& out) {
  Begin(config, Personality::kCatatonit, MessageStyle::kCatatonit, "catatonit");
  const bool debug = GetEnv(envp, "CATATONIT_DEBUG") != nullptr;  // any value
  if (GetEnv(envp, "CATATONIT_LOG") != nullptr) {
    return CatatonitError(out, "CATATONIT_LOG is reserved for future use", /*usage=*/false);
  }
  OptionScanner scan(argc, argv, "ghLPV", kCatatonitLong,
                     sizeof kCatatonitLong / sizeof kCatatonitLong[0], Permute(envp));
  bool pause = false;
  for (;;) {
    const int opt = scan.Next(out);
    if (opt == OptionScanner::kEnd) break;
    switch (opt) {
      case 'g':
        config.forward_to_group = true;
        break;
      case 'P':
        pause = true;
        break;
      case 'h':
        out.Str(kCatatonitUsage);
        out.Printf(kCatatonitHelp, kVersion);
        return Exit(0, STDERR_FILENO);
      case 'L':
        License(out);
        return Exit(0, STDOUT_FILENO);
      case 'V':
        // tini's wording on purpose: docker info parses "tini version X".
        out.Printf("tini version 0.1.7_catatonit - minipod-init %s\n", kVersion);
        return Exit(0, STDOUT_FILENO);
      default:  // glibc's diagnostic is already in out
        out.Str(kCatatonitUsage);
        return Exit(1, STDERR_FILENO);
    }
  }
  if (scan.OperandCount() == 0 && !pause) {
    return CatatonitError(out, "missing program name", /*usage=*/true);
  }
  config.placement = Placement::kOwnGroup;
  config.job_control = JobControl::kDropAll;
  config.child_signals = ChildSignals::kInherited;
  config.child_blocks_job_control = true;
  config.subreaper = Subreaper::kAlways;
  config.close_inherited_fds = true;
  config.listen_fds = true;
  config.verbosity = debug ? 3 : 0;  // catatonit shows errors only by default
  config.exit_not_found = 1;
  config.exit_not_executable = 1;
  config.exit_exec_other = 1;
  config.exit_setup_failed = 1;
  // -P ignores any operands.
  config.command = pause ? nullptr : scan.Operands();
  return ParseResult{};
}

// Kubernetes' pause: any argument equal to "-v" in any case prints the
// version; everything else is ignored. It never runs a command.
ParseResult ParsePause(int argc, char** argv, char** /*envp*/, Config& config,
                       common::Formatter& out) {
  Begin(config, Personality::kPause, MessageStyle::kPause, "pause");
  for (int i = 1; i < argc; ++i) {
    if (strlen(argv[i]) == 2 && common::EqualsIgnoreCase(argv[i], "-v", 2)) {
      out.Printf("pause.c 3.10 - minipod-init %s\n", kVersion);
      return Exit(0, STDOUT_FILENO);
    }
  }
  config.command = nullptr;
  config.pause_message = true;
  config.subreaper = Subreaper::kNever;
  config.verbosity = 1;
  config.exit_setup_failed = 1;
  return ParseResult{};
}

}  // namespace init
