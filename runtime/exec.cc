// exec: the caller forks a helper that joins the container's namespaces
// and clones the process (CLONE_PARENT: the caller's child, in the
// container's pid namespace), reports its pid and exits. The caller moves
// the process into the container's cgroup, lets it go, learns from a
// CLOEXEC pipe whether the exec worked, then forwards signals until it
// ends.
#include "runtime/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"
#include "runtime/pty.h"
#include "sandbox/caps.h"
#include "sandbox/child.h"
#include "sandbox/launcher.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace runtime {
namespace {

constexpr char kSeccompMagic[8] = {'M', 'P', 'S', 'E', 'C', 'C', 'M', '1'};
constexpr uint32_t kMaxFilter = 65536;
// -t: how long the end waits for output still in the pty.
constexpr int kTerminalDrainMs = 1000;

struct NsFlag {
  const char* name;
  int flag;
};
constexpr NsFlag kNsFlags[] = {
    {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},     {"pid", CLONE_NEWPID},       {"ipc", CLONE_NEWIPC},
    {"uts", CLONE_NEWUTS},   {"net", CLONE_NEWNET},    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

absl::Status WriteAllFd(int fd, const void* data, size_t n, const std::string& what) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return common::ErrnoStatus(w < 0 ? errno : EIO, absl::StrCat("write(", what, ")"));
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

bool ReadFull(int fd, void* data, size_t n) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// The environment: the container's, then the request's (a later K wins).
std::vector<std::string> MergeEnv(const std::vector<std::string>& base, const std::vector<std::string>& extra) {
  std::vector<std::string> out = base;
  for (const std::string& kv : extra) {
    const std::string key = kv.substr(0, kv.find('=') + 1);
    bool replaced = false;
    for (std::string& e : out) {
      if (e.compare(0, key.size(), key) == 0) {
        e = kv;
        replaced = true;
      }
    }
    if (!replaced) out.push_back(kv);
  }
  return out;
}

}  // namespace

absl::Status WriteSeccompFile(int dir_fd, const sandbox::SeccompProgram& program) {
  const std::string tmp = absl::StrCat(kSeccompFile, ".tmp-", ::getpid());
  common::UniqueFd fd(::openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("create(", kSeccompFile, ")"));
  const uint32_t counts[2] = {static_cast<uint32_t>(program.filter.size()), static_cast<uint32_t>(program.second.size())};
  absl::Status s = WriteAllFd(fd.get(), kSeccompMagic, sizeof kSeccompMagic, kSeccompFile);
  if (s.ok()) s = WriteAllFd(fd.get(), counts, sizeof counts, kSeccompFile);
  if (s.ok()) s = WriteAllFd(fd.get(), program.filter.data(), program.filter.size() * sizeof(sock_filter), kSeccompFile);
  if (s.ok()) s = WriteAllFd(fd.get(), program.second.data(), program.second.size() * sizeof(sock_filter), kSeccompFile);
  if (s.ok() && ::renameat(dir_fd, tmp.c_str(), dir_fd, kSeccompFile) != 0) {
    s = common::ErrnoStatus(errno, absl::StrCat("rename(", kSeccompFile, ")"));
  }
  if (!s.ok()) ::unlinkat(dir_fd, tmp.c_str(), 0);
  return s;
}

absl::StatusOr<sandbox::SeccompProgram> ReadSeccompFile(int dir_fd) {
  common::UniqueFd fd(::openat(dir_fd, kSeccompFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("open(", kSeccompFile, ")"));
  char magic[sizeof kSeccompMagic];
  uint32_t counts[2];
  if (!ReadFull(fd.get(), magic, sizeof magic) || memcmp(magic, kSeccompMagic, sizeof magic) != 0 ||
      !ReadFull(fd.get(), counts, sizeof counts) || counts[0] > kMaxFilter || counts[1] > kMaxFilter) {
    return absl::DataLossError(absl::StrCat(kSeccompFile, ": not a filter file of this minipod"));
  }
  sandbox::SeccompProgram program;
  program.filter.resize(counts[0]);
  program.second.resize(counts[1]);
  if (!ReadFull(fd.get(), program.filter.data(), counts[0] * sizeof(sock_filter)) ||
      !ReadFull(fd.get(), program.second.data(), counts[1] * sizeof(sock_filter))) {
    return absl::DataLossError(absl::StrCat(kSeccompFile, ": truncated"));
  }
  return program;
}

absl::StatusOr<int> ExecInContainer(const StateStore& store, const std::string& name, const ExecRequest& request) {
  ASSIGN_OR_RETURN(const ContainerState state, store.Load(Kind::kContainer, name));
  if (const std::string status = state.Status(); status != "running") {
    return absl::FailedPreconditionError(absl::StrCat("container ", name, " is not running (", status, ")"));
  }
  absl::StatusOr<common::UniqueFd> target = OpenProcess(state.init);
  if (!target.ok()) return absl::FailedPreconditionError(absl::StrCat("container ", name, " is not running"));
  ASSIGN_OR_RETURN(common::UniqueFd dir, store.Dir(Kind::kContainer, name));
  sandbox::SeccompProgram seccomp;
  if (state.exec.seccomp) {
    ASSIGN_OR_RETURN(seccomp, ReadSeccompFile(dir.get()));
  }

  // Every namespace type of the container's that is not ours; the user
  // one (if any) is joined first by the kernel, which gives the rights
  // for the rest.
  int flags = 0;
  bool own_userns = false, own_pidns = false;
  for (const NsFlag& ns : kNsFlags) {
    struct stat mine, theirs;
    if (::stat(absl::StrCat("/proc/self/ns/", ns.name).c_str(), &mine) != 0) continue;
    if (::stat(absl::StrCat("/proc/", state.init.pid, "/ns/", ns.name).c_str(), &theirs) != 0) {
      return common::ErrnoStatus(errno, absl::StrCat("stat(/proc/", state.init.pid, "/ns/", ns.name, ")"));
    }
    if (mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev) continue;
    flags |= ns.flag;
    if (ns.flag == CLONE_NEWUSER) own_userns = true;
    if (ns.flag == CLONE_NEWPID) own_pidns = true;
  }
  // The pidfd must still be the process we looked at.
  {
    struct pollfd p = {target->get(), POLLIN, 0};
    if (::poll(&p, 1, 0) != 0) return absl::FailedPreconditionError(absl::StrCat("container ", name, " is not running"));
  }

  // The plan, all in memory before the fork.
  std::vector<std::string> env = MergeEnv(state.exec.env, request.env);
  std::vector<std::string> args = request.command;
  std::vector<std::string> paths = sandbox::SearchPath(args[0], env);
  std::vector<char*> argv, envp;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<const char*> path_ptrs;
  for (const std::string& p : paths) path_ptrs.push_back(p.c_str());
  path_ptrs.push_back(nullptr);
  const std::string workdir = request.workdir.value_or(state.exec.workdir);

  common::UniqueFd self_pidfd(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
  common::UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int error_pipe[2], sync_pipe[2], pid_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0 || ::pipe2(sync_pipe, O_CLOEXEC) != 0 || ::pipe2(pid_pipe, O_CLOEXEC) != 0) {
    return common::ErrnoStatus(errno, "pipe2");
  }
  common::UniqueFd error_read(error_pipe[0]), error_write(error_pipe[1]);
  common::UniqueFd sync_read(sync_pipe[0]), sync_write(sync_pipe[1]);
  common::UniqueFd pid_read(pid_pipe[0]), pid_write(pid_pipe[1]);

  sandbox::ExecPlan plan;
  plan.error_fd = error_write.get();
  plan.caps = state.exec.caps;
  plan.last_cap = sandbox::LastCap();
  // In a user namespace whose setgroups is "deny" (rootless), setgroups fails.
  plan.clear_groups = !own_userns;
  plan.uid = request.uid.value_or(state.exec.uid);
  plan.gid = request.gid.value_or(request.uid.has_value() ? *request.uid : state.exec.gid);
  plan.launcher_pidfd = self_pidfd.get();
  plan.expected_ppid = own_pidns ? 0 : ::getpid();
  plan.workdir = workdir.c_str();
  plan.seccomp = state.exec.seccomp ? &seccomp : nullptr;
  plan.exec_paths = path_ptrs.data();
  plan.argv = argv.data();
  plan.envp = envp.data();
  // -t: the process opens the pty in the container's devpts (its mount
  // namespace joined) and sends the master here; declared before the
  // signal mask so that our terminal is put back after it.
  std::optional<ForegroundTerminal> terminal;
  common::UniqueFd term_read, term_write;
  if (request.tty) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
      return common::ErrnoStatus(errno, "socketpair(terminal)");
    }
    term_read = common::UniqueFd(sv[0]);
    term_write = common::UniqueFd(sv[1]);
    terminal.emplace(STDIN_FILENO, STDOUT_FILENO, request.interactive);
    const struct winsize size = terminal->InitialSize();
    plan.terminal_socket = term_write.get();
    plan.terminal_rows = size.ws_row;
    plan.terminal_cols = size.ws_col;
    plan.controlling_tty = true;
  }

