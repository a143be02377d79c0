// sigping: signal-forwarding latency through an init. The sender spawns
// `CMD...` (for example `unshare --pid --fork INIT -- sigping child FIFO`),
// finds the process to signal DEPTH generations below it (0: CMD itself,
// 1: its child, the init under unshare --fork), and COUNT times sends it
// SIGUSR1 and waits for the child's reply. The child takes SIGUSR1 with
// sigtimedwait() and writes the CLOCK_MONOTONIC time it got it into FIFO; the
// latency is that time minus the time read just before kill(). The monotonic
// clock is system-wide, so the two processes' readings compare directly.
//
// usage: sigping send COUNT DEPTH FIFO -- CMD [ARGS...]
//        sigping child FIFO
// output of send (stdout, TSV): median_us p10_us p90_us mean_us min_us count;
// with SIGPING_RAW=FILE in the environment, each latency in ns is also
// appended to FILE, one per line, so that a caller can pool several runs.
// exit: 0; 3 if a signal never arrived or the command misbehaved; 2 on usage.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static int64_t NowNs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int Child(const char* fifo) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  const int fd = open(fifo, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    perror("sigping child: open fifo");
    return 2;
  }
  int64_t stamp = 0;  // 0 means "ready"
  if (write(fd, &stamp, sizeof stamp) != sizeof stamp) return 2;
  const struct timespec limit = {30, 0};
  for (;;) {
    const int sig = sigtimedwait(&set, NULL, &limit);
    if (sig == SIGUSR1) {
      stamp = NowNs();
      if (write(fd, &stamp, sizeof stamp) != sizeof stamp) return 2;
    } else if (sig == SIGTERM || sig == SIGINT) {
      return 0;
    } else if (sig < 0 && errno == EINTR) {
      continue;
    } else {
      return 4;  // nothing for 30 s: the sender is gone
    }
  }
}

// Reads one 8-byte stamp within timeout_ms; 0 on success.
static int ReadStamp(int fd, int timeout_ms, int64_t* stamp) {
  struct pollfd pfd = {fd, POLLIN, 0};
  if (poll(&pfd, 1, timeout_ms) != 1) return -1;
  return read(fd, stamp, sizeof *stamp) == sizeof *stamp ? 0 : -1;
}

// The first child of pid, from /proc/PID/task/PID/children; -1 if none.
static pid_t FirstChild(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
  FILE* f = fopen(path, "r");
  if (f == NULL) return -1;
  int child = -1;
  if (fscanf(f, "%d", &child) != 1) child = -1;
  fclose(f);
  return child;
}

// Waits up to timeout_ms for pid to exit; 0 if it did.
static int WaitBounded(pid_t pid, int timeout_ms) {
  const int64_t end = NowNs() + (int64_t)timeout_ms * 1000000;
  while (NowNs() < end) {
    const pid_t r = waitpid(pid, NULL, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return 0;
    const struct timespec pause = {0, 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  return -1;
}

static int CompareI64(const void* a, const void* b) {
  const int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

static double PercentileUs(const int64_t* sorted, int n, double p) {
  const double pos = p * (n - 1);
  const int lo = (int)pos;
  const int hi = lo + 1 < n ? lo + 1 : lo;
  return ((double)sorted[lo] + (double)(sorted[hi] - sorted[lo]) * (pos - lo)) / 1e3;
}

static int Send(int count, int depth, const char* fifo, char** cmd) {
  if (mkfifo(fifo, 0600) < 0 && errno != EEXIST) {
    perror("sigping: mkfifo");
    return 2;
  }
  // O_RDWR: the open neither blocks nor sees EOF before the child opens it.
  const int fd = open(fifo, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    perror("sigping: open fifo");
    return 2;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  pid_t top;
  int err = posix_spawnp(&top, cmd[0], &fa, NULL, cmd, environ);
  if (err != 0) {
    fprintf(stderr, "sigping: spawn %s: %s\n", cmd[0], strerror(err));
    return 2;
  }
  int rc = 0;
  pid_t target = top;
  int64_t stamp;
  int64_t* lat = calloc((size_t)count, sizeof *lat);
  if (ReadStamp(fd, 10000, &stamp) != 0) {
    fprintf(stderr, "sigping: the child never reported ready\n");
    rc = 3;
    goto out;
  }
  for (int d = 0; d < depth; ++d) target = FirstChild(target);
  if (target <= 0) {
    fprintf(stderr, "sigping: no process %d generations below %d\n", depth, (int)top);
    rc = 3;
    goto out;
  }
  for (int i = 0; i < count; ++i) {
    const struct timespec gap = {0, 500 * 1000};  // let the init settle back to sleep
    nanosleep(&gap, NULL);
    const int64_t t0 = NowNs();
    if (kill(target, SIGUSR1) < 0) {
      perror("sigping: kill");
      rc = 3;
      goto out;
    }
    if (ReadStamp(fd, 2000, &stamp) != 0) {
      fprintf(stderr, "sigping: SIGUSR1 %d did not reach the child within 2 s\n", i + 1);
      rc = 3;
      goto out;
    }
    lat[i] = stamp - t0;
  }
  const char* raw_path = getenv("SIGPING_RAW");
  if (raw_path != NULL) {
    FILE* raw = fopen(raw_path, "a");
    if (raw == NULL) {
      perror("sigping: SIGPING_RAW");
      rc = 2;
      goto out;
    }
    for (int i = 0; i < count; ++i) fprintf(raw, "%lld\n", (long long)lat[i]);
    fclose(raw);
  }
  qsort(lat, (size_t)count, sizeof *lat, CompareI64);
  double sum = 0;
  for (int i = 0; i < count; ++i) sum += (double)lat[i];
  printf("%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\n", PercentileUs(lat, count, 0.5),
         PercentileUs(lat, count, 0.1), PercentileUs(lat, count, 0.9), sum / count / 1e3,
         (double)lat[0] / 1e3, count);
out:
  // Ask politely (the init forwards SIGTERM), then make sure: SIGKILL to a
  // PID 1 takes its whole pid namespace down.
  if (target > 0) kill(target, SIGTERM);
  if (WaitBounded(top, 5000) != 0) {
    fprintf(stderr, "sigping: %s did not exit on SIGTERM; killing it\n", cmd[0]);
    if (target > 0 && target != top) kill(target, SIGKILL);
    kill(top, SIGKILL);
    WaitBounded(top, 5000);
    rc = rc ? rc : 3;
  }
  close(fd);
  unlink(fifo);
  return rc;
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "child") == 0) return Child(argv[2]);
  if (argc >= 7 && strcmp(argv[1], "send") == 0 && strcmp(argv[5], "--") == 0) {
    const int count = atoi(argv[2]);
    const int depth = atoi(argv[3]);
    if (count > 0 && depth >= 0) return Send(count, depth, argv[4], argv + 6);
  }
  fprintf(stderr,
          "usage: sigping send COUNT DEPTH FIFO -- CMD [ARGS...]\n"
          "       sigping child FIFO\n");
  return 2;
}
