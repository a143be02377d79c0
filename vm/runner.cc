// `minipod vm`'s run: the initrd, QEMU as our child (dies with us:
// PR_SET_PDEATHSIG), its console copied and scanned, signals forwarded, the
// time bounded. Parent side: fork, execv (in the child), pidfd_open,
// pidfd_send_signal, signalfd, poll, waitpid, tcsetattr.
#include "vm/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"
#include "rootfs/modules.h"
#include "rootfs/staging.h"
#include "vm/initrd.h"
#include "vm/kernel_choice.h"

namespace vm {
namespace {

using common::UniqueFd;

constexpr char kQemu[] = "qemu-system-x86_64";
// The fd number QEMU reads the initrd from (/proc/self/fd/3).
constexpr int kInitrdFd = 3;
// After SIGTERM, QEMU has this long to go before SIGKILL.
constexpr int64_t kKillGraceMs = 5000;
// After QEMU is gone, what is still in the pipe is read for this long.
constexpr int kDrainMs = 2000;

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int PidfdSignal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// The signals a terminal or a supervisor sends us: forwarded to QEMU.
// SIGPIPE: a stdout that went away must not kill us before QEMU is
// stopped; it is read and dropped.
sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) sigaddset(&set, s);
  return set;
}

// Blocks the handled signals for the whole run (a ^C while the initrd is
// built waits for the loop, so the temporary files still go) and reads
// them from a signalfd; the old mask comes back after what is pending was
// read.
class SignalGuard {
 public:
  absl::Status Init() {
    const sigset_t set = HandledSignals();
    if (::sigprocmask(SIG_BLOCK, &set, &old_) != 0) return common::ErrnoStatus(errno, "sigprocmask");
    blocked_ = true;
    fd_.Reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd_) return common::ErrnoStatus(errno, "signalfd");
    return absl::OkStatus();
  }
  ~SignalGuard() {
    if (!blocked_) return;
    while (Next() != 0) {
    }
    ::sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  // The next pending signal, 0 when none.
  int Next() {
    if (!fd_) return 0;
    struct signalfd_siginfo si;
    const ssize_t n = ::read(fd_.get(), &si, sizeof si);
    return n == static_cast<ssize_t>(sizeof si) ? static_cast<int>(si.ssi_signo) : 0;
  }
  int fd() const { return fd_.get(); }
  const sigset_t& old() const { return old_; }

 private:
  sigset_t old_;
  bool blocked_ = false;
  UniqueFd fd_;
};

// Our terminal's modes, put back when the run ends: QEMU makes its stdio
// raw and cannot restore it when it is killed.
class TerminalGuard {
 public:
  TerminalGuard() {
    if (::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved_) == 0) saved_ok_ = true;
  }
  ~TerminalGuard() {
    if (saved_ok_) ::tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_);
  }

 private:
  struct termios saved_ {};
  bool saved_ok_ = false;
};

