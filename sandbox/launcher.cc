// The launcher: parent side (open, plan, clone, id maps, cgroup, wait,
// forward signals) and the child's fixed sequence (no allocation after the
// clone: every string and array was made by the parent before it).
#include "sandbox/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_util.h"
#include "common/unique_fd.h"
#include "rootfs/oci_writer.h"
#include "sandbox/caps.h"
#include "sandbox/cgroup.h"
#include "sandbox/ns_mount.h"
#include "sandbox/ns_net.h"
#include "sandbox/seccomp.h"
#include "sandbox/self_path.h"

namespace sandbox {
namespace {

// The child's steps, in order; a failure reports one of them.
enum class Step : int {
  kSync, kCgroupNs, kSetsid, kMounts, kPivot, kHostname, kLoopback, kBounding, kSetgroups,
  kSetgid, kSetuid, kCaps, kWorkdir, kNoNewPrivs, kCloseFds, kSeccomp, kExec,
};

const char* StepName(Step s) {
  switch (s) {
    case Step::kSync: return "waiting for the launcher";
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
    case Step::kCaps: return "setting capabilities";
    case Step::kWorkdir: return "changing to the working directory";
    case Step::kNoNewPrivs: return "prctl(PR_SET_NO_NEW_PRIVS)";
    case Step::kCloseFds: return "closing inherited descriptors";
    case Step::kSeccomp: return "installing the seccomp filter";
    case Step::kExec: return "execve";
  }
  return "?";
}

struct ChildError {
  int step;
  int err;
  size_t index;  // the mount step, for kMounts
};

// Everything the child needs, made by the parent before the clone.
struct ChildPlan {
  int sync_fd = -1;         // read: one byte "go", EOF: the launcher died
  int sync_write_fd = -1;   // the parent's end, closed in the child
  int error_fd = -1;        // write: ChildError; CLOEXEC, so exec closes it
  int error_read_fd = -1;   // the parent's end, closed in the child
  std::vector<MountStep> mounts;
  const char* hostname = nullptr;
  bool loopback = false;
  NetlinkRequest lo;
  CapMask caps = 0;
  int last_cap = 0;
  bool rootless = false;
  uid_t uid = 0;
  gid_t gid = 0;
  const char* workdir = "/";
  SeccompProgram seccomp;
  std::vector<std::string> exec_paths;  // tried in order (PATH lookup done here)
  char* const* argv = nullptr;
  char* const* envp = nullptr;
};

[[noreturn]] void ChildFail(const ChildPlan& p, Step step, int err, size_t index = 0) {
  const ChildError e{static_cast<int>(step), err, index};
  (void)!::write(p.error_fd, &e, sizeof e);
  ::_exit(step == Step::kExec ? (err == ENOENT ? kExitNotFound : kExitNotExecutable) : kExitLauncherFailed);
}

[[noreturn]] void ChildMain(const ChildPlan& p) {
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

  // In the sandbox's cgroup by now: that becomes the cgroup namespace's root.
  if (::unshare(CLONE_NEWCGROUP) != 0) ChildFail(p, Step::kCgroupNs, errno);
  // A new session: no controlling terminal to push keystrokes into.
  if (::setsid() < 0) ChildFail(p, Step::kSetsid, errno);
  size_t failed = 0;
  if (const int err = ApplyMountsInChild(p.mounts, &failed); err != 0) ChildFail(p, Step::kMounts, err, failed);
  if (const int err = PivotRootInChild(); err != 0) ChildFail(p, Step::kPivot, err);
  if (::sethostname(p.hostname, strlen(p.hostname)) != 0) ChildFail(p, Step::kHostname, errno);
  if (p.loopback) {
    if (const int err = LoopbackUpInChild(p.lo, nullptr); err != 0) ChildFail(p, Step::kLoopback, err);
  }
  if (const int err = DropBoundingSetInChild(p.caps, p.last_cap, nullptr); err != 0) ChildFail(p, Step::kBounding, err);
  if (!p.rootless && ::setgroups(0, nullptr) != 0) ChildFail(p, Step::kSetgroups, errno);
  if (::setresgid(p.gid, p.gid, p.gid) != 0) ChildFail(p, Step::kSetgid, errno);
  if (::setresuid(p.uid, p.uid, p.uid) != 0) ChildFail(p, Step::kSetuid, errno);
  if (const int err = SetCapsInChild(p.caps, p.uid == 0, nullptr); err != 0) ChildFail(p, Step::kCaps, err);
  if (::chdir(p.workdir) != 0) ChildFail(p, Step::kWorkdir, errno);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ChildFail(p, Step::kNoNewPrivs, errno);
  // The command starts with default dispositions and nothing blocked,
  // whatever the caller of minipod had.
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Every inherited descriptor but 0-2 closes at exec (the error pipe too,
  // which is how the launcher learns the exec worked).
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    if (errno != ENOSYS && errno != EINVAL) ChildFail(p, Step::kCloseFds, errno);
    for (int fd = 3; fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  // Last: from here on the filter applies to us as well.
  if (const int err = InstallSeccompInChild(p.seccomp); err != 0) ChildFail(p, Step::kSeccomp, err);
  int exec_err = ENOENT;
  for (const std::string& path : p.exec_paths) {
    ::execve(path.c_str(), p.argv, p.envp);
    // As execvp: remember a file that exists but cannot run.
    if (errno != ENOENT && errno != ENOTDIR) exec_err = errno;
  }
  ChildFail(p, Step::kExec, exec_err);
}

volatile sig_atomic_t g_child = 0;

void Forward(int sig) {
  const pid_t pid = g_child;
  if (pid > 0) ::kill(pid, sig);
}

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

absl::StatusOr<CapMask> OwnPermittedCaps() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return common::ErrnoStatus(errno, "capget");
  return static_cast<CapMask>(data[0].permitted) | static_cast<CapMask>(data[1].permitted) << 32;
}

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

absl::Status WriteFileAt(const std::string& path, absl::string_view text) {
  common::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return common::ErrnoStatus(errno, absl::StrCat("write(", path, ")"));
  }
  return absl::OkStatus();
}

void StatusLine(int fd, const std::string& json) {
  if (fd < 0) return;
  const std::string line = json + "\n";
  (void)!::write(fd, line.data(), line.size());
}

}  // namespace

absl::StatusOr<int> RunSandbox(const RunConfig& config, const std::string& rootfs) {
  const int64_t start_ms = NowMs();
  const bool rootless = ::geteuid() != 0;
  const uid_t outer_uid = ::geteuid();
  const gid_t outer_gid = ::getegid();
  if (rootless && (config.uid != 0 || config.gid != 0)) {
    return absl::InvalidArgumentError(
        "--user: without root only your own user is mapped (it is 0 inside); run as root for other ids");
  }
  if (config.status_fd >= 0 && ::fcntl(config.status_fd, F_GETFD) < 0) {
    return common::ErrnoStatus(errno, absl::StrCat("--status-fd ", config.status_fd));
  }

  // Every value checked before anything is created on the host.
  ChildPlan plan;
  ASSIGN_OR_RETURN(plan.caps, ComputeCaps(config.cap_add, config.cap_drop));
  if (!rootless) {
    // As root the child can only keep what we hold (a container's root may
    // lack some); in a user namespace it starts with every capability.
    ASSIGN_OR_RETURN(const CapMask own, OwnPermittedCaps());
    if (const CapMask missing = plan.caps & ~own; missing != 0) {
      bool all = false;
      for (const std::string& a : config.cap_add) all = all || absl::AsciiStrToUpper(a) == "ALL";
      if (!all) {
        return absl::PermissionDeniedError(absl::StrCat("--cap-add: ", DescribeCaps(missing),
                                                        ": not held by minipod itself, so it cannot grant it"));
      }
      plan.caps &= own;
    }
  }
  plan.last_cap = LastCap();
  ASSIGN_OR_RETURN(plan.seccomp, BuildSeccomp(config.seccomp, plan.caps));
  ASSIGN_OR_RETURN(const Limits limits, ParseLimits(config.memory, config.pids, config.cpus));

  // Everything the child will reach on the host, opened now.
  ASSIGN_OR_RETURN(const MountInputs inputs, OpenMountInputs(config, rootfs, rootless));
  plan.mounts = PlanMounts(config, inputs);
  plan.hostname = config.hostname.c_str();
  plan.loopback = !config.net_host;
  if (plan.loopback) plan.lo = PrepareLoopbackUp();
  plan.rootless = rootless;
  plan.uid = config.uid;
  plan.gid = config.gid;
  plan.workdir = config.workdir.c_str();

  // argv: under minipod-init at /dev/init unless --no-init; the command is
  // looked up in the image's PATH as execvp would.
  std::vector<std::string> args;
  if (config.init) {
    args = {"/dev/init", "--"};
    plan.exec_paths = {"/dev/init"};
  }
  args.insert(args.end(), config.command.begin(), config.command.end());
  const std::vector<std::string> env = CommandEnvironment(config, ::getenv("TERM"));
  if (!config.init) {
    const std::string& cmd = config.command[0];
    if (absl::StrContains(cmd, '/')) {
      plan.exec_paths = {cmd};
    } else {
      std::string path_value;
      for (const std::string& kv : env) {
        if (absl::StartsWith(kv, "PATH=")) path_value = kv.substr(5);
      }
      for (absl::string_view dir : absl::StrSplit(path_value, ':', absl::SkipEmpty())) {
        plan.exec_paths.push_back(absl::StrCat(dir, "/", cmd));
      }
    }
  }
  std::vector<char*> argv, envp;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  plan.argv = argv.data();
  plan.envp = envp.data();

  // The cgroup, with its janitor, before the child exists.
  std::optional<SandboxCgroup> cgroup;
  const CgroupRequest cgroup_request(limits, /*devices=*/!rootless && limits.any());
  if (cgroup_request.limits.any() || cgroup_request.devices) {
    ASSIGN_OR_RETURN(const CgroupLayout layout, ReadCgroupLayout());
    absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(
        absl::StrCat("minipod-", ::getpid(), "-", NowMs() % 100000), cgroup_request, layout, kJanitorSelfExe);
    if (cg.ok()) {
      cgroup.emplace(*std::move(cg));
    } else if (rootless && absl::IsPermissionDenied(cg.status())) {
      fprintf(stderr, "minipod run: warning: cgroup limits unavailable without root (%s); running without them\n",
              std::string(cg.status().message()).c_str());
    } else {
      return common::Annotate(cg.status(), "cgroup");
    }
  }

  int sync_pipe[2], error_pipe[2];
  if (::pipe2(sync_pipe, O_CLOEXEC) != 0) return common::ErrnoStatus(errno, "pipe2");
  common::UniqueFd sync_read(sync_pipe[0]), sync_write(sync_pipe[1]);
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) return common::ErrnoStatus(errno, "pipe2");
  common::UniqueFd error_read(error_pipe[0]), error_write(error_pipe[1]);
  plan.sync_fd = sync_read.get();
  plan.sync_write_fd = sync_write.get();
  plan.error_fd = error_write.get();
  plan.error_read_fd = error_read.get();

  unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD;
  if (!config.net_host) flags |= CLONE_NEWNET;
  if (rootless) flags |= CLONE_NEWUSER;
  // fork-like: no new stack, the child continues here on a copy of ours.
  const long pid = ::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    const int err = errno;
    return common::ErrnoStatus(err, absl::StrCat("clone(new namespaces)",
                                                 rootless && err == EPERM ? " (are user namespaces allowed?)" : ""));
  }
  if (pid == 0) ChildMain(plan);

  sync_read.Reset();
  error_write.Reset();
  auto abandon = [&](const absl::Status& s) -> absl::Status {
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    int ws;
    while (::waitpid(static_cast<pid_t>(pid), &ws, 0) < 0 && errno == EINTR) {}
    return s;
  };
  if (rootless) {
    const std::string proc = absl::StrCat("/proc/", pid);
    if (absl::Status s = WriteFileAt(proc + "/setgroups", "deny"); !s.ok()) return abandon(s);
    if (absl::Status s = WriteFileAt(proc + "/uid_map", absl::StrCat("0 ", outer_uid, " 1\n")); !s.ok()) return abandon(s);
    if (absl::Status s = WriteFileAt(proc + "/gid_map", absl::StrCat("0 ", outer_gid, " 1\n")); !s.ok()) return abandon(s);
  }
  if (cgroup.has_value()) {
    if (absl::Status s = cgroup->AddProcess(static_cast<pid_t>(pid)); !s.ok()) return abandon(common::Annotate(s, "cgroup"));
  }
  g_child = static_cast<pid_t>(pid);
  struct sigaction sa {};
  sa.sa_handler = Forward;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : kForwarded) ::sigaction(sig, &sa, nullptr);
  if (::write(sync_write.get(), "g", 1) != 1) return abandon(common::ErrnoStatus(errno, "write(sync pipe)"));
  sync_write.Reset();

  ChildError e{};
  ssize_t n;
  do {
    n = ::read(error_read.get(), &e, sizeof e);
  } while (n < 0 && errno == EINTR);
  int ws = 0;
  if (n == static_cast<ssize_t>(sizeof e)) {
    while (::waitpid(static_cast<pid_t>(pid), &ws, 0) < 0 && errno == EINTR) {}
    g_child = 0;
    const Step step = static_cast<Step>(e.step);
    if (step == Step::kExec && !config.init) {
      fprintf(stderr, "minipod run: %s: %s\n", config.command[0].c_str(),
              e.err == ENOENT ? "command not found" : strerror(e.err));
      return e.err == ENOENT ? kExitNotFound : kExitNotExecutable;
    }
    std::string what = StepName(step);
    if (step == Step::kMounts && e.index < plan.mounts.size()) {
      absl::StrAppend(&what, ": ", DescribeStep(plan.mounts[e.index]));
    } else if (step == Step::kWorkdir) {
      absl::StrAppend(&what, " ", config.workdir);
    }
    return common::ErrnoStatus(e.err, what);
  }
  const std::string cgroup_json =
      cgroup.has_value() ? rootfs::JsonString(absl::StrJoin(cgroup->Paths(), ":")) : std::string("null");
  StatusLine(config.status_fd, absl::StrCat("{\"event\": \"start\", \"pid\": ", pid, ", \"cgroup\": ", cgroup_json, "}"));

  while (::waitpid(static_cast<pid_t>(pid), &ws, 0) < 0) {
    if (errno != EINTR) return common::ErrnoStatus(errno, "waitpid");
  }
  g_child = 0;
  const int64_t duration_ms = NowMs() - start_ms;
  int code = 0, sig = 0;
  if (WIFEXITED(ws)) {
    code = WEXITSTATUS(ws);
  } else if (WIFSIGNALED(ws)) {
    sig = WTERMSIG(ws);
    code = 128 + sig;
  }
  const bool oom = cgroup.has_value() && cgroup->OomKilled();
  if (oom) {
    fprintf(stderr, "minipod run: the command was killed by the kernel's OOM killer (--memory %s)\n",
            config.memory.value_or("?").c_str());
  }
  StatusLine(config.status_fd,
             absl::StrCat("{\"event\": \"exit\", \"pid\": ", pid, ", \"exit_code\": ", code, ", \"signal\": ", sig,
                          ", \"oom\": ", oom ? "true" : "false", ", \"duration_ms\": ", duration_ms, "}"));
  if (cgroup.has_value()) {
    if (absl::Status s = cgroup->Remove(); !s.ok()) {
      fprintf(stderr, "minipod run: warning: %s\n", std::string(s.message()).c_str());
    }
  }
  return code;
}

}  // namespace sandbox
