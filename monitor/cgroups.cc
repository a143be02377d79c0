// Cgroup removal and the janitor of minipod-monitor (see cgroups.h).
#include "monitor/cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "monitor/parse.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

// linux/magic.h is not in musl's headers.
constexpr unsigned long kCgroupMagic = 0x27e0eb, kCgroup2Magic = 0x63677270;

namespace monitor {
namespace {

constexpr int kMaxDepth = 32;
constexpr int kMaxPids = 4096;
constexpr size_t kPathMax = 4096;

long long NowMs() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void SleepMs(int ms) {
  struct timespec ts {ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// The pids of a cgroup.procs file (at most kMaxPids; the rest on the next
// round). Returns the count.
int ReadPids(const char* procs, int* pids) {
  const int fd = ::open(procs, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int count = 0;
  long long cur = -1;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      const char c = buf[i];
      if (c >= '0' && c <= '9') {
        cur = (cur < 0 ? 0 : cur) * 10 + (c - '0');
        if (cur > 0x3fffffff) cur = 0x3fffffff;
      } else {
        if (cur > 0 && count < kMaxPids) pids[count++] = static_cast<int>(cur);
        cur = -1;
      }
    }
  }
  if (cur > 0 && count < kMaxPids) pids[count++] = static_cast<int>(cur);
  ::close(fd);
  return count;
}

bool WriteFile(const char* path, const char* value) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n;
  do {
    n = ::write(fd, value, strlen(value));
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  return n == static_cast<ssize_t>(strlen(value));
}

// path (a buffer of kPathMax) extended by "/name"; false when too long.
bool Push(char* path, size_t* len, const char* name) {
  const size_t n = strlen(name);
  if (*len + 1 + n + 1 > kPathMax) return false;
  path[*len] = '/';
  memcpy(path + *len + 1, name, n + 1);
  *len += 1 + n;
  return true;
}

// SIGKILLs everything in one cgroup (not its children); true if it held
// processes. A pid is signalled through a pidfd taken before the list is
// read again, so a pid recycled outside the cgroup is never signalled.
bool KillOne(char* path, size_t len) {
  static int pids[kMaxPids], still[kMaxPids], fds[kMaxPids];
  size_t l = len;
  if (!Push(path, &l, "cgroup.procs")) return false;
  const int count = ReadPids(path, pids);
  path[len] = '\0';
  if (count == 0) return false;
  l = len;
  if (Push(path, &l, "cgroup.kill") && WriteFile(path, "1")) {
    path[len] = '\0';
    return true;
  }
  path[len] = '\0';
  for (int i = 0; i < count; ++i) {
    fds[i] = static_cast<int>(::syscall(SYS_pidfd_open, pids[i], 0));
    if (fds[i] < 0 && errno == ENOSYS) ::kill(pids[i], SIGKILL);  // before 5.3
  }
  l = len;
  Push(path, &l, "cgroup.procs");
  const int now = ReadPids(path, still);
  path[len] = '\0';
  for (int i = 0; i < count; ++i) {
    if (fds[i] < 0) continue;
    for (int j = 0; j < now; ++j) {
      if (still[j] == pids[i]) {
        ::syscall(SYS_pidfd_send_signal, fds[i], SIGKILL, nullptr, 0);
        break;
      }
    }
    ::close(fds[i]);
  }
  return true;
}

// Kills (kill=true) or removes (children first) the tree at path; returns
// "populated" for a kill, the first rmdir errno (0: all gone) for a removal.
int Walk(char* path, size_t len, int depth, bool kill) {
  int result = 0;
  if (depth < kMaxDepth) {
    if (DIR* d = ::opendir(path)) {
      while (struct dirent* e = ::readdir(d)) {
        if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        size_t l = len;
        if (!Push(path, &l, e->d_name)) continue;
        const int r = Walk(path, l, depth + 1, kill);
        path[len] = '\0';
        if (kill) {
          result |= r;
        } else if (r != 0 && result == 0) {
          result = r;
        }
      }
      ::closedir(d);
    }
  }
  if (kill) return KillOne(path, len) ? 1 : result;
  if (result != 0) return result;
  if (::rmdir(path) != 0 && errno != ENOENT) return errno;
  return 0;
}

}  // namespace

bool UnderCgroupFs(const char* path) {
  if (path == nullptr || path[0] != '/') return false;
  char parent[kPathMax];
  const size_t n = strlen(path);
  if (n >= sizeof parent) return false;
  memcpy(parent, path, n + 1);
  char* slash = strrchr(parent, '/');
  if (slash == parent) {
    parent[1] = '\0';
  } else {
    *slash = '\0';
  }
  struct statfs st {};
  if (::statfs(parent, &st) != 0) return false;
  return static_cast<unsigned long>(st.f_type) == kCgroupMagic || static_cast<unsigned long>(st.f_type) == kCgroup2Magic;
}

bool KillAndRemoveCgroups(const char* const* dirs, int count, int timeout_ms) {
  const long long deadline = NowMs() + timeout_ms;
  static char path[kPathMax];
  bool ok = true;
  for (int i = count - 1; i >= 0; --i) {
    const size_t len = strlen(dirs[i]);
    if (len >= kPathMax) {
      ok = false;
      continue;
    }
    for (;;) {
      memcpy(path, dirs[i], len + 1);
      const bool populated = Walk(path, len, 0, /*kill=*/true) != 0;
      int err = 0;
      if (!populated) {
        err = Walk(path, len, 0, /*kill=*/false);
        if (err == 0) break;
        if (err != EBUSY) {  // EBUSY: a process arrived or a child cgroup appeared
          ok = false;
          break;
        }
      }
      if (NowMs() >= deadline) {
        ok = false;
        break;
      }
      SleepMs(populated ? 2 : 10);
    }
  }
  return ok;
}

int JanitorMain(int argc, char** argv) {
  constexpr int kPipeFd = 3, kLauncherFd = 4;
  struct stat st {};
  if (argc < 1 || ::fstat(kPipeFd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    static const char kMsg[] = "minipod-monitor __cgroup-janitor: an internal command of minipod run, not for direct use\n";
    (void)!::write(2, kMsg, sizeof kMsg - 1);
    return 2;
  }
  ::prctl(PR_SET_NAME, reinterpret_cast<unsigned long>("minipod-janitor"), 0UL, 0UL, 0UL);
  const bool have_pidfd = strcmp(argv[0], "-") != 0;
  const char* dirs[kMaxCgroupDirs];
  int count = 0;
  for (int i = 1; i < argc && count < kMaxCgroupDirs; ++i) {
    if (UnderCgroupFs(argv[i])) dirs[count++] = argv[i];
  }
  ::fcntl(kPipeFd, F_SETFL, O_NONBLOCK);
  for (;;) {
    struct pollfd p[2] = {{kPipeFd, POLLIN, 0}, {kLauncherFd, POLLIN, 0}};
    if (::poll(p, have_pidfd ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    // The "done" byte wins, even when we also see the launcher exit. The
    // launcher's exec (the monitor becoming minipod-monitor) is no exit:
    // its pidfd stays quiet and the socket's write end is handed over.
    char c = 0;
    const ssize_t n = ::read(kPipeFd, &c, 1);
    if (n == 1) return 0;
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;  // closed without "done"
    if (have_pidfd && p[1].revents != 0) break;                         // the launcher exited
  }
  return KillAndRemoveCgroups(dirs, count, 5000) ? 0 : 1;
}

}  // namespace monitor
