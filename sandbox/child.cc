// The sandbox's child (see child.h): BuildChildPlan runs in the parent and
// is pure; ChildMain and ExecInChild run after the clone and only make
// system calls (setns, unshare, setsid, mount, pivot_root, sethostname,
// netlink, prctl, set*id, capset, chdir, open/ioctl of the container's
// ptmx, sendmsg, dup2, close_range, seccomp, execve).
#include "sandbox/child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl/status_util.h"
#include "sandbox/launcher.h"

namespace sandbox {

const char* StepName(Step s) {
  switch (s) {
    case Step::kSync: return "waiting for the launcher";
    case Step::kJoinNs: return "setns";
    case Step::kCgroupNs: return "unshare(CLONE_NEWCGROUP)";
    case Step::kSetsid: return "setsid";
    case Step::kMounts: return "setting up the root";
    case Step::kPivot: return "pivot_root";
    case Step::kHostname: return "sethostname";
    case Step::kLoopback: return "bringing up loopback";
    case Step::kBounding: return "dropping the capability bounding set";
    case Step::kSetgroups: return "setgroups";
    case Step::kSetgid: return "setresgid";
    case Step::kSetuid: return "setresuid";
    case Step::kParentDeath: return "prctl(PR_SET_PDEATHSIG)";
    case Step::kCaps: return "setting capabilities";
    case Step::kWorkdir: return "changing to the working directory";
    case Step::kTerminal: return "opening a pseudo-terminal in the container (/dev/pts/ptmx)";
    case Step::kStdio: return "setting up the command's stdin, stdout and stderr";
    case Step::kNoNewPrivs: return "prctl(PR_SET_NO_NEW_PRIVS)";
    case Step::kCloseFds: return "closing inherited descriptors";
    case Step::kSeccomp: return "installing the seccomp filter";
    case Step::kExec: return "execve";
  }
  return "?";
}

[[noreturn]] void ChildFail(int error_fd, Step step, int err, size_t index) {
  const ChildError e{static_cast<int>(step), err, index};
  (void)!::write(error_fd, &e, sizeof e);
  ::_exit(step == Step::kExec ? (err == ENOENT ? kExitNotFound : kExitNotExecutable) : kExitLauncherFailed);
}

namespace {

// FD_CLOEXEC on every descriptor from `from` to `to` (inclusive).
int CloexecRange(unsigned from, unsigned to) {
  if (from > to) return 0;
  if (::syscall(SYS_close_range, from, to, CLOSE_RANGE_CLOEXEC) == 0) return 0;
  if (errno != ENOSYS && errno != EINVAL) return errno;
  for (unsigned fd = from; fd <= to && fd < 65536; ++fd) ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  return 0;
}

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

// A pty pair from the devpts mounted at /dev/pts (the container's: we are
// past pivot_root, or in the container's mount namespace and root for an
// exec): the master is sent over sock, the slave returned. 0 or an errno.
int OpenTerminalInChild(const ExecPlan& p, int* slave_out) {
  // O_NOFOLLOW and the checks below: what sits at that path is the
  // container's business, and a process inside may have changed it; only a
  // devpts multiplexer (5:2) will do.
  const int master = ::open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
  if (master < 0) return errno;
  struct statfs fs;
  struct stat st;
  if (::fstatfs(master, &fs) != 0 || ::fstat(master, &st) != 0) return errno;
  if (fs.f_type != DEVPTS_SUPER_MAGIC || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2) {
    return ENOTTY;
  }
  int unlock = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) != 0) return errno;
  const int slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) return errno;
  if (p.terminal_rows != 0 && p.terminal_cols != 0) {
    struct winsize ws{};
    ws.ws_row = p.terminal_rows;
    ws.ws_col = p.terminal_cols;
    if (::ioctl(slave, TIOCSWINSZ, &ws) != 0) return errno;
  }
  char control[CMSG_SPACE(sizeof(int))] = {};
  char byte = 't';
  struct iovec iov = {&byte, 1};
  struct msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &master, sizeof master);
  ssize_t n;
  do {
    n = ::sendmsg(p.terminal_socket, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n != 1) return n < 0 ? errno : EIO;
  ::close(master);
  *slave_out = slave;
  return 0;
}