bool KvmUsable() {
  UniqueFd fd(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
  return fd.valid();
}

void WriteConsole(int fd, const char* data, size_t len, bool* broken) {
  while (!*broken && len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      *broken = true;  // EPIPE, ...: the run goes on, unseen
      return;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
}

// The initrd as an open file: the image itself, or a nameless copy of it
// (decompressed when it expands, image_expand.h) with what this run adds
// appended. The scratch files are gone on return.
absl::StatusOr<UniqueFd> PrepareInitrd(const VmConfig& config, const KernelChoice& kernel) {
  const bool nine_p = config.host_root || !config.shares.empty();
  if (nine_p && kernel.release.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot tell the release of kernel ", kernel.image,
        " (its name is not vmlinuz-RELEASE): --share and --host-root load the 9p modules from ",
        config.modules_root, "/RELEASE"));
  }
  // Decompressed on the host (image_expand.h) up to a quarter of the
  // guest's memory: the kernel holds the archive and its unpacked files at
  // once, and a larger image is better left to unpack from less.
  const size_t expand_limit = static_cast<size_t>(MemoryBytes(config.memory) / 4);
  if (!config.host_root && !config.has_command && !nine_p && !MayExpand(config.image, expand_limit)) {
    UniqueFd fd(::open(config.image.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return common::ErrnoStatus(errno, absl::StrCat("image ", config.image));
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("image ", config.image));
    if (!S_ISREG(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat("image ", config.image, ": not a regular file"));
    }
    return fd;
  }
  ExtraConfig extra;
  extra.has_command = config.has_command || config.host_root;
  extra.command = config.command;
  // --host-root without a command: a shell on the console, as virtme-ng.
  if (config.host_root && !config.has_command) extra.command = {"/bin/sh"};
  extra.nine_p = nine_p;
  extra.kernel_release = kernel.release;
  extra.modules_root = config.modules_root;
  if (config.host_root) {
    extra.init_path = config.init_path;
  } else if (nine_p) {
    for (auto [path, lines] : {std::pair{std::string(rootfs::kModuleListPath), &extra.image_modules},
                               std::pair{ModulesDepPath(kernel.release), &extra.image_modules_dep}}) {
      absl::StatusOr<std::string> data = ReadImageFile(config.image, path);
      if (data.ok()) {
        *lines = *std::move(data);
      } else if (!absl::IsNotFound(data.status())) {
        return data.status();
      }
    }
  }
  ASSIGN_OR_RETURN(rootfs::Staging staging, rootfs::Staging::Create());
  const std::string extra_path = staging.NewPath("extra.cpio");
  ASSIGN_OR_RETURN(const bool wrote, WriteExtraArchive(extra, staging, extra_path));
  return AssembleInitrd(config.host_root ? "" : config.image, wrote ? extra_path : "", staging.dir(),
                        expand_limit);
}

struct Child {
  pid_t pid = -1;
  UniqueFd pidfd;
  UniqueFd console;  // QEMU's stdout
};

// Forks QEMU: stdout a pipe to us, the initrd at fd 3, our signal mask as
// it was before the run, killed when we die.
absl::StatusOr<Child> StartQemu(const std::vector<std::string>& argv, int initrd_fd, const sigset_t& mask) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return common::ErrnoStatus(errno, "pipe2");
  UniqueFd out_r(out[0]), out_w(out[1]);
  int rep[2];
  if (::pipe2(rep, O_CLOEXEC) != 0) return common::ErrnoStatus(errno, "pipe2");
  UniqueFd rep_r(rep[0]), rep_w(rep[1]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return common::ErrnoStatus(errno, "fork");
  if (pid == 0) {
    // Async-signal-safe calls only until execv.
    int err = 0;
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) err = errno;
    if (err == 0 && ::getppid() != parent) ::_exit(kExitVmFailed);
    if (err == 0 && ::dup2(out_w.get(), STDOUT_FILENO) < 0) err = errno;
    if (err == 0) {
      if (initrd_fd == kInitrdFd) {
        if (::fcntl(kInitrdFd, F_SETFD, 0) != 0) err = errno;
      } else if (::dup2(initrd_fd, kInitrdFd) < 0) {
        err = errno;
      }
    }
    if (err == 0) {
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(SIGPIPE, &dfl, nullptr);
      ::sigprocmask(SIG_SETMASK, &mask, nullptr);
      ::execv(args[0], args.data());
      err = errno;
    }
    (void)!::write(rep_w.get(), &err, sizeof err);
    ::_exit(kExitVmFailed);
  }
  out_w.Reset();
  rep_w.Reset();
  Child child;
  child.pid = pid;
  child.pidfd.Reset(PidfdOpen(pid));
  const int pidfd_err = errno;
  int err = 0;
  ssize_t n;
  do {
    n = ::read(rep_r.get(), &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof err) || !child.pidfd) {
    // Our child, not yet waited for: its pid cannot have been reused.
    ::kill(pid, SIGKILL);
    int ws;
    while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    if (n == static_cast<ssize_t>(sizeof err)) return common::ErrnoStatus(err, absl::StrCat("exec ", argv[0]));
    return common::ErrnoStatus(pidfd_err, "pidfd_open(QEMU)");
  }
  child.console = std::move(out_r);
  return child;
}

}  // namespace

absl::StatusOr<std::string> FindQemu() {
  const char* path = ::getenv("PATH");
  if (path == nullptr) path = "/usr/local/bin:/usr/bin:/bin";
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    const std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", kQemu);
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return absl::NotFoundError(absl::StrCat(kQemu, " not found: apt install qemu-system-x86"));
}

