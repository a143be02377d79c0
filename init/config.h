// The init's whole behaviour as data: every personality's command line is
// parsed into one Config, and the event loop reads nothing else. Pure; builds
// for musl (the static init) and glibc (the unit tests).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace init {

// Chosen by argv[0]'s basename.
enum class Personality : uint8_t { kMinipod, kTini, kDumbInit, kCatatonit, kPause };

enum class RestartPolicy : uint8_t { kNever, kOnFailure, kAlways };

// Where the child goes relative to the init's session and process group.
enum class Placement : uint8_t {
  kOwnGroup,    // setpgid(0,0) + tcsetpgrp on the terminal (tini, catatonit)
  kNewSession,  // setsid() + TIOCSCTTY (dumb-init default, --setsid)
  kSameGroup,   // nothing (dumb-init -c)
};

// What SIGTSTP/SIGTTIN/SIGTTOU received by the init do.
enum class JobControl : uint8_t {
  kTini,       // TSTP forwarded, TTIN/TTOU dropped
  kDropAll,    // all three dropped (catatonit)
  kStopSelf,   // forwarded after rewriting, then the init stops itself (dumb-init)
};

// The signal state the command starts with.
enum class ChildSignals : uint8_t {
  kInherited,  // the mask and dispositions the init was started with (tini)
  kReset,      // empty mask, signals 1..31 at SIG_DFL (dumb-init)
};

enum class Subreaper : uint8_t {
  kNever,
  kAlways,
  kWhenNotPid1,  // minipod default: become one, with a warning
};

// How log and error lines look, so each personality speaks like its tool.
enum class MessageStyle : uint8_t { kMinipod, kTini, kDumbInit, kCatatonit, kPause };

inline constexpr int kMaxSignalNumber = 64;
inline constexpr int64_t kNoGrace = -1;

struct Config {
  Personality personality = Personality::kMinipod;
  MessageStyle style = MessageStyle::kMinipod;
  const char* program_name = "minipod-init";  // as shown in messages

  // The command, NULL-terminated; nullptr means pause mode.
  char** command = nullptr;

  // Signal forwarding.
  bool forward_to_group = false;  // kill(-pgid) instead of kill(pid)
  // rewrite[s] is what signal s becomes before forwarding; 0 drops it.
  uint8_t rewrite[kMaxSignalNumber + 1] = {};
  JobControl job_control = JobControl::kTini;
  Placement placement = Placement::kOwnGroup;
  ChildSignals child_signals = ChildSignals::kInherited;

  // Exit codes of the main child that are reported as 0 (bitset of 256).
  uint8_t expect_exit[32] = {};

  Subreaper subreaper = Subreaper::kWhenNotPid1;
  int pdeathsig = 0;     // 0: none
  int verbosity = 1;     // 0 errors, 1 warnings, 2 info, 3 debug, 4 trace
  bool warn_on_reap = false;  // tini -w: warn for every orphan reaped

  // Shutdown: SIGKILL the child's group this long after SIGTERM/SIGINT was
  // forwarded, and wait this long for descendants after the child exits.
  int64_t grace_ms = kNoGrace;
  // --wait-all: when the main child ends, signal nothing and wait until no
  // descendant is left (waitpid's ECHILD); a SIGTERM/SIGINT then goes to
  // every one of them. The status is still the main child's.
  bool wait_all = false;
  // --term-delay: a signal forwarded as SIGTERM is held this long first; a
  // second one, or a SIGINT, releases it at once. 0: none.
  int64_t term_delay_ms = 0;
  // dumb-init (setsid mode) sends SIGTERM, rewritten, to the child's group
  // when the child exits.
  bool term_group_on_exit = false;

  // Supervision.
  RestartPolicy restart = RestartPolicy::kNever;
  int64_t backoff_initial_ms = 10'000;
  int64_t backoff_max_ms = 300'000;
  int64_t backoff_reset_ms = 600'000;

  // Per-personality details.
  bool chdir_root = false;          // dumb-init: the init itself chdirs to /
  bool tty_handoff = false;         // dumb-init: TIOCNOTTY before spawning
  bool close_inherited_fds = false; // catatonit: close the init's own fds >= 3
  bool listen_fds = false;          // rewrite LISTEN_PID (native, catatonit)
  // Native --status-fd: one line, "exit N" or "signal N", for the main
  // child's last end; -1: none.
  int status_fd = -1;
  bool pause_message = false;       // pause: "Shutting down, got signal: X"

  // Exit codes when the command cannot be run.
  int exit_not_found = 127;
  int exit_not_executable = 126;
  int exit_setup_failed = 125;  // fork or another init failure before exec

  // execve failed with an errno other than ENOENT (exit_not_found) and
  // EACCES (exit_not_executable): tini exits 1. -1: exit_not_executable.
  int exit_exec_other = -1;
  // catatonit: the command starts with SIGTSTP, SIGTTIN and SIGTTOU added to
  // the inherited mask (catatonit blocks them for its tcsetpgrp and execs).
  bool child_blocks_job_control = false;
};

inline void SetExpectedExit(Config& c, int code) {
  c.expect_exit[(code >> 3) & 31] = static_cast<uint8_t>(c.expect_exit[(code >> 3) & 31] | (1u << (code & 7)));
}
inline bool IsExpectedExit(const Config& c, int code) {
  if (code < 0 || code > 255) return false;
  return (c.expect_exit[code >> 3] >> (code & 7)) & 1u;
}

// Identity rewriting: every signal forwards as itself.
inline void ResetRewrites(Config& c) {
  for (int s = 0; s <= kMaxSignalNumber; ++s) c.rewrite[s] = static_cast<uint8_t>(s);
}

}  // namespace init