// stdio[i] onto i. Each source is first copied above 2, so that one
// source being another's target (stdio = {1, 0, 2}) cannot clobber it; the
// copies are close-on-exec, dup2's targets are not.
int SetupStdioInChild(const int (&stdio)[3]) {
  int copies[3] = {-1, -1, -1};
  for (int i = 0; i < 3; ++i) {
    if (stdio[i] < 0) continue;
    copies[i] = ::fcntl(stdio[i], F_DUPFD_CLOEXEC, 3);
    if (copies[i] < 0) return errno;
  }
  for (int i = 0; i < 3; ++i) {
    if (copies[i] < 0) continue;
    if (::dup2(copies[i], i) < 0) return errno;
    ::close(copies[i]);
  }
  return 0;
}

}  // namespace

[[noreturn]] void ExecInChild(const ExecPlan& p) {
  const int efd = p.error_fd;
  if (const int err = DropBoundingSetInChild(p.caps, p.last_cap, nullptr); err != 0) ChildFail(efd, Step::kBounding, err);
  if (p.clear_groups && ::setgroups(0, nullptr) != 0) ChildFail(efd, Step::kSetgroups, errno);
  if (::setresgid(p.gid, p.gid, p.gid) != 0) ChildFail(efd, Step::kSetgid, errno);
  if (::setresuid(p.uid, p.uid, p.uid) != 0) ChildFail(efd, Step::kSetuid, errno);
  // The kernel clears the parent-death signal when the effective or
  // filesystem ids change: arm it again, then make sure the launcher did
  // not die before this line (its pidfd turns readable when it exits; from a
  // new pid namespace getppid() is 0 whoever the parent is).
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(efd, Step::kParentDeath, errno);
  if (p.launcher_pidfd >= 0) {
    struct pollfd pfd = {p.launcher_pidfd, POLLIN, 0};
    if (::poll(&pfd, 1, 0) != 0) ::_exit(kExitLauncherFailed);
  }
  if (::getppid() != p.expected_ppid) ::_exit(kExitLauncherFailed);
  if (const int err = SetCapsInChild(p.caps, p.uid == 0, nullptr); err != 0) ChildFail(efd, Step::kCaps, err);
  if (::chdir(p.workdir) != 0) ChildFail(efd, Step::kWorkdir, errno);
  if (p.command_paths != nullptr) {
    // As execvp will see it, with the command's ids and working directory.
    int probe_err = ENOENT;
    bool found = false;
    for (const char* const* path = p.command_paths; *path != nullptr && !found; ++path) {
      struct stat st;
      if (::stat(*path, &st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR) probe_err = errno;
        continue;
      }
      if (!S_ISREG(st.st_mode) || ::access(*path, X_OK) != 0) {
        probe_err = EACCES;
        continue;
      }
      found = true;
    }
    if (!found) ChildFail(efd, Step::kExec, probe_err, kCommandProbe);
  }
  int stdio[3] = {p.stdio[0], p.stdio[1], p.stdio[2]};
  if (p.terminal_socket >= 0) {
    int slave = -1;
    if (const int err = OpenTerminalInChild(p, &slave); err != 0) ChildFail(efd, Step::kTerminal, err);
    stdio[0] = stdio[1] = stdio[2] = slave;
  }
  if (const int err = SetupStdioInChild(stdio); err != 0) ChildFail(efd, Step::kStdio, err);
  if (p.controlling_tty) {
    // TIOCSCTTY needs a session leader without a terminal: the sandbox's
    // child already is one (kSetsid); an exec into a container is not.
    if (::getsid(0) != ::getpid() && ::setsid() < 0) ChildFail(efd, Step::kStdio, errno);
    if (::ioctl(STDIN_FILENO, TIOCSCTTY, 0) != 0) ChildFail(efd, Step::kStdio, errno);
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ChildFail(efd, Step::kNoNewPrivs, errno);
  // The command starts with default dispositions and nothing blocked,
  // whatever the caller of minipod had (the launcher blocks the signals it
  // forwards).
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Every inherited descriptor but 0-2 (and keep_fd) closes at exec: the
  // error pipe too, which is how the launcher learns the exec worked.
  int err = 0;
  if (p.keep_fd >= 3) {
    err = CloexecRange(3, static_cast<unsigned>(p.keep_fd) - 1);
    if (err == 0) err = CloexecRange(static_cast<unsigned>(p.keep_fd) + 1, ~0U);
    if (err == 0 && ::fcntl(p.keep_fd, F_SETFD, 0) != 0) err = errno;
  } else {
    err = CloexecRange(3, ~0U);
  }
  if (err != 0) ChildFail(efd, Step::kCloseFds, err);
  // Last: from here on the filter applies to us as well.
  if (p.seccomp != nullptr) {
    if (const int e = InstallSeccompInChild(*p.seccomp); e != 0) ChildFail(efd, Step::kSeccomp, e);
  }
  int exec_err = ENOENT;
  for (const char* const* path = p.exec_paths; path != nullptr && *path != nullptr; ++path) {
    ::execve(*path, p.argv, p.envp);
    // As execvp: remember a file that exists but cannot run.
    if (errno != ENOENT && errno != ENOTDIR) exec_err = errno;
  }
  ChildFail(efd, Step::kExec, exec_err);
}

namespace {

// Waits for the launcher's "go"; EOF (it died, or gave up on us) ends the
// child quietly.
void WaitForGo(int sync_fd) {
  char go = 0;
  ssize_t n;
  do {
    n = ::read(sync_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(kExitLauncherFailed);
  ::close(sync_fd);
}

}  // namespace

[[noreturn]] void ChildMain(const ChildPlan& p) {
  const int efd = p.exec.error_fd;
  ::close(p.sync_write_fd);
  ::close(p.error_read_fd);
  // Dies with the launcher; the read of "go" covers a launcher that died
  // before this line.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (!p.go_before_exec) WaitForGo(p.sync_fd);

  NsType failed_ns = NsType::kUser;
  if (const int err = JoinNamespacesInChild(p.ns, &failed_ns); err != 0) {
    ChildFail(efd, Step::kJoinNs, err, static_cast<size_t>(failed_ns));
  }
  // After the joins: a user namespace joined with setns needs it as much as
  // one we were cloned into (our capabilities there survive the change).
  if (p.become_ns_root) {
    if (::setresgid(0, 0, 0) != 0) ChildFail(efd, Step::kSetgid, errno);
    if (::setresuid(0, 0, 0) != 0) ChildFail(efd, Step::kSetuid, errno);
  }
  // In the sandbox's cgroup by now: that becomes the cgroup namespace's root.
  if (!p.go_before_exec) {
    if (const int err = UnshareCgroupInChild(p.ns); err != 0) ChildFail(efd, Step::kCgroupNs, err);
  }
  // A new session: no controlling terminal to push keystrokes into.
  if (::setsid() < 0) ChildFail(efd, Step::kSetsid, errno);
  size_t failed = 0;
  if (const int err = ApplyMountsInChild(p.mounts, &failed); err != 0) ChildFail(efd, Step::kMounts, err, failed);
  if (const int err = PivotRootInChild(p.pivot_from_rootfs); err != 0) ChildFail(efd, Step::kPivot, err);
  // The host name only of a uts namespace we made: never the host's or a joined one's.
  if (p.ns[NsType::kUts].mode == NsMode::kNew && ::sethostname(p.hostname, strlen(p.hostname)) != 0) {
    ChildFail(efd, Step::kHostname, errno);
  }
  if (p.loopback != nullptr) {
    if (const int err = LoopbackUpInChild(*p.loopback, nullptr); err != 0) ChildFail(efd, Step::kLoopback, err);
  }
  if (p.go_before_exec) {
    // Now in the sandbox's cgroup (the launcher moved us before "go"),
    // which becomes the cgroup namespace's root. No cgroup file system is
    // mounted above, so the later unshare changes nothing of the tree.
    WaitForGo(p.sync_fd);
    if (const int err = UnshareCgroupInChild(p.ns); err != 0) ChildFail(efd, Step::kCgroupNs, err);
  }
  ExecInChild(p.exec);
}

std::vector<std::string> SearchPath(const std::string& cmd, const std::vector<std::string>& env) {
  if (absl::StrContains(cmd, '/')) return {cmd};
  std::string path_value;
  for (const std::string& kv : env) {
    if (absl::StartsWith(kv, "PATH=")) path_value = kv.substr(5);
  }
  std::vector<std::string> paths;
  for (absl::string_view dir : absl::StrSplit(path_value, ':', absl::SkipEmpty())) {
    paths.push_back(absl::StrCat(dir, "/", cmd));
  }
  return paths;
}

absl::StatusOr<common::UniqueFd> ReceivePtyMaster(int sock) {
  char byte = 0;
  struct iovec iov = {&byte, 1};
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return common::ErrnoStatus(errno, "recvmsg(the pty master from the child)");
  const struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (n != 1 || cmsg == nullptr || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
      cmsg->cmsg_len != CMSG_LEN(sizeof(int)) || (msg.msg_flags & MSG_CTRUNC) != 0) {
    return absl::InternalError("the child sent no pty master");
  }
  int fd = -1;
  memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
  return common::UniqueFd(fd);
}

CommandPlan BuildChildPlan(const RunConfig& config, const PlanInputs& in) {
  CommandPlan plan;
  plan.ns = in.ns != nullptr ? *in.ns : SandboxNamespaces(config.net_host(), in.rootless);
  plan.uid = config.uid;
  plan.gid = config.gid;
  // In a user namespace we made, setgroups is denied (we wrote "deny").
  plan.clear_groups = plan.ns[NsType::kUser].mode != NsMode::kNew;
  // From a new or joined pid namespace the parent is outside it: getppid()
  // is 0 (a joined one is never our own: that is planned as the host's).
  plan.expected_ppid = plan.ns[NsType::kPid].mode == NsMode::kHost ? in.launcher_pid : 0;
  // argv: under minipod-init at /dev/init unless --no-init. --setsid is
  // dumb-init's model: the command in a session of its own, every signal to
  // its whole process group (Ctrl-C reaches a shell's children too), and
  // SIGTSTP/SIGTTIN/SIGTTOU stop that group with SIGSTOP (the kernel
  // discards them for an orphaned group).
  if (config.init) {
    plan.args = {"/dev/init", "--setsid"};
    // Not PID 1 of a pid namespace it did not make: a subreaper, so the
    // command's orphans are still its to reap.
    if (plan.ns[NsType::kPid].mode != NsMode::kNew) plan.args.push_back("--subreaper");
    if (in.init_status_fd >= 0) {
      plan.args.push_back("--status-fd");
      plan.args.push_back(absl::StrCat(in.init_status_fd));
      plan.keep_fd = in.init_status_fd;
    }
    plan.args.push_back("--");
    plan.exec_paths = {"/dev/init"};
  }
  plan.args.insert(plan.args.end(), config.command.begin(), config.command.end());
  plan.env = CommandEnvironment(config, in.term);
  if (!config.init && !config.command.empty()) {
    // The image's PATH, searched as execvp would.
    plan.exec_paths = SearchPath(config.command[0], plan.env);
  }
  for (std::string& a : plan.args) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);
  for (std::string& e : plan.env) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  for (const std::string& path : plan.exec_paths) plan.paths.push_back(path.c_str());
  plan.paths.push_back(nullptr);
  if (config.init && !config.command.empty()) {
    plan.command_candidates = SearchPath(config.command[0], plan.env);
    for (const std::string& path : plan.command_candidates) plan.command_paths.push_back(path.c_str());
    plan.command_paths.push_back(nullptr);
  }
  return plan;
}

}  // namespace sandbox