  // Our signals, read from a signalfd once the process runs.
  constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
  sigset_t mask, old_mask;
  sigemptyset(&mask);
  for (int sig : kForwarded) sigaddset(&mask, sig);
  common::UniqueFd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd) return common::ErrnoStatus(errno, "signalfd");
  ::sigprocmask(SIG_BLOCK, &mask, &old_mask);
  struct RestoreMask {
    sigset_t* m;
    ~RestoreMask() { ::sigprocmask(SIG_SETMASK, m, nullptr); }
  } restore{&old_mask};

  fflush(stdout);
  fflush(stderr);
  const pid_t helper = ::fork();
  if (helper < 0) return common::ErrnoStatus(errno, "fork");
  if (helper == 0) {
    // The helper: join, clone the process as our parent's child, report
    // its pid, leave. No allocation from here.
    ::close(error_read.get());
    ::close(sync_write.get());
    ::close(pid_read.get());
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::setns(target->get(), flags) != 0) {
      sandbox::ChildFail(plan.error_fd, sandbox::Step::kJoinNs, errno);
    }
    const long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) sandbox::ChildFail(plan.error_fd, sandbox::Step::kSync, errno);
    if (pid > 0) {
      const int32_t p = static_cast<int32_t>(pid);
      (void)!::write(pid_write.get(), &p, sizeof p);
      ::_exit(0);
    }
    // The process: the caller's child now.
    ::close(pid_write.get());
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    char go = 0;
    ssize_t n;
    do {
      n = ::read(sync_read.get(), &go, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) ::_exit(sandbox::kExitLauncherFailed);
    if (!request.interactive && devnull && ::dup2(devnull.get(), 0) < 0) {
      sandbox::ChildFail(plan.error_fd, sandbox::Step::kSync, errno);
    }
    sandbox::ExecInChild(plan);
  }
  error_write.Reset();
  sync_read.Reset();
  pid_write.Reset();
  term_write.Reset();
  int ws = 0;
  while (::waitpid(helper, &ws, 0) < 0 && errno == EINTR) {}
  int32_t pid = 0;
  if (!ReadFull(pid_read.get(), &pid, sizeof pid) || pid <= 0) {
    sandbox::ChildError e{};
    if (ReadFull(error_read.get(), &e, sizeof e)) {
      return common::ErrnoStatus(e.err, absl::StrCat("joining the namespaces of container ", name));
    }
    return absl::InternalError(absl::StrCat("exec into ", name, ": the helper process died"));
  }
  common::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  auto abandon = [&](const absl::Status& s) -> absl::Status {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
    return s;
  };
  if (!pidfd) return abandon(common::ErrnoStatus(errno, "pidfd_open"));
  for (const std::string& cg : state.cgroups) {
    const std::string procs = cg + "/cgroup.procs";
    common::UniqueFd f(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
    const std::string text = absl::StrCat(pid);
    if (!f || ::write(f.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      return abandon(common::ErrnoStatus(errno, absl::StrCat("joining the cgroup of container ", name, " (", procs, ")")));
    }
  }
  if (::write(sync_write.get(), "g", 1) != 1) return abandon(common::ErrnoStatus(errno, "write(sync pipe)"));
  sync_write.Reset();
  sandbox::ChildError e{};
  if (ReadFull(error_read.get(), &e, sizeof e)) {
    while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
    const sandbox::Step step = static_cast<sandbox::Step>(e.step);
    if (step == sandbox::Step::kExec) {
      fprintf(stderr, "minipod exec: %s: %s\n", request.command[0].c_str(),
              e.err == ENOENT ? "command not found" : strerror(e.err));
      return e.err == ENOENT ? sandbox::kExitNotFound : sandbox::kExitNotExecutable;
    }
    std::string what = sandbox::StepName(step);
    if (step == sandbox::Step::kWorkdir) absl::StrAppend(&what, " ", workdir);
    return common::ErrnoStatus(e.err, what);
  }
  error_read.Reset();
  if (terminal.has_value()) {
    absl::StatusOr<common::UniqueFd> master = sandbox::ReceivePtyMaster(term_read.get());
    if (!master.ok()) return abandon(common::Annotate(master.status(), "-t"));
    if (absl::Status s = terminal->Begin(*std::move(master)); !s.ok()) return abandon(common::Annotate(s, "-t"));
  }

  for (;;) {
    struct pollfd fds[3] = {{sigfd.get(), POLLIN, 0},
                            {pidfd.get(), POLLIN, 0},
                            {terminal.has_value() ? terminal->PollFd() : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return abandon(common::ErrnoStatus(errno, "poll"));
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (::read(sigfd.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        // -t: a new size of ours goes to the pty, whose kernel side then
        // signals the process's foreground group itself.
        if (terminal.has_value() && info.ssi_signo == SIGWINCH) {
          terminal->WindowChanged();
          continue;
        }
        ::syscall(SYS_pidfd_send_signal, pidfd.get(), static_cast<int>(info.ssi_signo), nullptr, 0);
      }
    }
    if (terminal.has_value() && (fds[2].revents & POLLIN)) {
      if (absl::Status s = terminal->Pump(); !s.ok()) return abandon(common::Annotate(s, "-t"));
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      const pid_t r = ::waitpid(pid, &ws, WNOHANG);
      if (r == pid) break;
      if (r < 0 && errno != EINTR) return common::ErrnoStatus(errno, "waitpid");
    }
  }
  if (terminal.has_value()) {
    if (absl::Status s = terminal->Finish(kTerminalDrainMs); !s.ok()) {
      fprintf(stderr, "minipod exec: -t: %s\n", std::string(s.message()).c_str());
    }
  }
  if (WIFEXITED(ws)) return WEXITSTATUS(ws);
  if (WIFSIGNALED(ws)) return 128 + WTERMSIG(ws);
  return 125;
}

}  // namespace runtime
