// probe_orphans: an orphan storm. Makes COUNT processes that become orphans
// before they exit, in batches of at most BATCH: an intermediate forks the
// batch and exits, and each member waits for the intermediate's pipe to close
// (so it has been re-parented to the init) before it exits. Prints
// "orphans done COUNT", then exits CODE at once, or with --hold when SIGTERM
// arrives. Runs under the init as its command; glibc.
//
//   probe_orphans --count N [--batch B] [--exit CODE] [--hold] [--timeout S]
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/probes/probe_util.h"

namespace {

// The intermediate: fork the batch, then exit; its end of the pipe closes
// with it, which releases the (now orphaned) batch.
[[noreturn]] void Intermediate(int batch) {
  int p[2];
  if (pipe(p) != 0) _exit(3);
  for (int i = 0; i < batch; ++i) {
    const pid_t pid = fork();
    if (pid < 0) _exit(4);
    if (pid == 0) {
      close(p[1]);
      char c;
      while (read(p[0], &c, 1) < 0 && errno == EINTR) {
      }
      _exit(0);
    }
  }
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  int count = -1;
  int batch = 100;
  int exit_code = 0;
  bool hold = false;
  int timeout_s = 60;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (strcmp(a, "--hold") == 0) {
      hold = true;
      continue;
    }
    if (i + 1 >= argc) {
      dprintf(2, "probe_orphans: bad option '%s'\n", a);
      return probes::kUsageExit;
    }
    const int v = probes::ParseIntOrDie(argv[++i]);
    if (strcmp(a, "--count") == 0) {
      count = v;
    } else if (strcmp(a, "--batch") == 0) {
      batch = v;
    } else if (strcmp(a, "--exit") == 0) {
      exit_code = v;
    } else if (strcmp(a, "--timeout") == 0) {
      timeout_s = v;
    } else {
      dprintf(2, "probe_orphans: unknown option '%s'\n", a);
      return probes::kUsageExit;
    }
  }
  if (count < 0 || batch <= 0) {
    dprintf(2, "usage: probe_orphans --count N [--batch B] [--exit CODE] [--hold]\n");
    return probes::kUsageExit;
  }
  // Block TERM before the storm so a forwarded SIGTERM waits for --hold.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, nullptr);

  int made = 0;
  while (made < count) {
    const int n = count - made < batch ? count - made : batch;
    const pid_t pid = fork();
    if (pid < 0) {
      dprintf(2, "probe_orphans: fork: %s\n", strerror(errno));
      return 70;
    }
    if (pid == 0) Intermediate(n);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      dprintf(2, "probe_orphans: batch failed (status %#x)\n", status);
      return 71;
    }
    made += n;
  }
  probes::Line("orphans done %d", made);
  if (hold) {
    const struct timespec wait = {timeout_s, 0};
    if (sigtimedwait(&term, nullptr, &wait) != SIGTERM) {
      probes::Line("orphans timeout");
      return 99;
    }
    probes::Line("orphans TERM");
  }
  return exit_code;
}
