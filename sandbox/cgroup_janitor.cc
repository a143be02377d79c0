// The janitor (see cgroup_janitor.h): its start in the launcher (every
// string and fd prepared before fork; the child only dup2s, closes and
// execveats) and its program, run by `minipod __cgroup-janitor`.
#include "sandbox/cgroup_janitor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl/self_path.h"
#include "common/absl/status_util.h"
#include "common/sys.h"
#include "sandbox/cgroup.h"
#include "sandbox/cgroup_fs.h"

namespace sandbox {
namespace {

using common::ErrnoStatus;
using common::UniqueFd;

// Where the exec'd janitor finds its fds (see Janitor::Start).
constexpr int kPipeFd = 3;
constexpr int kPidFd = 4;
constexpr int kExeFd = 5;
constexpr int kReportFd = 6;  // the execveat errno, if it fails; CLOEXEC

// Between fork and execveat: only async-signal-safe calls, no allocation.
[[noreturn]] void ExecJanitor(int exe_fd, int read_fd, int pid_fd, int null_fd, int report_fd,
                              char* const* argv) {
  ::setsid();  // out of the caller's process group and terminal
  // Ignored signals stay ignored across execve; the mask is inherited too.
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::sigaction(sig, &ign, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Any of them may already sit on 0..5: copy them all above first.
  const int exe = ::fcntl(exe_fd, F_DUPFD_CLOEXEC, 10);
  const int rd = ::fcntl(read_fd, F_DUPFD_CLOEXEC, 10);
  const int pfd = pid_fd >= 0 ? ::fcntl(pid_fd, F_DUPFD_CLOEXEC, 10) : -1;
  const int nul = ::fcntl(null_fd, F_DUPFD_CLOEXEC, 10);
  const int rep = ::fcntl(report_fd, F_DUPFD_CLOEXEC, 10);
  const auto fail = [rep] {
    const int err = errno;
    if (rep >= 0) (void)!::write(rep, &err, sizeof err);
    ::_exit(127);
  };
  if (exe < 0 || rd < 0 || nul < 0 || rep < 0 || (pid_fd >= 0 && pfd < 0)) fail();
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(nul, fd) != fd) fail();
  }
  if (::dup2(rd, kPipeFd) != kPipeFd) fail();
  if (pfd >= 0 && ::dup2(pfd, kPidFd) != kPidFd) fail();
  if (::dup3(exe, kExeFd, O_CLOEXEC) != kExeFd) fail();  // gone after the exec
  if (::dup3(rep, kReportFd, O_CLOEXEC) != kReportFd) fail();
  // Everything else (the write end, the caller's fds): closed now, or
  // CLOEXEC before 5.9's close_range.
  if (::syscall(SYS_close_range, kReportFd + 1, ~0U, 0U) != 0) {
    for (int fd = kReportFd + 1; fd < 1024; ++fd) ::close(fd);
  }
  if (pfd < 0) ::close(kPidFd);
  (void)!::chdir("/");  // no cwd on a mount that must go
  static char* const kNoEnv[] = {nullptr};
  ::syscall(SYS_execveat, kExeFd, "", argv, kNoEnv, AT_EMPTY_PATH);
  const int err = errno;
  (void)!::write(kReportFd, &err, sizeof err);
  ::_exit(127);
}

void SleepMs(int ms) {
  struct timespec ts {ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// True when path's parent directory is on cgroupfs (v1 or v2): the janitor
// removes nothing else, whatever its command line says.
bool UnderCgroupFs(const std::string& path) {
  if (path.empty() || path[0] != '/') return false;
  struct statfs st {};
  if (::statfs(DirName(path).c_str(), &st) != 0) return false;
  return st.f_type == CGROUP_SUPER_MAGIC || st.f_type == CGROUP2_SUPER_MAGIC;
}

}  // namespace

absl::StatusOr<Janitor> Janitor::Start(const char* exe, const std::vector<std::string>& dirs) {
  // minipod's own janitor is minipod-monitor's janitor mode where that is
  // installed beside it (a few pages resident rather than the whole CLI);
  // minipod itself otherwise (a build without it, a test binary).
  UniqueFd exe_owned;
  std::string exe_path = exe;
  const char* argv0 = "minipod";
  if (strcmp(exe, kJanitorSelfExe) == 0) {
    if (absl::StatusOr<UniqueFd> lean = minipod::OpenMonitor(&exe_path); lean.ok()) {
      exe_owned = *std::move(lean);
      argv0 = "minipod-monitor";
    } else {
      exe_path = exe;
    }
  }
  if (!exe_owned) {
    const common::SysResult exe_fd = common::sys::Open(exe, O_PATH);
    if (!exe_fd.ok()) return ErrnoStatus(exe_fd.err, absl::StrCat("janitor: open(", exe, ")"));
    exe_owned.Reset(static_cast<int>(exe_fd.value));
  }
  const common::SysResult null_fd = common::sys::Open("/dev/null", O_RDWR);
  if (!null_fd.ok()) return ErrnoStatus(null_fd.err, "janitor: open(/dev/null)");
  UniqueFd null_owned(static_cast<int>(null_fd.value));
  // A socket pair, not a pipe: Dismiss's send(MSG_NOSIGNAL) to a janitor
  // that is gone fails with EPIPE instead of raising SIGPIPE in the caller.
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoStatus(errno, "janitor: socketpair");
  }
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  if (const common::SysResult r = common::sys::Pipe(fds); !r.ok()) {
    return ErrnoStatus(r.err, "janitor: pipe2");
  }
  UniqueFd report_read(fds[0]), report_write(fds[1]);
  // Our own pidfd: the janitor learns of our exit from it even when a child
  // we forked without exec (still in setup) holds a copy of the write end.
  // Before 5.3 (ENOSYS) the pipe's EOF alone has to do.
  const long self_pidfd = ::syscall(SYS_pidfd_open, ::getpid(), 0);
  UniqueFd launcher(self_pidfd >= 0 ? static_cast<int>(self_pidfd) : -1);

  std::vector<std::string> args = {argv0, kJanitorCommand, launcher ? absl::StrCat(kPidFd) : "-"};
  args.insert(args.end(), dirs.begin(), dirs.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus(errno, "fork(janitor)");
  if (pid == 0) {
    ExecJanitor(exe_owned.get(), read_end.get(), launcher.get(), null_owned.get(), report_write.get(),
                argv.data());
  }
  Janitor j;
  j.write_end_ = std::move(write_end);
  j.exec_report_ = std::move(report_read);
  j.exe_ = exe_path;
  j.pid_ = pid;
  return j;
}

Janitor::Janitor(Janitor&& other) noexcept
    : write_end_(std::move(other.write_end_)),
      exec_report_(std::move(other.exec_report_)),
      exe_(std::move(other.exe_)),
      pid_(std::exchange(other.pid_, -1)) {}

Janitor& Janitor::operator=(Janitor&& other) noexcept {
  if (this != &other) {
    write_end_ = std::move(other.write_end_);
    exec_report_ = std::move(other.exec_report_);
    exe_ = std::move(other.exe_);
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

absl::Status Janitor::WaitStarted(int timeout_ms) {
  if (!exec_report_) return absl::OkStatus();
  struct pollfd p = {exec_report_.get(), POLLIN, 0};
  const long long deadline = common::sys::MonotonicMs() + timeout_ms;
  for (;;) {
    const long long left = deadline - common::sys::MonotonicMs();
    const int n = ::poll(&p, 1, left > 0 ? static_cast<int>(left) : 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("janitor (", exe_, "): not started after ", timeout_ms, " ms"));
    }
    break;
  }
  int err = 0;
  const common::SysResult r = common::sys::Read(exec_report_.get(), &err, sizeof err);
  exec_report_.Reset();
  if (r.ok() && r.value == 0) return absl::OkStatus();  // EOF: the exec closed it
  if (!r.ok()) return ErrnoStatus(r.err, "janitor: read(exec report)");
  return ErrnoStatus(err, absl::StrCat("janitor: execveat(", exe_, ")"));
}

void Janitor::Dismiss() {
  if (write_end_) {
    const char done = 'D';
    (void)!::send(write_end_.get(), &done, 1, MSG_NOSIGNAL);
    write_end_.Reset();
  }
  if (pid_ > 0) {
    // It exits at once on the byte: waited for through a pidfd (our child:
    // the pid cannot be reused before we reap it), which is readable the
    // moment it exits; bounded (2 s) in case it is stopped.
    common::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
    const long long deadline = common::sys::MonotonicMs() + 2000;
    for (;;) {
      const common::SysResult r = common::sys::WaitPid(pid_, nullptr, WNOHANG);
      if (!r.ok() || r.value == pid_) break;  // ECHILD: reaped elsewhere
      const long long left = deadline - common::sys::MonotonicMs();
      if (left <= 0) break;
      if (pidfd) {
        struct pollfd p = {pidfd.get(), POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(left));
      } else {
        SleepMs(10);  // before 5.3: no pidfd to wait on
      }
    }
    pid_ = -1;
  }
}

int JanitorMain(int argc, char** argv) {
  struct stat st {};
  if (argc < 1 || ::fstat(kPipeFd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    fprintf(stderr, "minipod %s: an internal command of minipod run, not for direct use\n", kJanitorCommand);
    return 2;
  }
  ::prctl(PR_SET_NAME, reinterpret_cast<unsigned long>("minipod-janitor"), 0UL, 0UL, 0UL);
  const bool have_pidfd = strcmp(argv[0], "-") != 0;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    if (UnderCgroupFs(argv[i])) dirs.emplace_back(argv[i]);
  }
  ::fcntl(kPipeFd, F_SETFL, O_NONBLOCK);
  for (;;) {
    struct pollfd p[2] = {{kPipeFd, POLLIN, 0}, {kPidFd, POLLIN, 0}};
    if (::poll(p, have_pidfd ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    // The "done" byte wins, even when we also see the launcher exit.
    char c = 0;
    const ssize_t n = ::read(kPipeFd, &c, 1);
    if (n == 1) return 0;  // dismissed: the launcher removed everything
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;  // closed without "done"
    if (have_pidfd && p[1].revents != 0) break;  // the launcher exited
  }
  return KillAndRemoveCgroups(dirs).ok() ? 0 : 1;
}

}  // namespace sandbox
