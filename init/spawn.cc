// Spawn(): clone(CLONE_VM|CLONE_VFORK) + child setup + execve. The child
// shares our memory until execve, so it uses no heap and no stdio, only raw
// syscalls and Say() (one write(2)), and reports a failed execve in memory.
#include "init/spawn.h"

#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "common/format.h"
#include "init/options.h"
#include "init/say.h"

namespace init {
namespace {

struct ChildArgs {
  const Config* config;
  KernelSigMask original_mask;
  char** envp;
  int exec_err;  // written by the child, read after it has exec'd or exited
};

// The child runs on this stack while the parent is suspended (CLONE_VFORK),
// so one is enough for every restart. In .bss: it costs no file size.
alignas(16) char g_child_stack[32 * 1024];
// "LISTEN_PID=<pid>" for catatonit -L; in shared memory on purpose, since
// the envp slot the child rewrites belongs to the parent too.
char g_listen_pid[32];

// Socket activation through the init: when LISTEN_PID names the init (its
// leading digits, as strtol reads them), the service is the real recipient,
// so LISTEN_PID becomes the child's pid (catatonit). A restarted child finds
// the slot pointing at g_listen_pid, holding its predecessor's pid: it is
// rewritten again, since the init is still the one systemd named.
void RewriteListenPid(char** envp) {
  if (envp == nullptr) return;
  for (char** e = envp; *e != nullptr; ++e) {
    if (*e != g_listen_pid) {
      if (strncmp(*e, "LISTEN_PID=", 11) != 0) continue;
      long named = 0;
      for (const char* d = *e + 11; *d >= '0' && *d <= '9' && named < 1L << 40; ++d) {
        named = named * 10 + (*d - '0');
      }
      if (named != ::getppid()) return;
    }
    common::Formatter f(g_listen_pid, sizeof g_listen_pid);
    f.Printf("LISTEN_PID=%d", static_cast<int>(::getpid()));
    *e = g_listen_pid;
    return;
  }
}

// The kernel's struct sigaction; the raw syscall is used because the child
// shares the parent's memory, and libc's sigaction keeps bookkeeping there.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  unsigned long mask;
};

void SetDisposition(int sig, void (*handler)(int), KernelSigaction* old = nullptr) {
  const KernelSigaction action = {handler, 0, nullptr, 0};
  ::syscall(SYS_rt_sigaction, sig, &action, old, 8);
}

// Whether the init inherited SIGCHLD ignored (see TakeOverSigchld).
bool g_sigchld_was_ignored = false;

// Resets signals 1..31 to SIG_DFL.
void ResetDispositions() {
  for (int s = 1; s < 32; ++s) {
    if (s != SIGKILL && s != SIGSTOP) SetDisposition(s, SIG_DFL);
  }
}

// execvp(3) with an explicit environment and without libc's allocation-free
// but larger version: a name containing '/' runs as given, otherwise each
// PATH entry is tried (an empty entry means the current directory). Returns
// the errno to report: EACCES if any candidate was not executable, else the
// last error, as execvp does.
int ExecSearchingPath(const char* file, char** argv, char** envp) {
  if (*file == '\0') return ENOENT;
  if (common::FindChar(file, '/') != nullptr) {
    ::execve(file, argv, envp);
    return errno;
  }
  const char* path = GetEnv(envp, "PATH");
  if (path == nullptr) path = "/usr/local/bin:/bin:/usr/bin";
  const size_t file_len = strlen(file);
  if (file_len > NAME_MAX) return ENAMETOOLONG;
  bool seen_eacces = false;
  int err = ENOENT;
  char buf[PATH_MAX];
  for (const char* dir = path;; ++dir) {
    const char* end = common::FindChar(dir, ':');
    const size_t dir_len = end != nullptr ? static_cast<size_t>(end - dir) : strlen(dir);
    if (dir_len + 1 + file_len < sizeof buf) {
      memcpy(buf, dir, dir_len);
      size_t n = dir_len;
      if (n > 0) buf[n++] = '/';
      memcpy(buf + n, file, file_len + 1);
      ::execve(buf, argv, envp);
      err = errno;
      if (err == EACCES) {
        seen_eacces = true;
      } else if (err != ENOENT && err != ENOTDIR) {
        return err;  // it exists but cannot run: say why
      }
    }
    if (end == nullptr) break;
    dir = end;
  }
  return seen_eacces ? EACCES : err;
}

int ChildMain(void* p) {
  ChildArgs& args = *static_cast<ChildArgs*>(p);
  const Config& config = *args.config;
  switch (config.placement) {
    case Placement::kOwnGroup:
      // Its own process group, in the terminal's foreground, so ^C and ^Z
      // reach it. SIGTTOU is still blocked here, so tcsetpgrp from a
      // background group succeeds; no terminal (ENOTTY/ENXIO) is normal.
      (void)common::sys::SetPgid(0, 0);
      (void)common::sys::TcSetPgrp(STDIN_FILENO, ::getpgrp());
      break;
    case Placement::kNewSession:
      if (common::SysResult r = common::sys::SetSid(); !r.ok()) {
        Say(common::Level::kError, Text::kUnableToSetsidErrno, r.err,
            ErrorText(r.err));
        args.exec_err = r.err;
        ::_exit(config.exit_setup_failed);
      }
      // Take the terminal as our controlling tty, if there is one.
      (void)common::sys::Ioctl(STDIN_FILENO, TIOCSCTTY, 0);
      break;
    case Placement::kSameGroup:
      break;
  }

  if (config.child_signals == ChildSignals::kReset) {
    ResetDispositions();
    const KernelSigMask none = 0;
    (void)SetKernelSigMask(SIG_SETMASK, &none, nullptr);
  } else {
    KernelSigMask mask = args.original_mask;
    if (config.child_blocks_job_control) {
      mask |= SignalBit(SIGTSTP) | SignalBit(SIGTTIN) | SignalBit(SIGTTOU);
    }
    // Hand back exactly the dispositions the init inherited.
    if (g_sigchld_was_ignored) SetDisposition(SIGCHLD, SIG_IGN);
    (void)SetKernelSigMask(SIG_SETMASK, &mask, nullptr);
  }
  if (config.listen_fds) RewriteListenPid(args.envp);

  const int err = ExecSearchingPath(config.command[0], config.command, args.envp);
  args.exec_err = err;
  switch (config.style) {
    case MessageStyle::kTini:
      Say(common::Level::kError, Text::kExecFailed, config.command[0], ErrorText(err));
      break;
    case MessageStyle::kDumbInit:
      Say(common::Level::kError, Text::kNameColonError, config.command[0], ErrorText(err));
      break;
    case MessageStyle::kCatatonit:
      Say(common::Level::kError, Text::kFailedToExecPid1, ErrorText(err));
      break;
    default:
      Say(common::Level::kError, Text::kCannotRun, config.command[0], ErrorText(err));
      break;
  }
  ::_exit(ExecFailureExitCode(config, err));
}

}  // namespace

void TakeOverSigchld() {
  KernelSigaction old{};
  SetDisposition(SIGCHLD, SIG_DFL, &old);
  g_sigchld_was_ignored = old.handler == SIG_IGN;
}

SpawnResult Spawn(const Config& config, KernelSigMask original_mask, char** envp) {
  SpawnResult result;
  ChildArgs args{&config, original_mask, envp, 0};
  // CLONE_VM|CLONE_VFORK, as posix_spawn does: no page tables to copy, and
  // we resume only once the child has exec'd or exited, with exec_err set.
  // Every signal is blocked and the init installs no handler, so nothing
  // can run on the shared memory in between.
  const int pid = ::clone(ChildMain, g_child_stack + sizeof g_child_stack,
                          CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  if (pid < 0) {
    result.fork_err = errno;
    return result;
  }
  // With CLONE_VFORK the child has already placed itself (setpgid/setsid)
  // before we resume: no second setpgid from this side is needed.
  result.pid = pid;
  result.exec_err = args.exec_err;
  return result;
}

}  // namespace init
