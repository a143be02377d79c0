// The init's event loop: block signals, read them from a signalfd, forward
// them, reap every child, supervise restarts and shut down with a grace
// period. Runs in the init process; single-threaded, no heap.
#include "init/runtime.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "common/backoff.h"
#include "common/signal_set.h"
#include "common/sys.h"
#include "common/unique_fd.h"
#include "common/wait_status.h"
#include "init/pid_scan.h"
#include "init/say.h"
#include "init/signals.h"
#include "init/spawn.h"
#include "init/texts.h"

namespace init {
namespace {

using common::Level;
namespace sys = common::sys;

constexpr long long kNever = -1;
// After the final SIGKILL, how long to keep reaping before giving up on
// processes stuck in uninterruptible sleep.
constexpr long long kKillSettleMs = 5'000;

// "SIGTERM" for the classic signals, "signal 40" for the others: cheaper
// than formatting RTMIN+N, and only for messages.
const char* SigName(int sig, char (&buf)[16]) {
  common::Formatter f(buf, sizeof buf);
  if (const char* name = common::ClassicSignalName(sig); name != nullptr) {
    f.Printf("SIG%s", name);
  } else {
    f.Printf("signal %d", sig);
  }
  return buf;
}

// Sends sig to every process the init is responsible for: as PID 1 of a
// namespace that is everything but itself (kill(-1)); as a subreaper, its
// direct children (orphans land there) and the main child's group.
void SignalDescendants(int sig, pid_t group) {
  if (::getpid() == 1) {
    (void)sys::Kill(-1, sig);
    return;
  }
  if (group > 0) (void)sys::Kill(-group, sig);
  char path[64];
  common::Formatter p(path, sizeof path);
  p.Printf("/proc/self/task/%d/children", static_cast<int>(::getpid()));
  // The raw syscall keeps libc's open() wrapper out of the static init.
  const long fd = ::syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  common::UniqueFd owned(static_cast<int>(fd));
  // A read may end in the middle of a number: the scanner carries it over.
  PidScanner scan;
  const auto kill_one = [sig](int pid) { (void)sys::Kill(pid, sig); };
  char buf[512];
  for (;;) {
    const common::SysResult n = sys::Read(owned.get(), buf, sizeof buf);
    if (!n.ok() || n.value <= 0) break;
    scan.Feed(buf, static_cast<size_t>(n.value), kill_one);
  }
  scan.Finish(kill_one);
}

// Closes every descriptor >= 3 except keep (catatonit keeps its own table
// clean; the child already has its copies).
void CloseFdsExcept(int keep) {
  const unsigned k = static_cast<unsigned>(keep);
  if (k > 3) (void)::syscall(SYS_close_range, 3u, k - 1, 0u);
  if (::syscall(SYS_close_range, k + 1, ~0u, 0u) == 0) return;
  // Kernels before 5.9: close what a default RLIMIT_NOFILE allows.
  for (int fd = 3; fd < 4096; ++fd) {
    if (fd != keep) ::close(fd);
  }
}

class Loop {
 public:
  Loop(const Config& config, KernelSigMask original_mask, char** envp, int sfd)
      : config_(config), original_mask_(original_mask), envp_(envp), sfd_(sfd),
        backoff_{config.backoff_initial_ms, config.backoff_max_ms, config.backoff_reset_ms} {}

  // Runs the command, or holds in pause mode without one; returns the exit
  // status.
  int Run();

 private:
  // Starts the command; false when it could not be started at all.
  bool Start();
  void OnSignal(const signalfd_siginfo& info);
  // What a received signal does once any --term-delay is over.
  void Deliver(int sig);
  // Ends --term-delay's hold: the held signal goes out now.
  void ReleaseTerm();
  void OnChildExit(int wait_status);
  void Reap();
  void Forward(int sig);
  pid_t ForwardTarget() const;
  void BeginDrain();
  bool WaitForSignals(long long deadline);
  long long NextDeadline() const;
  void CheckDeadlines();
  // --status-fd: the main child's last end, as one line.
  void ReportStatus() const;

  const Config& config_;
  const KernelSigMask original_mask_;
  char** envp_;
  int sfd_;
  common::Backoff backoff_;

