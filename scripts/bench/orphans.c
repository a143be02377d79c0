// orphans: make N orphaned zombies for the PID 1 above us to reap, and exit
// only once every one of them has been reaped, so that the wall time of
// `unshare --pid --fork --mount-proc INIT -- orphans N` is the time for INIT to
// reap N orphans (plus a constant start-up cost).
//
// The orphans come in waves of WAVE (bounded, so the pids in use stay far
// below pid_max). In a wave, WAVE/BATCH holder processes each vfork() BATCH
// children that _exit(0) at once (vfork: no page-table copy, so creating them
// is cheap) and keep them as their own zombies. When all holders are ready,
// we close the release pipe: the holders exit together and the kernel
// re-parents their zombies to PID 1 in one burst. The drain time runs from the
// release until every zombie of the wave has been reaped; a pid is known to be
// reaped when kill(pid, 0) fails with ESRCH (a zombie still answers). Pids are
// not reused within the fresh namespace because N + N/BATCH < pid_max.
//
// When orphans is itself PID 1 (no init above it), it reaps its own orphans
// with waitpid(-1, WNOHANG) in a busy loop: the "ideal reaper" baseline.
//
// usage: orphans N [WAVE [BATCH [TIMEOUT_S]]]
// output (stdout): "orphans=N reaped=R left=L zombies=Z create_ms=C drain_ms=D total_ms=T"
// exit: 0 when all were reaped and /proc shows no other process; 3 on timeout
// or leftovers; 2 on a usage or setup error.
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double NowMs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int self_reaper;  // we are PID 1: reap our own orphans
static long reaped_by_self;

static void ReapOwn(void) {
  if (!self_reaper) return;
  while (waitpid(-1, NULL, WNOHANG) > 0) reaped_by_self++;
}

// Advances *cursor over reaped pids until at least `target` are confirmed, or
// the deadline passes. Returns 0 on success, -1 on timeout.
static int WaitReaped(const pid_t* pids, long* cursor, long target, double deadline_ms) {
  while (*cursor < target) {
    if (kill(pids[*cursor], 0) < 0 && errno == ESRCH) {
      ++*cursor;
      continue;
    }
    ReapOwn();
    if (self_reaper) continue;
    if (NowMs() > deadline_ms) return -1;
    // Give the CPU to the init: a 2-vCPU machine has no core to spare.
    const struct timespec pause = {0, 10 * 1000};
    nanosleep(&pause, NULL);
  }
  return 0;
}

// Counts processes in our pid namespace's /proc other than PID 1 and us;
// *zombies gets how many of them are zombies. -1 if /proc is unreadable.
static int CountOthers(int* zombies) {
  *zombies = 0;
  DIR* d = opendir("/proc");
  if (d == NULL) return -1;
  int others = 0;
  const pid_t me = getpid();
  for (struct dirent* e; (e = readdir(d)) != NULL;) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    const long pid = strtol(e->d_name, NULL, 10);
    if (pid == 1 || pid == me) continue;
    others++;
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE* f = fopen(path, "r");
    if (f == NULL) continue;
    if (fgets(buf, sizeof buf, f) != NULL) {
      const char* close_paren = strrchr(buf, ')');
      if (close_paren != NULL && close_paren[1] == ' ' && close_paren[2] == 'Z') ++*zombies;
    }
    fclose(f);
  }
  closedir(d);
  return others;
}

// A holder: vforks m children that exit at once, records their pids, reports
// ready ('R', or 'F' if a vfork failed) and exits when the release pipe closes.
static pid_t SpawnZombie(void) {
  // The child only calls _exit, which is all vfork allows it to do.
  const pid_t p = vfork();
  if (p == 0) _exit(0);
  return p;
}