absl::StatusOr<VmResult> RunVm(const VmConfig& config) {
  SignalGuard signals;
  RETURN_IF_ERROR(signals.Init());
  ASSIGN_OR_RETURN(const std::string qemu, FindQemu());
  if (config.shares.size() > kMaxShares) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxShares, " --share"));
  }
  ASSIGN_OR_RETURN(const KernelChoice kernel, ChooseKernel(config.kernel, config.no_pvh, config.boot_dir));
  ASSIGN_OR_RETURN(const UniqueFd initrd, PrepareInitrd(config, kernel));

  QemuPlan plan;
  plan.qemu = qemu;
  plan.kernel = kernel.boot;
  plan.initrd = absl::StrCat("/proc/self/fd/", kInitrdFd);
  plan.memory = config.memory;
  plan.cpus = config.cpus;
  plan.kvm = KvmUsable();
  plan.shares = config.shares;
  plan.host_root = config.host_root;
  plan.user_append = config.append;

  // A signal that came while the initrd was built: QEMU never starts.
  if (const int sig = signals.Next(); sig != 0 && sig != SIGPIPE) {
    QemuEnd end;
    end.interrupted_by = sig;
    const Outcome o = Decide(end, std::nullopt, false);
    return VmResult{o.status, o.error, {}};
  }

  TerminalGuard terminal;
  ASSIGN_OR_RETURN(Child child, StartQemu(QemuArgv(plan), initrd.get(), signals.old()));

  ConsoleScanner scanner;
  QemuEnd end;
  end.timeout_text = config.timeout_text;
  const int64_t deadline = config.timeout_ms > 0 ? NowMs() + config.timeout_ms : -1;
  int64_t kill_at = -1;
  bool stdout_broken = false;
  bool exited = false;
  bool console_open = true;
  int64_t drain_until = -1;
  char buf[16384];
  auto stop = [&](int64_t now) {
    if (kill_at >= 0) return;
    PidfdSignal(child.pidfd.get(), SIGTERM);
    kill_at = now + kKillGraceMs;
  };
  while (console_open || !exited) {
    const int64_t now = NowMs();
    if (!exited && deadline >= 0 && now >= deadline && !end.timed_out && kill_at < 0) {
      end.timed_out = true;
      stop(now);
    }
    if (!exited && kill_at >= 0 && now >= kill_at) {
      PidfdSignal(child.pidfd.get(), SIGKILL);
      kill_at = now + 3'600'000;  // sent; the pidfd says when it is gone
    }
    if (exited && now >= drain_until) break;
    // The next thing due: the deadline (until it passed), the SIGKILL after
    // a SIGTERM, the end of draining once QEMU is gone.
    int64_t next = -1;
    const int64_t due[] = {exited || end.timed_out || kill_at >= 0 ? -1 : deadline, exited ? -1 : kill_at,
                           exited ? drain_until : -1};
    for (int64_t t : due) {
      if (t >= 0 && (next < 0 || t < next)) next = t;
    }
    const int64_t wait = next < 0 ? -1 : std::min<int64_t>(std::max<int64_t>(next - now, 0), 60'000);
    struct pollfd fds[3] = {
        {console_open ? child.console.get() : -1, POLLIN, 0},
        {exited ? -1 : child.pidfd.get(), POLLIN, 0},
        {signals.fd(), POLLIN, 0},
    };
    const int r = ::poll(fds, 3, static_cast<int>(wait < 0 ? -1 : wait));
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      PidfdSignal(child.pidfd.get(), SIGKILL);
      int ws;
      while (::waitpid(child.pid, &ws, 0) < 0 && errno == EINTR) {
      }
      return common::ErrnoStatus(err, "poll");
    }
    if (fds[0].revents != 0) {
      const ssize_t n = ::read(child.console.get(), buf, sizeof buf);
      if (n > 0) {
        WriteConsole(STDOUT_FILENO, buf, static_cast<size_t>(n), &stdout_broken);
        scanner.Feed(absl::string_view(buf, static_cast<size_t>(n)));
      } else if (n == 0 || errno != EINTR) {
        console_open = false;
      }
    }
    if (fds[1].revents != 0) {
      exited = true;
      drain_until = NowMs() + kDrainMs;
    }
    if (fds[2].revents != 0) {
      for (int sig = signals.Next(); sig != 0; sig = signals.Next()) {
        if (sig == SIGPIPE || exited) continue;
        if (end.interrupted_by == 0 && !end.timed_out) end.interrupted_by = sig;
        if (kill_at >= 0) {
          // Asked again: no more grace.
          PidfdSignal(child.pidfd.get(), SIGKILL);
        } else {
          stop(NowMs());
        }
      }
    }
  }
  scanner.Finish();
  int ws = 0;
  while (::waitpid(child.pid, &ws, 0) < 0) {
    if (errno != EINTR) return common::ErrnoStatus(errno, "waitpid(QEMU)");
  }
  end.exited = WIFEXITED(ws);
  end.code = WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws);
  const Outcome outcome = Decide(end, scanner.status(), scanner.init_seen());
  VmResult result{outcome.status, outcome.error, {}};
  if (!outcome.error.empty()) result.tail = scanner.Tail();
  return result;
}

}  // namespace vm