  pid_t child_ = 0;           // 0 when no command is running
  pid_t child_group_ = 0;     // its process group, when it has its own
  long long started_ms_ = 0;
  int exit_code_ = 0;          // status of the last run
  int last_wait_status_ = -1;  // the main child's, for --status-fd
  bool stopping_ = false;      // SIGTERM/SIGINT seen: no more restarts
  bool finished_ = false;      // the loop is over: exit with exit_code_
  bool draining_ = false;      // child gone, waiting for descendants
  bool killed_all_ = false;    // final SIGKILL sent
  long long kill_at_ = kNever;     // grace after a forwarded TERM/INT
  long long restart_at_ = kNever;  // back-off before the next run
  long long drain_until_ = kNever; // grace for descendants
  long long term_at_ = kNever;     // --term-delay: when the held signal goes
  int held_sig_ = 0;               // the signal held, as received
  bool reap_pending_ = true;   // SIGCHLD seen (or start-up): waitpid until empty
  bool ignore_once_[kMaxSignalNumber + 1] = {};
};

pid_t Loop::ForwardTarget() const {
  if (config_.forward_to_group && child_group_ > 0) return -child_group_;
  return child_;
}

bool Loop::Start() {
  const SpawnResult s = Spawn(config_, original_mask_, envp_);
  if (s.pid < 0) {
    Say(Level::kError, Text::kFork, ErrorText(s.fork_err));
    exit_code_ = config_.exit_setup_failed;
    return false;
  }
  child_ = s.pid;
  child_group_ =
      config_.placement == Placement::kSameGroup ? 0 : s.pid;
  started_ms_ = sys::MonotonicMs();
  if (s.exec_err != 0) {
    // A command that cannot be executed will not start on a retry either.
    stopping_ = true;
    return true;  // the child exits with 126/127; Reap() collects it
  }
  Say(Level::kInfo, Text::kSpawnedChildProcessWith, config_.command[0],
      static_cast<int>(s.pid));
  if (config_.chdir_root) (void)sys::Chdir("/");
  if (config_.close_inherited_fds) CloseFdsExcept(sfd_);
  return true;
}

void Loop::Forward(int sig) {
  char name[16];
  const int to = ForwardedAs(config_, sig);
  if (to == 0) {
    Say(Level::kDebug, Text::kNotForwarding, SigName(sig, name));
    return;
  }
  if (child_ == 0 && !(config_.forward_to_group && child_group_ > 0)) {
    Say(Level::kDebug, Text::kNoChildToForward, SigName(sig, name));
    return;
  }
  const pid_t target = ForwardTarget();
  if (common::SysResult r = sys::Kill(target, to); !r.ok() && r.err != ESRCH) {
    Say(Level::kWarn, Text::kKill, static_cast<int>(target), to, ErrorText(r.err));
  } else {
    Say(Level::kDebug, Text::kForwardedAsTo, SigName(sig, name), to,
        static_cast<int>(target));
  }
}

void Loop::OnSignal(const signalfd_siginfo& info) {
  const int sig = static_cast<int>(info.ssi_signo);
  const bool terminate = sig == SIGTERM || sig == SIGINT;
  if (config_.command == nullptr) {
    // Pause mode: only SIGINT and SIGTERM mean anything.
    if (terminate) {
      if (config_.pause_message) {
        // strsignal()'s words for the two signals, without its table.
        Say(Level::kError, Text::kShuttingDownGotSignal,
            sig == SIGINT ? "Interrupt" : "Terminated");
      }
      if (!config_.wait_all) {
        finished_ = true;
        return;
      }
      // --wait-all: pass it on to every descendant (after any
      // --term-delay) and end when none is left.
      draining_ = true;
      reap_pending_ = true;
    } else {
      if (config_.style == MessageStyle::kPause) {
        // pause.c leaves the other signals at their default action: let the
        // kernel apply it (terminate, stop, or nothing for PID 1 and for
        // signals that were ignored when we started).
        const KernelSigMask one = SignalBit(sig);
        (void)SetKernelSigMask(SIG_UNBLOCK, &one, nullptr);
        (void)sys::Kill(::getpid(), sig);
        (void)SetKernelSigMask(SIG_BLOCK, &one, nullptr);
      }
      return;
    }
  }
  if (sig > 0 && sig <= kMaxSignalNumber && ignore_once_[sig]) {
    ignore_once_[sig] = false;  // the tty hand-off's own SIGHUP/SIGCONT
    return;
  }
  if (IsJobControlSignal(sig)) {
    // ForwardedAs() drops or keeps them per personality; dumb-init's model
    // then stops the init too, so the shell sees the whole job stop.
    Forward(sig);
    if (config_.job_control == JobControl::kStopSelf) (void)sys::Kill(::getpid(), SIGSTOP);
    return;
  }
  if (terminate && config_.restart != RestartPolicy::kNever && !stopping_) {
    Say(Level::kInfo, Text::kGotSIGStoppingSupervision, sig == SIGTERM ? "TERM" : "INT");
    stopping_ = true;
  }
  if (config_.term_delay_ms > 0 && ForwardedAs(config_, sig) == SIGTERM &&
      (child_ != 0 || draining_)) {
    if (term_at_ == kNever) {
      held_sig_ = sig;
      term_at_ = sys::MonotonicMs() + config_.term_delay_ms;
      Say(Level::kInfo, Text::kHoldingSigterm, static_cast<long long>(config_.term_delay_ms));
    } else {
      ReleaseTerm();  // a second one: no more waiting
    }
    return;
  }
  if (term_at_ != kNever && sig == SIGINT) ReleaseTerm();
  Deliver(sig);
}

void Loop::ReleaseTerm() {
  term_at_ = kNever;
  Deliver(held_sig_);
}

void Loop::Deliver(int sig) {
  const bool terminate = sig == SIGTERM || sig == SIGINT;
  if (draining_ && config_.wait_all) {
    // --wait-all after the main child: TERM and INT reach every descendant.
    if (const int to = ForwardedAs(config_, sig); terminate && to != 0) {
      SignalDescendants(to, child_group_);
      if (config_.grace_ms >= 0 && drain_until_ == kNever) {
        drain_until_ = sys::MonotonicMs() + config_.grace_ms;
      }
    }
    return;
  }
  if (child_ == 0 && !draining_) {
    if (terminate && restart_at_ != kNever) finished_ = true;  // waiting to restart
    Forward(sig);  // reaches what is left of the group with -g
    return;
  }
  Forward(sig);
  if (terminate && config_.grace_ms >= 0 && kill_at_ == kNever && child_ != 0) {
    kill_at_ = sys::MonotonicMs() + config_.grace_ms;
  }
}

void Loop::BeginDrain() {
  // The child is gone; give everything it left behind the grace period.
  draining_ = true;
  drain_until_ = sys::MonotonicMs() + config_.grace_ms;
  Say(Level::kInfo, Text::kWaitingUpToLldms,
      static_cast<long long>(config_.grace_ms));
  SignalDescendants(SIGTERM, child_group_);
}

void Loop::OnChildExit(int wait_status) {
  char name[16];
  const long long now = sys::MonotonicMs();
  int code = common::ExitCodeFromWaitStatus(wait_status);
  last_wait_status_ = wait_status;
  if (WIFSIGNALED(wait_status)) {
    Say(Level::kInfo, Text::kMainChildExitedWith,
        SigName(WTERMSIG(wait_status), name));
  } else {
    Say(Level::kInfo, Text::kMainChildExitedNormally, code);
  }
  if (IsExpectedExit(config_, code)) code = 0;
  exit_code_ = code;
  const pid_t group = child_group_;
  child_ = 0;
  kill_at_ = kNever;
  if (config_.term_group_on_exit && group > 0) {
    const int to = config_.rewrite[SIGTERM];
    if (to != 0) (void)sys::Kill(-group, to);
  }

  const bool restart = !stopping_ && (config_.restart == RestartPolicy::kAlways ||
                                      (config_.restart == RestartPolicy::kOnFailure && code != 0));
  if (restart) {
    const long long delay = backoff_.NextDelay(now - started_ms_);
    restart_at_ = now + delay;
    Say(Level::kInfo, Text::kRestartingInLldms, delay);
    return;
  }
  child_group_ = group;
  if (config_.wait_all) {
    // Nothing is signalled: Reap() ends the loop at ECHILD.
    draining_ = true;
    Say(Level::kInfo, Text::kWaitingForEveryDescendant);
    return;
  }
  if (config_.grace_ms >= 0) {
    BeginDrain();
    return;
  }
  finished_ = true;
}

void Loop::Reap() {
  // Every child's exit queues a SIGCHLD, and one that exits after the last
  // waitpid below queues another: reaping only after SIGCHLD misses none.
  if (!reap_pending_) return;
  reap_pending_ = false;
  for (;;) {
    int status = 0;
    const common::SysResult r = sys::WaitPid(-1, &status, WNOHANG);
    if (!r.ok()) {
      // ECHILD: nothing left at all.
      if (draining_) finished_ = true;
      return;
    }
    if (r.value == 0) return;
    const pid_t pid = static_cast<pid_t>(r.value);
    if (pid == child_) {
      OnChildExit(status);
    } else if (config_.warn_on_reap) {
      Say(Level::kWarn, Text::kReapedZombieProcessWith, static_cast<int>(pid));
    } else {
      Say(Level::kDebug, Text::kReapedOrphanStatus, static_cast<int>(pid),
          common::ExitCodeFromWaitStatus(status));
    }
  }
}

long long Loop::NextDeadline() const {
  long long d = kNever;
  const long long deadlines[] = {kill_at_, restart_at_, drain_until_, term_at_};
  for (long long t : deadlines) {
    if (t != kNever && (d == kNever || t < d)) d = t;
  }
  return d;
}

void Loop::CheckDeadlines() {
  if (NextDeadline() == kNever) return;  // no clock read on the common path
  const long long now = sys::MonotonicMs();
  if (term_at_ != kNever && now >= term_at_) ReleaseTerm();
  if (kill_at_ != kNever && now >= kill_at_) {
    kill_at_ = kNever;
    if (child_ != 0) {
      Say(Level::kWarn, Text::kGraceKillGroup,
          static_cast<int>(child_group_ > 0 ? child_group_ : child_));
      (void)sys::Kill(child_group_ > 0 ? -child_group_ : child_, SIGKILL);
    }
  }
  if (drain_until_ != kNever && now >= drain_until_) {
    if (!killed_all_) {
      Say(Level::kWarn, Text::kGraceKillRest);
      SignalDescendants(SIGKILL, child_group_);
      killed_all_ = true;
      drain_until_ = now + kKillSettleMs;
    } else {
      Say(Level::kWarn, Text::kProcessesLeftThatDo);
      finished_ = true;
    }
  }
  if (restart_at_ != kNever && now >= restart_at_) {
    restart_at_ = kNever;
    if (!Start()) finished_ = true;
  }
}

// Waits for signals until one arrives or the deadline passes, then handles
// everything queued. Returns false only if the signalfd itself broke.
bool Loop::WaitForSignals(long long deadline) {
  // Without a deadline a blocking read is all it takes: one system call per
  // wake-up. poll() only when a timeout is needed.
  if (deadline != kNever) {
    const long long left = deadline - sys::MonotonicMs();
    const int timeout = left <= 0 ? 0 : left > 60'000 ? 60'000 : static_cast<int>(left);
    struct pollfd p = {sfd_, POLLIN, 0};
    const common::SysResult r = sys::Poll(&p, 1, timeout);
    if (!r.ok()) return r.err == EINTR;
    if (r.value == 0) return true;
  }
  signalfd_siginfo infos[16];
  const common::SysResult n = sys::Read(sfd_, infos, sizeof infos);
  if (!n.ok()) return n.err == EAGAIN;
  for (long i = 0; i < n.value / static_cast<long>(sizeof infos[0]); ++i) {
    const signalfd_siginfo& info = infos[i];
    if (info.ssi_signo == SIGCHLD) {
      reap_pending_ = true;
    } else if (info.ssi_code == SI_USER && static_cast<pid_t>(info.ssi_pid) == ::getpid()) {
      // Raised by the init's own system call: the SIGPIPE of a write to a
      // closed stderr (the kernel's send_sig() names the writer as sender).
      // It is the init's business, not the child's.
    } else {
      OnSignal(info);
    }
  }
  return true;
}

int Loop::Run() {
  if (config_.tty_handoff) {
    // Give up our controlling terminal so the child's new session can take
    // it. If we led the session, the kernel sends our group SIGHUP and
    // SIGCONT: swallow the first of each instead of forwarding them.
    if (sys::Ioctl(STDIN_FILENO, TIOCNOTTY, 0).ok() && ::getsid(0) == ::getpid()) {
      ignore_once_[SIGHUP] = true;
      ignore_once_[SIGCONT] = true;
    }
  }
  if (config_.command != nullptr && !Start()) return exit_code_;
  while (!finished_) {
    if (!WaitForSignals(NextDeadline())) {
      Say(Level::kWarn, Text::kReadingSignalsFailed, ErrorText(errno));
    }
    Reap();
    CheckDeadlines();
  }
  ReportStatus();
  return exit_code_;
}

void Loop::ReportStatus() const {
  if (config_.status_fd < 0 || last_wait_status_ < 0) return;
  char line[24];
  common::Formatter f(line, sizeof line);
  const bool signaled = WIFSIGNALED(last_wait_status_);
  f.Printf("%s %d\n", signaled ? "signal" : "exit",
           signaled ? WTERMSIG(last_wait_status_) : WEXITSTATUS(last_wait_status_));
  // EPIPE and EBADF are the reader's business. The SIGPIPE a closed pipe
  // raises stays blocked and unread: the init exits next.
  common::WriteAll(config_.status_fd, f.data(), f.size());
}

}  // namespace

int Run(const Config& config, char** envp) {
  ConfigureSay(config);

  // Block every signal first, by kernel number (signals.h says why not
  // sigfillset); they arrive through the signalfd from now on. The child
  // restores original_mask, all 64 bits of it, before execve.
  KernelSigMask original_mask = 0;
  if (common::SysResult r = SetKernelSigMask(SIG_BLOCK, &kInitBlocked, &original_mask); !r.ok()) {
    Say(Level::kError, Text::kSigprocmask, ErrorText(r.err));
    return config.exit_setup_failed;
  }
  const common::SysResult sfd =
      common::FromRet(::syscall(SYS_signalfd4, -1, &kInitBlocked, kKernelSigMaskBytes, SFD_CLOEXEC));
  if (!sfd.ok()) {
    Say(Level::kError, Text::kSignalfd, ErrorText(sfd.err));
    return config.exit_setup_failed;
  }
  common::UniqueFd signal_fd(static_cast<int>(sfd.value));
  TakeOverSigchld();
  // The command must not inherit the status pipe: its end of file is how
  // the reader learns that the init is gone. A bad FD shows up (and is
  // ignored) at the write.
  if (config.status_fd >= 0) (void)::syscall(SYS_fcntl, config.status_fd, F_SETFD, FD_CLOEXEC);

  if (config.pdeathsig != 0) {
    if (common::SysResult r = sys::Prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(config.pdeathsig));
        !r.ok()) {
      Say(Level::kError, Text::kPrctlPRSETPDEATHSIG, config.pdeathsig, ErrorText(r.err));
      return config.exit_setup_failed;
    }
  }

