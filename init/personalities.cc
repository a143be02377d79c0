// The command lines of tini/docker-init 0.19, dumb-init 1.2.5, catatonit
// 0.1.7 and Kubernetes' pause, parsed into Config with each tool's options,
// environment variables, defaults, messages and exit codes. Pure (getpid()
// only, for the tools' "name (pid)" prefixes); builds for musl and glibc.
// Texts are terse paraphrases (the init has a size budget); lines that
// scripts may match (usage lines, errors, versions) are kept verbatim.
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "common/signal_set.h"
#include "init/option_scanner.h"
#include "init/options.h"
#include "init/texts.h"

namespace init {
namespace {

using common::Formatter;

ParseResult Exit(int code, int fd) { return ParseResult{false, code, fd}; }

// glibc's getopt permutes unless POSIXLY_CORRECT is set, whatever its value.
bool Permute(char** envp) { return GetEnv(envp, "POSIXLY_CORRECT") == nullptr; }

// What each tool does before its options change anything, applied by one
// function rather than four runs of stores (the init counts its bytes).
enum : uint8_t { kChdirRoot = 1, kCloseFds = 2, kListenPid = 4, kBlockJobControl = 8,
                 kPauseMessage = 16 };

struct Profile {
  Personality personality;
  MessageStyle style;
  Placement placement;
  JobControl job_control;
  ChildSignals child_signals;
  Subreaper subreaper;
  int8_t verbosity;
  uint8_t flags;
  int8_t exit_not_found;
  int8_t exit_not_executable;
  int8_t exit_exec_other;
  const char* name;  // as the tool names itself in its messages
};

// tini: its own group in the foreground; warns (runtime) when neither PID 1
// nor a subreaper; exec fails with 127 (ENOENT), 126 (EACCES), else 1.
constexpr Profile kTini = {Personality::kTini, MessageStyle::kTini, Placement::kOwnGroup,
                           JobControl::kTini, ChildSignals::kInherited, Subreaper::kNever,
                           1, 0, 127, 126, 1, "tini"};
// dumb-init, setsid mode; -c and DUMB_INIT_SETSID=0 change the placement.
constexpr Profile kDumbInit = {Personality::kDumbInit, MessageStyle::kDumbInit,
                               Placement::kNewSession, JobControl::kStopSelf,
                               ChildSignals::kReset, Subreaper::kNever,
                               0, kChdirRoot, 2, 2, 2, "dumb-init"};
// catatonit 0.1.7 (it does not chdir yet); errors only unless CATATONIT_DEBUG.
constexpr Profile kCatatonit = {Personality::kCatatonit, MessageStyle::kCatatonit,
                                Placement::kOwnGroup, JobControl::kDropAll,
                                ChildSignals::kInherited, Subreaper::kAlways,
                                0, kCloseFds | kListenPid | kBlockJobControl, 1, 1, 1,
                                "catatonit"};
constexpr Profile kPause = {Personality::kPause, MessageStyle::kPause, Placement::kOwnGroup,
                            JobControl::kDropAll, ChildSignals::kInherited, Subreaper::kNever,
                            1, kPauseMessage, 1, 1, 1, "pause"};

void Apply(Config& c, const Profile& p) {
  c.personality = p.personality;
  c.style = p.style;
  c.program_name = p.name;
  c.placement = p.placement;
  c.job_control = p.job_control;
  c.child_signals = p.child_signals;
  c.subreaper = p.subreaper;
  c.verbosity = p.verbosity;
  c.chdir_root = (p.flags & kChdirRoot) != 0;
  c.close_inherited_fds = (p.flags & kCloseFds) != 0;
  c.listen_fds = (p.flags & kListenPid) != 0;
  c.child_blocks_job_control = (p.flags & kBlockJobControl) != 0;
  c.pause_message = (p.flags & kPauseMessage) != 0;
  c.exit_not_found = p.exit_not_found;
  c.exit_not_executable = p.exit_not_executable;
  c.exit_exec_other = p.exit_exec_other;
  c.exit_setup_failed = 1;  // all four exit 1 when their own setup fails
  ResetRewrites(c);
}

// strtol(s, &end, 10) without errno or locale: blanks, a sign, digits;
// saturates at LONG_MIN/LONG_MAX. *end == s when there was no digit.
long CStrtol(const char* s, const char** end) {
  const char* p = s;
  while (*p == ' ' || (*p >= '\t' && *p <= '\r')) ++p;
  const bool negative = *p == '-';
  if (*p == '-' || *p == '+') ++p;
  *end = s;
  if (*p < '0' || *p > '9') return 0;
  unsigned long v = 0;
  // Below 2^60, v * 10 + 9 cannot wrap; past it the value only saturates.
  for (; *p >= '0' && *p <= '9'; ++p) v = v >> 60 ? 1UL << 63 : v * 10 + (*p - '0');
  *end = p;
  if (v > static_cast<unsigned long>(LONG_MAX)) return negative ? LONG_MIN : LONG_MAX;
  return negative ? -static_cast<long>(v) : static_cast<long>(v);
}

// tini -l and catatonit -L: this binary's license, not the tool's.
void License(Formatter& out) {
  PrintText(out, Text::kLicense, kVersion);
}

// --- tini 0.19 --------------------------------------------------------------

constexpr char kTiniVersion[] = "tini version 0.19.0 - minipod-init ";

ParseResult TiniUsage(Formatter& out, const char* argv0, int code) {
  const char* slash = common::FindChar(argv0, '/', /*last=*/true);
  const char* name = slash != nullptr ? slash + 1 : argv0;
  PrintText(out, Text::kTiniUsage, name, kTiniVersion, kVersion, name);
  return Exit(code, code == 0 ? STDOUT_FILENO : STDERR_FILENO);
}

ParseResult TiniFatal(Formatter& out, char option, const char* arg) {
  PrintText(out, Text::kTiniInvalidOptionArg, static_cast<int>(getpid()),
             option, arg);
  return Exit(1, STDERR_FILENO);
}

// tini's -p takes exactly "SIG" + a name from its table: case-sensitive, no
// numbers, and SIGSTKFLT, SIGIO, SIGPWR and real-time signals are missing.
int TiniSignal(const char* arg) {
  if (strncmp(arg, "SIG", 3) != 0) return 0;
  const int sig = common::ClassicSignalNumber(arg + 3, /*ignore_case=*/false);
  return sig == SIGSTKFLT || sig == SIGIO || sig == SIGPWR ? 0 : sig;
}

// --- dumb-init 1.2.5 --------------------------------------------------------

constexpr LongOption kDumbInitLong[] = {
    {"help", false, 'h'},    {"single-child", false, 'c'}, {"rewrite", true, 'r'},
    {"verbose", false, 'v'}, {"version", false, 'V'},
};

constexpr char kDumbInitVersion[] = "dumb-init v1.2.5 - minipod-init %s\n";

// sscanf(arg, "%d:%d") == 2 (each %d a strtol truncated to int; anything
// after the second number ignored) with 1 <= s <= 31 and 0 <= r <= 31.
bool DumbInitRewrite(const char* arg, int& from, int& to) {
  const char* end = nullptr;
  from = static_cast<int>(CStrtol(arg, &end));
  if (end == arg || *end != ':') return false;
  arg = end + 1;
  to = static_cast<int>(CStrtol(arg, &end));
  return end != arg && from >= 1 && from <= 31 && to >= 0 && to <= 31;
}

// --- catatonit 0.1.7 --------------------------------------------------------

constexpr LongOption kCatatonitLong[] = {{"version", false, 'V'}};

ParseResult CatatonitError(Formatter& out, const char* what, bool usage) {
  PrintText(out, Text::kCatatonitErrorLine, static_cast<int>(getpid()), what);
  if (usage) out.Str(GetText(Text::kCatatonitUsage));
  return Exit(1, STDERR_FILENO);
}

}  // namespace

// tini: options permute (glibc getopt, no long options); --version only as
// the sole argument; the environment is read after the command line, so
// TINI_VERBOSITY replaces any -v.
ParseResult ParseTini(int argc, char** argv, char** envp, Config& config,
                      common::Formatter& out) {
  Apply(config, kTini);
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
    char bad = 0;  // the option whose argument tini refuses
    switch (opt) {
      case 'h':
        return TiniUsage(out, argv[0], 0);
      case 's':
        subreaper = true;
        break;
      case 'p':
        config.pdeathsig = TiniSignal(arg);
        if (config.pdeathsig == 0) bad = 'p';
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
        if (*end != '\0' || code < 0 || code > 255) {
          bad = 'e';
        } else {
          SetExpectedExit(config, static_cast<int>(code));
        }
        break;
      }
      case 'l':
        License(out);
        return Exit(0, STDOUT_FILENO);
      default:  // glibc's diagnostic is already in out
        return TiniUsage(out, argv[0], 1);
    }
    if (bad != 0) return TiniFatal(out, bad, arg);
  }
  if (scan.OperandCount() == 0) return TiniUsage(out, argv[0], 1);

  // Set at all, even empty, counts; TINI_VERBOSITY goes through atoi() into
  // an unsigned, so "-1" means everything and "abc" means fatal errors only.
  if (GetEnv(envp, "TINI_SUBREAPER") != nullptr) subreaper = true;
  if (GetEnv(envp, "TINI_KILL_PROCESS_GROUP") != nullptr) group = true;
  if (const char* v = GetEnv(envp, "TINI_VERBOSITY"); v != nullptr) {
    const char* end = nullptr;
    verbosity = static_cast<unsigned>(static_cast<int>(CStrtol(v, &end)));
  }
  config.verbosity = verbosity > 4 ? 4 : static_cast<int>(verbosity);
  if (subreaper) config.subreaper = Subreaper::kAlways;
  config.forward_to_group = group;
  config.command = scan.Operands();
  return ParseResult{};
}

