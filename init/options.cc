// minipod-init's own command line, the argv[0] dispatch to the personalities,
// and helpers they share. Pure; builds for musl and glibc.
#include "init/options.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/signal_set.h"
#include "init/option_scanner.h"
#include "init/texts.h"

namespace init {
namespace {

const char* Basename(const char* path) {
  const char* slash = common::FindChar(path, '/', /*last=*/true);
  return slash != nullptr ? slash + 1 : path;
}

enum LongId : int {
  kOptSetsid = 1000,
  kOptGrace,
  kOptRestart,
  kOptBackoffInitial,
  kOptBackoffMax,
  kOptBackoffReset,
  kOptStatusFd,
  kOptWaitAll,
  kOptTermDelay,
};

constexpr LongOption kMinipodLong[] = {
    {"process-group", false, 'g'},
    {"subreaper", false, 's'},
    {"expect-exit", true, 'e'},
    {"rewrite", true, 'r'},
    {"pdeathsig", true, 'p'},
    {"verbose", false, 'v'},
    {"quiet", false, 'q'},
    {"help", false, 'h'},
    {"version", false, 'V'},
    {"setsid", false, kOptSetsid},
    {"grace", true, kOptGrace},
    {"restart", true, kOptRestart},
    {"backoff-initial", true, kOptBackoffInitial},
    {"backoff-max", true, kOptBackoffMax},
    {"backoff-reset", true, kOptBackoffReset},
    {"status-fd", true, kOptStatusFd},
    {"wait-all", false, kOptWaitAll},
    {"term-delay", true, kOptTermDelay},
};

ParseResult Fail(common::Formatter& out, const char* prog, int code) {
  PrintText(out, Text::kTryHelpForMore, prog);
  return ParseResult{false, code, STDERR_FILENO};
}

// "minipod-init: invalid duration 'soon' for --grace", then the hint.
ParseResult Invalid(common::Formatter& out, const char* prog, const char* what,
                    const char* arg, int option_id) {
  const char* option = "?";
  for (const LongOption& o : kMinipodLong) {
    if (o.id == option_id) option = o.name;
  }
  PrintText(out, Text::kInvalidFor, prog, what, arg, option);
  return Fail(out, prog, kExitUsage);
}

// "FROM:TO" with signal names or numbers; TO may be 0 (drop).
bool ParseRewrite(const char* s, int& from, int& to) {
  const char* colon = common::FindChar(s, ':');
  if (colon == nullptr || colon == s) return false;
  char name[32];
  const size_t n = static_cast<size_t>(colon - s);
  if (n >= sizeof name) return false;
  memcpy(name, s, n);
  name[n] = '\0';
  from = common::ParseSignal(name);
  if (from == 0) return false;
  if (strcmp(colon + 1, "0") == 0) {
    to = 0;
    return true;
  }
  to = common::ParseSignal(colon + 1);
  return to != 0;
}

}  // namespace

Personality PersonalityFromArgv0(const char* argv0) {
  if (argv0 == nullptr) return Personality::kMinipod;
  const char* base = Basename(argv0);
  if (strcmp(base, "tini") == 0 || strcmp(base, "tini-static") == 0 ||
      strcmp(base, "docker-init") == 0) {
    return Personality::kTini;
  }
  if (strcmp(base, "dumb-init") == 0) return Personality::kDumbInit;
  if (strcmp(base, "catatonit") == 0) return Personality::kCatatonit;
  if (strcmp(base, "pause") == 0) return Personality::kPause;
  return Personality::kMinipod;
}

const char* GetEnv(char** envp, const char* name) {
  if (envp == nullptr) return nullptr;
  const size_t len = strlen(name);
  for (char** e = envp; *e != nullptr; ++e) {
    if (strncmp(*e, name, len) == 0 && (*e)[len] == '=') return *e + len + 1;
  }
  return nullptr;
}

ParseResult ParseCommandLine(int argc, char** argv, char** envp, Config& config,
                             common::Formatter& out) {
  ResetRewrites(config);
  ParseResult parsed;
  switch (PersonalityFromArgv0(argc > 0 ? argv[0] : nullptr)) {
    case Personality::kTini:
      parsed = ParseTini(argc, argv, envp, config, out);
      break;
    case Personality::kDumbInit:
      parsed = ParseDumbInit(argc, argv, envp, config, out);
      break;
    case Personality::kCatatonit:
      parsed = ParseCatatonit(argc, argv, envp, config, out);
      break;
    case Personality::kPause:
      parsed = ParsePause(argc, argv, envp, config, out);
      break;
    case Personality::kMinipod:
      return ParseMinipod(argc, argv, envp, config, out);
  }
  if (!parsed.run) return parsed;
  // The personalities keep their tools' command lines; minipod's additions
  // come from the environment.
  if (const char* v = GetEnv(envp, "MINIPOD_WAIT_ALL"); v != nullptr && strcmp(v, "1") == 0) {
    config.wait_all = true;
  }
  if (const char* v = GetEnv(envp, "MINIPOD_TERM_DELAY"); v != nullptr) {
    config.term_delay_ms = common::ParseDurationMs(v);
    if (config.term_delay_ms < 0) {
      PrintText(out, Text::kInvalidTermDelayEnv, config.program_name, v);
      return ParseResult{false, kExitUsage, STDERR_FILENO};
    }
  }
  return parsed;
}

ParseResult ParseMinipod(int argc, char** argv, char** /*envp*/, Config& config,
                         common::Formatter& out) {
  config.personality = Personality::kMinipod;
  config.style = MessageStyle::kMinipod;
  // Socket activation passes through to the command, as catatonit does.
  config.listen_fds = true;
  ResetRewrites(config);
  const char* prog = argc > 0 ? Basename(argv[0]) : "minipod-init";
  config.program_name = prog;

  // Options end at the first operand, so "minipod-init ls -l" runs "ls -l".
  OptionScanner scan(argc, argv, "gse:r:p:vqhV", kMinipodLong,
                     sizeof kMinipodLong / sizeof kMinipodLong[0], /*permute=*/false);
  bool setsid = false;
  bool backoff_given = false;
  for (;;) {
    const int opt = scan.Next(out);
    if (opt == OptionScanner::kEnd) break;
    if (opt == OptionScanner::kError) return Fail(out, prog, kExitUsage);
    const char* arg = scan.arg();
    switch (opt) {
      case 'g':
        config.forward_to_group = true;
        break;
      case 's':
        config.subreaper = Subreaper::kAlways;
        break;
      case 'e': {
        const int code = common::ParseSmallUnsigned(arg);
        if (code < 0 || code > 255) {
          return Invalid(out, prog, "exit code (0-255)", arg, opt);
        }
        SetExpectedExit(config, code);
        break;
      }
      case 'r': {
        int from = 0;
        int to = 0;
        if (!ParseRewrite(arg, from, to)) {
          return Invalid(out, prog, "FROM:TO", arg, opt);
        }
        config.rewrite[from] = static_cast<uint8_t>(to);
        break;
      }
      case 'p': {
        const int sig = common::ParseSignal(arg);
        if (sig == 0) {
          return Invalid(out, prog, "signal", arg, opt);
        }
        config.pdeathsig = sig;
        break;
      }
      case 'v':
        if (config.verbosity < 4) ++config.verbosity;
        break;
      case 'q':
        config.verbosity = 0;
        break;
      case 'h':
        PrintText(out, Text::kMinipodUsage, prog);
        return ParseResult{false, 0, STDOUT_FILENO};
      case 'V':
        PrintText(out, Text::kMinipodVersion, kVersion);
        return ParseResult{false, 0, STDOUT_FILENO};
      case kOptSetsid:
        setsid = true;
        break;
      case kOptWaitAll:
        config.wait_all = true;
        break;
      case kOptGrace:
      case kOptTermDelay:
      case kOptBackoffInitial:
      case kOptBackoffMax:
      case kOptBackoffReset: {
        const int64_t ms = common::ParseDurationMs(arg);
        if (ms < 0) {
          return Invalid(out, prog, "duration", arg, opt);
        }
        if (opt == kOptGrace) config.grace_ms = ms;
        if (opt == kOptTermDelay) config.term_delay_ms = ms;
        if (opt == kOptBackoffInitial) config.backoff_initial_ms = ms;
        if (opt == kOptBackoffMax) config.backoff_max_ms = ms;
        if (opt == kOptBackoffReset) config.backoff_reset_ms = ms;
        backoff_given = backoff_given || (opt != kOptGrace && opt != kOptTermDelay);
        break;
      }
      case kOptStatusFd:
        config.status_fd = common::ParseSmallUnsigned(arg);
        if (config.status_fd < 0) return Invalid(out, prog, "file descriptor", arg, opt);
        break;
      case kOptRestart:
        if (strcmp(arg, "always") == 0) {
          config.restart = RestartPolicy::kAlways;
        } else if (strcmp(arg, "on-failure") == 0 || strcmp(arg, "onfailure") == 0) {
          config.restart = RestartPolicy::kOnFailure;
        } else if (strcmp(arg, "never") == 0) {
          config.restart = RestartPolicy::kNever;
        } else {
          return Invalid(out, prog, "policy", arg, opt);
        }
        break;
      default:
        return Fail(out, prog, kExitUsage);
    }
  }
  if (config.backoff_max_ms < config.backoff_initial_ms) {
    PrintText(out, Text::kBackoffMaxIsShorter, prog);
    return Fail(out, prog, kExitUsage);
  }
  if (setsid) {
    // dumb-init's model: a new session, signals to the whole group, and
    // job-control signals stop the group (as SIGSTOP) and then the init.
    config.placement = Placement::kNewSession;
    config.forward_to_group = true;
    config.job_control = JobControl::kStopSelf;
    constexpr int kJobControl[] = {SIGTSTP, SIGTTIN, SIGTTOU};
    for (int s : kJobControl) {
      if (config.rewrite[s] == s) config.rewrite[s] = SIGSTOP;
    }
  }
  if (scan.OperandCount() == 0) {
    if (config.restart != RestartPolicy::kNever || backoff_given) {
      PrintText(out, Text::kRestartAndBackoffNeed, prog);
      return Fail(out, prog, kExitUsage);
    }
    config.command = nullptr;  // pause mode
  } else {
    config.command = scan.Operands();
  }
  return ParseResult{};
}

}  // namespace init