  const bool pid1 = ::getpid() == 1;
  const bool pause = config.command == nullptr;
  bool subreaper = config.subreaper == Subreaper::kAlways ||
                   (config.subreaper == Subreaper::kWhenNotPid1 && !pid1);
  if (subreaper && !pid1) {
    if (common::SysResult r = sys::Prctl(PR_SET_CHILD_SUBREAPER, 1); !r.ok()) {
      if (config.style == MessageStyle::kCatatonit) {
        Say(Level::kError, Text::kFailedToSetChild, ErrorText(r.err));
        return config.exit_setup_failed;
      }
      Say(Level::kWarn, Text::kPrctlPRSETCHILD, ErrorText(r.err));
      subreaper = false;
    }
  }
  if (!pid1) {
    switch (config.style) {
      case MessageStyle::kMinipod:
        if (config.subreaper == Subreaper::kWhenNotPid1 && subreaper) {
          Say(Level::kWarn, Text::kNotPID1Registered);
        }
        break;
      case MessageStyle::kTini:
        if (!subreaper) {
          Say(Level::kWarn, Text::kTiniNotReaper);
        }
        break;
      case MessageStyle::kPause:
        if (pause) Say(Level::kError, Text::kWarningPauseShouldBe);
        break;
      default:
        break;
    }
  }

  Loop loop(config, original_mask, envp, signal_fd.get());
  return loop.Run();
}

}  // namespace init
