// probe_sigrec: records every signal it receives, one line each on stdout
// ("<tag> USR1"), and exits or dies on the ones it is told to. Optionally
// forks a grandchild recorder first (--fork), to see what reaches a process
// group, and can count its own runs in a file for the restart tests.
// Runs under the init as its command; glibc; single-threaded.
//
//   probe_sigrec [--tag T] [--exit-on SIG:CODE]... [--die-on SIG]...
//                [--ignore SIG]... [--exit CODE | --raise SIG]
//                [--counter FILE [--exit-seq C1,C2,...]] [--sleep-ms MS]
//                [--timeout SECONDS]
//                [--fork GRANDCHILD-OPTIONS...]
//
// Lines: "<tag> run N" (with --counter), "<tag> ready", "<tag> <SIG>" for
// each signal, "<tag> exit CODE" before a voluntary exit (after sleeping
// --sleep-ms, so a slow exit can be simulated), "<tag> timeout"
// (exit 99) when nothing ends it within the timeout (30 s by default).
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <initializer_list>

#include "tests/probes/probe_util.h"

namespace {

using probes::Line;

struct Options {
  const char* tag = "child";
  int exit_on_code[65];  // -1: not an exit signal
  bool die_on[65] = {};
  bool ignore[65] = {};
  int exit_code = -1;
  int raise_sig = 0;
  const char* counter = nullptr;
  const char* exit_seq = nullptr;
  int timeout_s = 30;
  int sleep_ms = 0;  // before any exit (--exit, --exit-seq, --exit-on)
  char** fork_args = nullptr;  // grandchild options, NULL-terminated
  int fork_argc = 0;
};

Options Parse(int argc, char** argv, const char* default_tag) {
  Options o;
  o.tag = default_tag;
  for (int& c : o.exit_on_code) c = -1;
  for (int i = 0; i < argc; ++i) {
    const char* a = argv[i];
    const bool has_value = i + 1 < argc;
    if (strcmp(a, "--fork") == 0) {
      o.fork_args = argv + i + 1;
      o.fork_argc = argc - i - 1;
      break;
    }
    if (!has_value) {
      dprintf(2, "probe_sigrec: bad or incomplete option '%s'\n", a);
      exit(probes::kUsageExit);
    }
    const char* v = argv[++i];
    if (strcmp(a, "--tag") == 0) {
      o.tag = v;
    } else if (strcmp(a, "--exit-on") == 0) {
      const char* colon = strchr(v, ':');
      if (colon == nullptr) {
        dprintf(2, "probe_sigrec: --exit-on wants SIG:CODE\n");
        exit(probes::kUsageExit);
      }
      char name[32] = {};
      memcpy(name, v, static_cast<size_t>(colon - v) < 31 ? static_cast<size_t>(colon - v) : 31);
      o.exit_on_code[probes::ParseSignalOrDie(name)] = probes::ParseIntOrDie(colon + 1);
    } else if (strcmp(a, "--die-on") == 0) {
      o.die_on[probes::ParseSignalOrDie(v)] = true;
    } else if (strcmp(a, "--ignore") == 0) {
      o.ignore[probes::ParseSignalOrDie(v)] = true;
    } else if (strcmp(a, "--exit") == 0) {
      o.exit_code = probes::ParseIntOrDie(v);
    } else if (strcmp(a, "--raise") == 0) {
      o.raise_sig = probes::ParseSignalOrDie(v);
    } else if (strcmp(a, "--counter") == 0) {
      o.counter = v;
    } else if (strcmp(a, "--exit-seq") == 0) {
      o.exit_seq = v;
    } else if (strcmp(a, "--timeout") == 0) {
      o.timeout_s = probes::ParseIntOrDie(v);
    } else if (strcmp(a, "--sleep-ms") == 0) {
      o.sleep_ms = probes::ParseIntOrDie(v);
    } else {
      dprintf(2, "probe_sigrec: unknown option '%s'\n", a);
      exit(probes::kUsageExit);
    }
  }
  return o;
}

// Reads the run number from the file, stores the next one, returns it.
int NextRun(const char* path) {
  int run = 0;
  if (FILE* f = fopen(path, "r")) {
    if (fscanf(f, "%d", &run) != 1) run = 0;
    fclose(f);
  }
  FILE* f = fopen(path, "w");
  if (f == nullptr) {
    dprintf(2, "probe_sigrec: cannot write %s: %s\n", path, strerror(errno));
    exit(probes::kUsageExit);
  }
  fprintf(f, "%d\n", run + 1);
  fclose(f);
  return run;
}

// The run-th code of "1,2,0"; the last one repeats.
int SeqCode(const char* seq, int run) {
  int code = 0;
  const char* p = seq;
  for (int i = 0; i <= run; ++i) {
    code = atoi(p);
    const char* comma = strchr(p, ',');
    if (comma == nullptr) break;
    p = comma + 1;
  }
  return code;
}

[[noreturn]] void Exit(const Options& o, int code) {
  if (o.sleep_ms > 0) {
    const struct timespec d = {o.sleep_ms / 1000, (o.sleep_ms % 1000) * 1'000'000L};
    nanosleep(&d, nullptr);
  }
  Line("%s exit %d", o.tag, code);
  _exit(code);
}

// Signal masks by kernel number, all 64 bits: glibc's sigset functions
// refuse 32 and 33 (its own), and the tests send every number.
using Mask = uint64_t;
constexpr Mask Bit(int sig) { return Mask{1} << (sig - 1); }

void SetMask(Mask m) { syscall(SYS_rt_sigprocmask, SIG_SETMASK, &m, nullptr, sizeof m); }

int WaitSignal(Mask m, const struct timespec* timeout) {
  return static_cast<int>(syscall(SYS_rt_sigtimedwait, &m, nullptr, timeout, sizeof m));
}

[[noreturn]] void Run(const Options& o, int ready_fd) {
  // Everything we can catch arrives through rt_sigtimedwait, fault signals
  // included (a real fault still kills: the kernel unblocks it), except the
  // ones we were told to ignore. Whatever is not waited for is unblocked
  // (the inherited mask may block it).
  Mask wait_set = ~Mask{0} & ~Bit(SIGKILL) & ~Bit(SIGSTOP);
  for (int s = 1; s <= 64; ++s) {
    if (o.ignore[s]) {
      wait_set &= ~Bit(s);
      signal(s, SIG_IGN);
    }
  }
  if (o.fork_args != nullptr) {
    // The grandchild's exit is not what the tests look for.
    wait_set &= ~Bit(SIGCHLD);
    signal(SIGCHLD, SIG_DFL);
  }
  SetMask(wait_set);

  int exit_code = o.exit_code;
  if (o.counter != nullptr) {
    const int run = NextRun(o.counter);
    Line("%s run %d", o.tag, run);
    if (o.exit_seq != nullptr) exit_code = SeqCode(o.exit_seq, run);
  }

  if (o.fork_args != nullptr) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) _exit(probes::kUsageExit);
    const pid_t pid = fork();
    if (pid < 0) _exit(probes::kUsageExit);
    if (pid == 0) {
      close(p[0]);
      if (ready_fd >= 0) close(ready_fd);
      Run(Parse(o.fork_argc, o.fork_args, "grandchild"), p[1]);
    }
    close(p[1]);
    struct pollfd pfd = {p[0], POLLIN, 0};
    char c;
    if (poll(&pfd, 1, 10'000) != 1 || read(p[0], &c, 1) != 1) {
      Line("%s grandchild-not-ready", o.tag);
      _exit(98);
    }
    close(p[0]);
  }

  Line("%s ready", o.tag);
  if (ready_fd >= 0) {
    (void)!write(ready_fd, "r", 1);
    close(ready_fd);
  }
  if (o.raise_sig != 0) probes::DieOf(o.raise_sig);
  if (exit_code >= 0) Exit(o, exit_code);

  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    const long elapsed_ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1'000'000;
    const long left_ms = o.timeout_s * 1000L - elapsed_ms;
    if (left_ms <= 0) {
      Line("%s timeout", o.tag);
      _exit(99);
    }
    const struct timespec wait = {left_ms / 1000, (left_ms % 1000) * 1'000'000};
    const int sig = WaitSignal(wait_set, &wait);
    if (sig < 0) continue;  // EAGAIN (timeout, checked above) or EINTR
    char name[16];
    Line("%s %s", o.tag, probes::SignalName(sig, name));
    if (o.exit_on_code[sig] >= 0) Exit(o, o.exit_on_code[sig]);
    if (o.die_on[sig]) probes::DieOf(sig);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Run(Parse(argc - 1, argv + 1, "child"), -1);
}
