// spawnbench: start-up time of several commands, measured interleaved in one
// run so that they share the machine's state (CPU frequency, page cache, noisy
// neighbours). Each round runs every command once, the starting command
// rotating from round to round; a sample is posix_spawn() to waitpid() on
// CLOCK_MONOTONIC, with stdin, stdout and stderr on /dev/null.
//
// usage: spawnbench ROUNDS WARMUP CMDFILE
//   CMDFILE: one command per line, "label<TAB>argv0<TAB>argv1...".
// output (stdout, TSV): label median_us p10_us p90_us mean_us min_us samples failures
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

enum { kMaxCmds = 16, kMaxArgs = 32 };

struct Cmd {
  char* label;
  char* argv[kMaxArgs + 1];
  double* samples_us;
  int n;
  int failures;
};

static double NowUs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int CompareDouble(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static double Percentile(const double* sorted, int n, double p) {
  if (n == 0) return 0;
  const double pos = p * (n - 1);
  const int lo = (int)pos;
  const int hi = lo + 1 < n ? lo + 1 : lo;
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

// One run of cmd; returns its wall time in microseconds, or -1 if it could not
// be started or did not exit 0.
static double RunOnce(struct Cmd* cmd, posix_spawn_file_actions_t* fa) {
  pid_t pid;
  const double t0 = NowUs();
  int err = posix_spawn(&pid, cmd->argv[0], fa, NULL, cmd->argv, environ);
  if (err != 0) {
    fprintf(stderr, "spawnbench: posix_spawn(%s): %s\n", cmd->argv[0], strerror(err));
    return -1;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  const double t1 = NowUs();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return t1 - t0;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: spawnbench ROUNDS WARMUP CMDFILE\n");
    return 2;
  }
  const int rounds = atoi(argv[1]);
  const int warmup = atoi(argv[2]);
  FILE* f = fopen(argv[3], "r");
  if (rounds <= 0 || warmup < 0 || f == NULL) {
    fprintf(stderr, "spawnbench: bad arguments or cannot open %s\n", argv[3]);
    return 2;
  }
  static struct Cmd cmds[kMaxCmds];
  int ncmds = 0;
  char* line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '\0') continue;
    if (ncmds == kMaxCmds) {
      fprintf(stderr, "spawnbench: more than %d commands\n", kMaxCmds);
      return 2;
    }
    struct Cmd* c = &cmds[ncmds++];
    char* save = NULL;
    c->label = strdup(strtok_r(line, "\t", &save));
    int a = 0;
    for (char* tok; (tok = strtok_r(NULL, "\t", &save)) != NULL;) {
      if (a == kMaxArgs) return 2;
      c->argv[a++] = strdup(tok);
    }
    if (a == 0) {
      fprintf(stderr, "spawnbench: %s has no command\n", c->label);
      return 2;
    }
    c->samples_us = calloc((size_t)rounds, sizeof(double));
  }
  fclose(f);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);

  for (int r = 0; r < warmup; ++r)
    for (int i = 0; i < ncmds; ++i) (void)RunOnce(&cmds[i], &fa);
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < ncmds; ++k) {
      struct Cmd* c = &cmds[(r + k) % ncmds];
      const double us = RunOnce(c, &fa);
      if (us < 0) {
        c->failures++;
      } else {
        c->samples_us[c->n++] = us;
      }
    }
  }

  for (int i = 0; i < ncmds; ++i) {
    struct Cmd* c = &cmds[i];
    qsort(c->samples_us, (size_t)c->n, sizeof(double), CompareDouble);
    double sum = 0;
    for (int k = 0; k < c->n; ++k) sum += c->samples_us[k];
    printf("%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%d\n", c->label,
           Percentile(c->samples_us, c->n, 0.5), Percentile(c->samples_us, c->n, 0.1),
           Percentile(c->samples_us, c->n, 0.9), c->n ? sum / c->n : 0,
           c->n ? c->samples_us[0] : 0, c->n, c->failures);
  }
  return 0;
}
