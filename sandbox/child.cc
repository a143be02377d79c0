// The sandbox's child (see child.h): BuildChildPlan runs in the parent and
// is pure; ChildMain and ExecInChild run after the clone and only make
// system calls (setns, unshare, setsid, mount, pivot_root, sethostname,
// netlink, prctl, set*id, capset, chdir, close_range, seccomp, execve).
#include "sandbox/child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

[[noreturn]] void ChildMain(const ChildPlan& p) {
  const int efd = p.exec.error_fd;
  ::close(p.sync_write_fd);
  ::close(p.error_read_fd);
  // Dies with the launcher; the read below covers a launcher that died
  // before this line.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  char go = 0;
  ssize_t n;
  do {
    n = ::read(p.sync_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(kExitLauncherFailed);
  ::close(p.sync_fd);
  for (int i = 0; i < 3; ++i) {
    if (p.stdio[i] >= 0 && ::dup2(p.stdio[i], i) < 0) ChildFail(efd, Step::kSync, errno);
  }

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
  if (const int err = UnshareCgroupInChild(p.ns); err != 0) ChildFail(efd, Step::kCgroupNs, err);
  // A new session: no controlling terminal to push keystrokes into.
  if (::setsid() < 0) ChildFail(efd, Step::kSetsid, errno);
  size_t failed = 0;
  if (const int err = ApplyMountsInChild(p.mounts, &failed); err != 0) ChildFail(efd, Step::kMounts, err, failed);
  if (const int err = PivotRootInChild(); err != 0) ChildFail(efd, Step::kPivot, err);
  // The host name only of a uts namespace we made: never the host's or a joined one's.
  if (p.ns[NsType::kUts].mode == NsMode::kNew && ::sethostname(p.hostname, strlen(p.hostname)) != 0) {
    ChildFail(efd, Step::kHostname, errno);
  }
  if (p.loopback != nullptr) {
    if (const int err = LoopbackUpInChild(*p.loopback, nullptr); err != 0) ChildFail(efd, Step::kLoopback, err);
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
  return plan;
}

}  // namespace sandbox