static void Holder(pid_t* pids, long m, int ready_fd, int release_fd) {
  char verdict = 'R';
  for (long i = 0; i < m; ++i) {
    const pid_t p = SpawnZombie();
    if (p < 0) {
      verdict = 'F';
      break;
    }
    pids[i] = p;
  }
  (void)!write(ready_fd, &verdict, 1);
  char c;
  while (read(release_fd, &c, 1) < 0 && errno == EINTR) {
  }
  _exit(0);
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 5) {
    fprintf(stderr, "usage: orphans N [WAVE [BATCH [TIMEOUT_S]]]\n");
    return 2;
  }
  const long n = atol(argv[1]);
  const long wave = argc > 2 ? atol(argv[2]) : 2000;
  const long batch = argc > 3 ? atol(argv[3]) : 500;
  const double timeout_ms = (argc > 4 ? atof(argv[4]) : 60) * 1e3;
  if (n <= 0 || wave <= 0 || batch <= 0 || batch > wave) {
    fprintf(stderr, "orphans: bad arguments\n");
    return 2;
  }
  self_reaper = getpid() == 1;
  if (!self_reaper && getppid() != 1) {
    fprintf(stderr,
            "orphans: my parent is pid %d, not PID 1: run me as the child of an init "
            "that is PID 1 of a new pid namespace\n",
            (int)getppid());
    return 2;
  }
  // Poll with fine-grained sleeps: the default 50 us timer slack would blur
  // drain times of a few milliseconds.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  pid_t* pids = mmap(NULL, (size_t)n * sizeof(pid_t), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (pids == MAP_FAILED) {
    perror("orphans: mmap");
    return 2;
  }

  const double t0 = NowMs();
  const double deadline = t0 + timeout_ms;
  double create_ms = 0, drain_ms = 0;
  long created = 0, cursor = 0;
  int failed = 0;
  while (created < n && !failed) {
    const double t_wave = NowMs();
    const long this_wave = n - created < wave ? n - created : wave;
    int ready[2], release[2];
    if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(release, O_CLOEXEC) < 0) {
      perror("orphans: pipe2");
      return 2;
    }
    pid_t holders[64];
    int nholders = 0;
    for (long off = 0; off < this_wave && nholders < 64; off += batch) {
      const long m = this_wave - off < batch ? this_wave - off : batch;
      const pid_t h = fork();
      if (h < 0) {
        perror("orphans: fork");
        failed = 1;
        break;
      }
      if (h == 0) {
        close(ready[0]);
        close(release[1]);
        Holder(pids + created + off, m, ready[1], release[0]);
      }
      holders[nholders++] = h;
    }
    close(ready[1]);
    close(release[0]);
    for (int i = 0; i < nholders; ++i) {
      char verdict = 0;
      struct pollfd pfd = {ready[0], POLLIN, 0};
      const int left_ms = (int)(deadline - NowMs());
      if (left_ms <= 0 || poll(&pfd, 1, left_ms) != 1 || read(ready[0], &verdict, 1) != 1 ||
          verdict != 'R') {
        fprintf(stderr, "orphans: a holder failed to vfork its children (out of pids?)\n");
        failed = 1;
        break;
      }
    }
    close(ready[0]);
    const double t_release = NowMs();
    close(release[1]);  // all holders exit; their zombies go to PID 1
    create_ms += t_release - t_wave;
    if (!self_reaper) {
      for (int i = 0; i < nholders; ++i) {
        while (waitpid(holders[i], NULL, 0) < 0 && errno == EINTR) {
        }
      }
    }
    if (failed) break;
    created += this_wave;
    if (WaitReaped(pids, &cursor, created, deadline) < 0) failed = 1;
    drain_ms += NowMs() - t_release;
  }
  const double t_done = NowMs();
  ReapOwn();

  int zombies = 0;
  const int others = CountOthers(&zombies);
  printf("orphans=%ld reaped=%ld left=%d zombies=%d create_ms=%.1f drain_ms=%.1f total_ms=%.1f\n",
         created, cursor, others, zombies, create_ms, drain_ms, t_done - t0);
  fflush(stdout);
  if (failed || cursor != n || others != 0) {
    fprintf(stderr, "orphans: %ld of %ld confirmed reaped, %d other processes (%d zombies) left%s\n",
            cursor, n, others, zombies, failed ? " (timed out or failed)" : "");
    return 3;
  }
  return 0;
}
