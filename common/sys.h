// One inline wrapper per system call that minipod uses, and nothing else.
// Each returns SysResult{value, err} with errno captured inside the wrapper,
// retries EINTR where that is safe, and adds O_CLOEXEC/SFD_CLOEXEC always.
// libc only: used by the static init, the post-clone child and the tools.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace common {

struct SysResult {
  long value = 0;
  int err = 0;
  bool ok() const { return err == 0; }
};

inline SysResult FromRet(long ret) {
  if (ret < 0) return SysResult{ret, errno};
  return SysResult{ret, 0};
}

namespace sys {

inline SysResult Kill(pid_t pid, int sig) { return FromRet(::kill(pid, sig)); }

// waitpid is retried on EINTR: no state changes between attempts.
inline SysResult WaitPid(pid_t pid, int* status, int options) {
  for (;;) {
    const pid_t r = ::waitpid(pid, status, options);
    if (r < 0 && errno == EINTR) continue;
    return FromRet(r);
  }
}

inline SysResult SigProcMask(int how, const sigset_t* set, sigset_t* old) {
  // sigprocmask returns the error number only through errno.
  return FromRet(::sigprocmask(how, set, old));
}

inline SysResult SignalFd(const sigset_t& set) {
  return FromRet(::signalfd(-1, &set, SFD_CLOEXEC));
}

inline SysResult Read(int fd, void* buf, size_t len) {
  for (;;) {
    const ssize_t r = ::read(fd, buf, len);
    if (r < 0 && errno == EINTR) continue;
    return FromRet(r);
  }
}

inline SysResult Pipe(int fds[2]) { return FromRet(::pipe2(fds, O_CLOEXEC)); }

inline SysResult Open(const char* path, int flags, mode_t mode = 0) {
  for (;;) {
    const int r = ::open(path, flags | O_CLOEXEC, mode);
    if (r < 0 && errno == EINTR) continue;
    return FromRet(r);
  }
}

inline SysResult Poll(struct pollfd* fds, nfds_t n, int timeout_ms) {
  // Not retried: the caller recomputes its timeout from a deadline.
  return FromRet(::poll(fds, n, timeout_ms));
}

inline SysResult Prctl(int option, unsigned long arg2) {
  // The raw calls here skip libc's variadic wrappers (bytes in the init).
  return FromRet(::syscall(SYS_prctl, option, arg2, 0UL, 0UL, 0UL));
}

inline SysResult SetSid() { return FromRet(::setsid()); }
inline SysResult SetPgid(pid_t pid, pid_t pgid) { return FromRet(::setpgid(pid, pgid)); }
inline SysResult TcSetPgrp(int fd, pid_t pgrp) {
  return FromRet(::syscall(SYS_ioctl, fd, TIOCSPGRP, &pgrp));
}
inline SysResult Ioctl(int fd, unsigned long req, unsigned long arg) {
  return FromRet(::syscall(SYS_ioctl, fd, req, arg));
}
inline SysResult Chdir(const char* path) { return FromRet(::chdir(path)); }

// CLOCK_MONOTONIC in milliseconds; cannot fail with a valid clock id. The
// raw syscall keeps libc's vDSO lookup out of the static init.
inline long long MonotonicMs() {
  struct timespec ts {};
  ::syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace sys
}  // namespace common