// dumb-init: options stop at the first operand ("+hvVcr:"); help, version
// and every error go to stderr; the environment is read after the command
// line. Its debug lines about the environment are left in out with run=true.
ParseResult ParseDumbInit(int argc, char** argv, char** envp, Config& config,
                          common::Formatter& out) {
  Apply(config, kDumbInit);
  OptionScanner scan(argc, argv, "hvVcr:", kDumbInitLong,
                     sizeof kDumbInitLong / sizeof kDumbInitLong[0], /*permute=*/false);
  bool setsid = true;
  uint32_t user_rewrote = 0;  // bit s: -r s:... was given
  for (;;) {
    const int opt = scan.Next(out);
    if (opt == OptionScanner::kEnd) break;
    switch (opt) {
      case 'h':
      case 'V':
        out.Printf(kDumbInitVersion, kVersion);
        if (opt == 'h') PrintText(out, Text::kDumbInitHelp, argv[0]);
        return Exit(0, STDERR_FILENO);
      case 'v':
        config.verbosity = 3;
        break;
      case 'c':
        setsid = false;
        break;
      case 'r': {
        int from = 0;
        int to = 0;
        if (!DumbInitRewrite(scan.arg(), from, to)) {
          out.Str(GetText(Text::kDumbInitRewriteUsage));
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
    PrintText(out, Text::kDumbInitShortUsage, argv[0],
               argv[0]);
    return Exit(1, STDERR_FILENO);
  }

  // dumb-init prints errors only, or (debug) everything.
  if (const char* e = GetEnv(envp, "DUMB_INIT_DEBUG"); e != nullptr && strcmp(e, "1") == 0) {
    config.verbosity = 3;
    out.Str(GetText(Text::kDumbInitRunningIn));
  }
  if (const char* e = GetEnv(envp, "DUMB_INIT_SETSID"); e != nullptr && strcmp(e, "0") == 0) {
    setsid = false;
    if (config.verbosity != 0) out.Str(GetText(Text::kDumbInitNotRunning));
  }

  if (setsid) {
    // Job-control signals stop the child's whole group, as SIGSTOP, unless
    // the user rewrote them (even to themselves).
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
  config.command = scan.Operands();
  return ParseResult{};
}

// catatonit: options permute (glibc getopt_long, "ghLPV" + --version); usage
// errors print the usage line; CATATONIT_LOG is refused before anything else.
ParseResult ParseCatatonit(int argc, char** argv, char** envp, Config& config,
                           common::Formatter& out) {
  Apply(config, kCatatonit);
  if (GetEnv(envp, "CATATONIT_DEBUG") != nullptr) config.verbosity = 3;  // any value
  if (GetEnv(envp, "CATATONIT_LOG") != nullptr) {
    return CatatonitError(out, "CATATONIT_LOG is reserved for future use", /*usage=*/false);
  }
  OptionScanner scan(argc, argv, "ghLPV", kCatatonitLong, 1, Permute(envp));
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
        out.Str(GetText(Text::kCatatonitUsage));
        out.Str(GetText(Text::kCatatonitHelp));
        return Exit(0, STDERR_FILENO);
      case 'L':
        License(out);
        return Exit(0, STDOUT_FILENO);
      case 'V':
        // tini's wording on purpose: docker info parses "tini version X".
        PrintText(out, Text::kCatatonitVersion, kVersion);
        return Exit(0, STDOUT_FILENO);
      default:  // glibc's diagnostic is already in out
        out.Str(GetText(Text::kCatatonitUsage));
        return Exit(1, STDERR_FILENO);
    }
  }
  if (scan.OperandCount() == 0 && !pause) {
    return CatatonitError(out, "missing program name", /*usage=*/true);
  }
  config.command = pause ? nullptr : scan.Operands();  // -P ignores operands
  return ParseResult{};
}

// Kubernetes' pause: any argument equal to "-v" in any case prints the
// version; everything else is ignored. It never runs a command.
ParseResult ParsePause(int argc, char** argv, char** /*envp*/, Config& config,
                       common::Formatter& out) {
  Apply(config, kPause);
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (a[0] == '-' && (a[1] | 0x20) == 'v' && a[2] == '\0') {
      PrintText(out, Text::kPauseVersion, kVersion);
      return Exit(0, STDOUT_FILENO);
    }
  }
  config.command = nullptr;
  return ParseResult{};
}

}  // namespace init
