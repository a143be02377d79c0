// The launcher, parent side, as named phases around the child plan:
// Create (check, open, plan, cgroup, clone: the child builds its mounts,
// or with a user namespace waits for its id maps, and then waits on the
// sync socket), Start (let it exec; learn whether the exec worked; with
// -t, take the pty master it sent), Wait (one poll loop over a signalfd for
// the forwarded signals, the child's pidfd and, with -t, the terminal
// relay) and Delete (the cgroup; the signal mask back). The child's side is
// child.cc.
#include "sandbox/launcher.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"
#include "sandbox/caps.h"
#include "sandbox/cgroup.h"
#include "sandbox/child.h"
#include "sandbox/namespaces.h"
#include "sandbox/ns_mount.h"
#include "sandbox/ns_net.h"
#include "sandbox/seccomp.h"
#include "sandbox/userns.h"
#include "common/absl/self_path.h"


namespace sandbox {

std::string DescribeOom(const OomFacts& f) {
  const std::string limit = absl::StrCat("(--memory ", f.memory, ")");
  if (f.command_killed) {
    std::string line = absl::StrCat("the command was killed by the kernel's OOM killer ", limit);
    if (f.kills > 1) absl::StrAppend(&line, "; ", f.kills - 1, " more of its processes were killed too");
    return line;
  }
  if (f.kills == 1) return absl::StrCat("1 of the command's processes was killed by the kernel's OOM killer ", limit);
  if (f.kills > 1) {
    return absl::StrCat(f.kills, " of the command's processes were killed by the kernel's OOM killer ", limit);
  }
  // A kernel that only says the cgroup was under OOM (v1 before 4.13).
  return absl::StrCat("the kernel's OOM killer acted in the command's cgroup ", limit);
}

namespace {

// What the launcher passes on, and how: a terminal sends the first four to
// its foreground process group, so with --no-init they go to the command's
// group (the command is its session leader); the others to the command
// itself. With minipod-init (--setsid), the init passes each on to the
// command's whole group.
constexpr int kToGroup[] = {SIGINT, SIGQUIT, SIGHUP, SIGWINCH};
constexpr int kForwarded[] = {SIGINT, SIGQUIT, SIGHUP, SIGWINCH, SIGTERM, SIGUSR1,
                              SIGUSR2, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU};
constexpr int kStopWaitMs = 2000;
// After the command's exit, how long its terminal may stay quiet before we
// stop waiting for the rest of its output.
constexpr int kTerminalDrainMs = 1000;

bool IsGroupSignal(int sig) {
  for (int s : kToGroup) {
    if (s == sig) return true;
  }
  return false;
}

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

// The pid namespace of a process, as (device, inode).
std::optional<std::pair<dev_t, ino_t>> PidNsOf(pid_t pid) {
  struct stat st;
  if (::stat(absl::StrCat("/proc/", pid, "/ns/pid").c_str(), &st) != 0) return std::nullopt;
  return std::make_pair(st.st_dev, st.st_ino);
}

// The state letter of /proc/PID/stat ('?' when gone).
char ProcState(pid_t pid) {
  char buf[512];
  common::UniqueFd fd(::open(absl::StrCat("/proc/", pid, "/stat").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return '?';
  const ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return '?';
  buf[n] = '\0';
  const char* paren = strrchr(buf, ')');
  return paren != nullptr && paren[1] == ' ' ? paren[2] : '?';
}

}  // namespace

absl::Status Sandbox::Create() {
  start_ms_ = NowMs();
  rootless_ = ::geteuid() != 0;
  const uid_t outer_uid = ::geteuid();
  const gid_t outer_gid = ::getegid();
  if (rootless_ && (config_.uid != 0 || config_.gid != 0)) {
    return absl::InvalidArgumentError(
        "--user: without root only your own user is mapped (it is 0 inside); run as root for other ids");
  }
  if (config_.status_fd >= 0 && ::fcntl(config_.status_fd, F_GETFD) < 0) {
    return common::ErrnoStatus(errno, absl::StrCat("--status-fd ", config_.status_fd));
  }

  // Every value checked before anything is created on the host.
  ExecPlan& exec = plan_.exec;
  ASSIGN_OR_RETURN(exec.caps, ComputeCaps(config_.cap_add, config_.cap_drop));
  if (!rootless_) {
    // As root the child can only keep what we hold (a container's root may
    // lack some); in a user namespace it starts with every capability. What
    // --cap-add names explicitly must be held; the default set and ALL are
    // cut down to what we hold, with a warning, as Docker does inside a
    // container whose bounding set lacks some of its defaults.
    ASSIGN_OR_RETURN(const CapMask own, OwnPermittedCaps());
    if (const CapMask missing = exec.caps & ~own; missing != 0) {
      bool all = false;
      for (const std::string& a : config_.cap_add) all = all || absl::AsciiStrToUpper(a) == "ALL";
      if (!all) {
        // Dropping ALL leaves exactly the capabilities --cap-add names.
        ASSIGN_OR_RETURN(const CapMask named, ComputeCaps(config_.cap_add, {std::string("ALL")}));
        if (const CapMask asked = missing & named; asked != 0) {
          return absl::PermissionDeniedError(absl::StrCat("--cap-add: ", DescribeCaps(asked),
                                                          ": not held by minipod itself, so it cannot grant it"));
        }
        fprintf(stderr, "minipod run: warning: %s: not held by minipod itself; left out of the default set\n",
                DescribeCaps(missing).c_str());
      }
      exec.caps &= own;
    }
  }
  // On a machine running from its initramfs a chroot climbs out of any
  // root (RootIsRootfs): no CAP_SYS_CHROOT, and the seccomp filter and the
  // state that exec reads follow.
  ASSIGN_OR_RETURN(plan_.pivot_from_rootfs, OurRootIsRootfs());
  if (plan_.pivot_from_rootfs && (exec.caps & CapBit(CAP_SYS_CHROOT)) != 0) {
    for (const std::string& a : config_.cap_add) {
      const std::string upper = absl::AsciiStrToUpper(a);
      if (upper == "SYS_CHROOT" || upper == "CAP_SYS_CHROOT") {
        return absl::FailedPreconditionError(
            "--cap-add SYS_CHROOT: this machine runs from its initramfs, which a chroot inside the container would "
            "reach");
      }
    }
    exec.caps &= ~CapBit(CAP_SYS_CHROOT);
  }
  exec.last_cap = LastCap();
  ASSIGN_OR_RETURN(seccomp_, BuildSeccomp(config_.seccomp, exec.caps));
  ASSIGN_OR_RETURN(const Limits limits, ParseLimits(config_.memory, config_.pids, config_.cpus));

  // --userns: the maps and, as root, a block of ids and the root, --upper,
  // the init and the binds id-mapped through a user namespace made up
  // front (userns.h): the trees are made here and inherited by the child,
  // which only attaches them; no descriptor has to be passed after the clone.
  ASSIGN_OR_RETURN(userns_, PrepareUserns(config_.userns, rootless_, outer_uid, outer_gid, config_.uid, config_.gid));

  // Everything the child will reach on the host, opened now.
  ASSIGN_OR_RETURN(joins_, OpenNamespaceJoins(config_, options_.joined));
  ASSIGN_OR_RETURN(ns_, PlanNamespaces(config_, joins_, rootless_));
  // A joined user namespace (a pod's): no --userns of our own; the
  // mounts are id-mapped through that namespace, and the child becomes
  // its root after the joins.
  const bool joins_userns = ns_[NsType::kUser].mode == NsMode::kJoin;
  if (joins_userns && rootless_) {
    // Without root, the user namespace that owns what is joined (a pod's,
    // another container's): its maps are already written, and nothing can
    // be id-mapped without root.
    if (config_.userns != UsernsMode::kHost) {
      return absl::InvalidArgumentError(
          "--userns: without root a sandbox that joins namespaces joins their user namespace too; leave --userns out");
    }
    userns_ = UsernsSetup();
  } else if (joins_userns) {
    if (config_.userns != UsernsMode::kHost) {
      return absl::InvalidArgumentError(
          absl::StrCat("--userns: the sandbox joins a user namespace (", DescribeJoin(config_, NsType::kUser),
                       "); leave --userns out"));
    }
    absl::StatusOr<common::UniqueFd> user = OpenUserNamespaceOf(ns_[NsType::kUser].fd);
    if (!user.ok()) return common::Annotate(user.status(), DescribeJoin(config_, NsType::kUser));
    userns_.idmap_ns = *std::move(user);
    // The pod's id block stays taken while its members run, even after its
    // holder is gone: each member becomes a holder of it too.
    const std::optional<pid_t> holder = PidOfPidfd(ns_[NsType::kUser].fd);
    const std::optional<IdBlock> block = holder.has_value() ? BlockOfProcess(*holder) : std::nullopt;
    const std::optional<std::string> dir = RuntimeDir();
    const std::optional<uint64_t> started = ProcessStartTime(::getpid());
    if (!rootless_ && block.has_value() && dir.has_value() && started.has_value()) {
      ASSIGN_OR_RETURN(userns_.lease, BlockLease::Join(*dir, *block, {::getpid(), *started}));
    }
  }
  ASSIGN_OR_RETURN(inputs_, OpenMountInputs(config_, rootfs_, rootless_));
  inputs_.net_userns_joined = joins_userns && ns_[NsType::kNet].mode == NsMode::kJoin;
  inputs_.ipc_userns_joined = joins_userns && ns_[NsType::kIpc].mode == NsMode::kJoin;
  if (userns_.idmap_ns) {
    RETURN_IF_ERROR(IdmapMountInputs(config_, userns_.idmap_ns.get(), inputs_));
    for (const std::string& path : inputs_.not_idmapped) {
      fprintf(stderr,
              "minipod run: warning: %s: its file system cannot be id-mapped; bound as it is (owners outside the "
              "container's ids show as nobody inside)\n",
              path.c_str());
    }
  }
  mounts_ = PlanMounts(config_, inputs_);

  // With minipod-init and --status-fd, the init tells how the command
  // ended (its own exit status folds a signal N into 128+N) on a pipe.
  PlanInputs plan_inputs;
  plan_inputs.rootless = rootless_;
  plan_inputs.term = ::getenv("TERM");
  // -t with no TERM of ours (a pipe, a service): the pty is an xterm-like
  // terminal, as docker run -t says.
  if (options_.tty != nullptr && plan_inputs.term == nullptr) plan_inputs.term = "xterm";
  plan_inputs.launcher_pid = ::getpid();
  plan_inputs.ns = &ns_;
  if (config_.init && config_.status_fd >= 0) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return common::ErrnoStatus(errno, "pipe2");
    init_status_read_ = common::UniqueFd(p[0]);
    init_status_write_ = common::UniqueFd(p[1]);
    plan_inputs.init_status_fd = init_status_write_.get();
  }
  command_ = BuildChildPlan(config_, plan_inputs);
  plan_.ns = command_.ns;
  plan_.mounts = mounts_;
  plan_.hostname = config_.hostname.c_str();
  if (plan_.ns[NsType::kNet].mode == NsMode::kNew) {
    lo_ = PrepareLoopbackUp();
    plan_.loopback = &lo_;
  }
  exec.clear_groups = command_.clear_groups;
  exec.uid = command_.uid;
  exec.gid = command_.gid;
  if (userns_.as_root) {
    // A user namespace of its own: setgroups stays allowed there, and the
    // host's supplementary groups (root's) must go.
    plan_.ns[NsType::kUser].mode = NsMode::kNew;
    plan_.become_ns_root = true;
    exec.clear_groups = true;
  }
  if (joins_userns) {
    plan_.become_ns_root = true;
    // Without root, setgroups is denied in the user namespaces we made.
    exec.clear_groups = !rootless_;
  }
  if (userns_.uid.has_value()) exec.uid = *userns_.uid;
  if (userns_.gid.has_value()) exec.gid = *userns_.gid;
  exec.expected_ppid = command_.expected_ppid;
  exec.workdir = config_.workdir.c_str();
  exec.seccomp = &seccomp_;
  exec.exec_paths = command_.paths.data();
  exec.argv = command_.argv.data();
  exec.envp = command_.envp.data();
  exec.keep_fd = command_.keep_fd;
  if (!command_.command_paths.empty()) exec.command_paths = command_.command_paths.data();
  // The child's way to see that we died after it changed its ids.
  launcher_pidfd_ = common::UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
  exec.launcher_pidfd = launcher_pidfd_.get();
  if (options_.tty != nullptr) {
    // -t: the child opens the pty in the container's devpts and sends the
    // master back; the command's session takes it as its terminal (the
    // init's, with minipod-init: see ExecPlan::controlling_tty).
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
      return common::ErrnoStatus(errno, "socketpair(terminal)");
    }
    terminal_read_ = common::UniqueFd(sv[0]);
    terminal_write_ = common::UniqueFd(sv[1]);
    exec.terminal_socket = terminal_write_.get();
    const struct winsize size = options_.tty->InitialSize();
    exec.terminal_rows = size.ws_row;
    exec.terminal_cols = size.ws_col;
    exec.controlling_tty = !config_.init;
  }

  // The cgroup, with its janitor, before the child exists.
  CgroupRequest cgroup_request(
      limits, /*devices=*/!rootless_ && (limits.any() || config_.needs_device_cgroup() || options_.always_cgroup));
  cgroup_request.parent = config_.cgroup_parent;
  cgroup_request.parent_limits = config_.cgroup_parent_limits;
  // Without root and without limits a cgroup is only tried when asked
  // for limits: a user's cgroup is rarely delegated (v1 never).
  if (cgroup_request.limits.any() || cgroup_request.parent_limits.any() || cgroup_request.devices ||
      (options_.always_cgroup && !rootless_)) {
    ASSIGN_OR_RETURN(const CgroupLayout layout, ReadCgroupLayout());
    const std::string name = options_.cgroup_name.empty()
                                 ? absl::StrCat("minipod-", ::getpid(), "-", NowMs() % 100000)
                                 : options_.cgroup_name;
    absl::StatusOr<SandboxCgroup> cg = SandboxCgroup::Create(name, cgroup_request, layout, kJanitorSelfExe);
    if (cg.ok()) {
      cgroup_.emplace(*std::move(cg));
    } else if (rootless_ && absl::IsPermissionDenied(cg.status())) {
      fprintf(stderr, "minipod run: warning: cgroup limits unavailable without root (%s); running without them\n",
              std::string(cg.status().message()).c_str());
    } else {
      return common::Annotate(cg.status(), "cgroup");
    }
  }

  // "go" travels on a socket rather than a pipe: a child that failed
  // before reading it must not SIGPIPE us (send with MSG_NOSIGNAL), its
  // reason waits on the error pipe.
  int sync_pair[2], error_pipe[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync_pair) != 0) {
    return common::ErrnoStatus(errno, "socketpair(sync)");
  }
  common::UniqueFd sync_read(sync_pair[0]);
  sync_write_ = common::UniqueFd(sync_pair[1]);
  // Without a user namespace nothing the child builds depends on what we
  // do after the clone (id maps): it makes its mounts while we move it
  // into the cgroup, and waits for "go" only before its exec.
  plan_.go_before_exec = plan_.ns[NsType::kUser].mode == NsMode::kHost;
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) return common::ErrnoStatus(errno, "pipe2");
  error_read_ = common::UniqueFd(error_pipe[0]);
  common::UniqueFd error_write(error_pipe[1]);
  plan_.sync_fd = sync_read.get();
  plan_.sync_write_fd = sync_write_.get();
  plan_.error_read_fd = error_read_.get();
  exec.error_fd = error_write.get();

  for (int i = 0; i < 3; ++i) plan_.exec.stdio[i] = options_.stdio[i];

  // The forwarded signals are read from a signalfd from now on (the child
  // unblocks them before its exec); SIGPIPE is blocked too, so a
  // --status-fd reader that went away is an EPIPE, not our death. A
  // monitor has its own.
  if (options_.foreground) {
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : kForwarded) sigaddset(&mask, sig);
    sigfd_ = common::UniqueFd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd_) return common::ErrnoStatus(errno, "signalfd");
    sigaddset(&mask, SIGPIPE);
    if (::sigprocmask(SIG_BLOCK, &mask, &old_mask_) != 0) return common::ErrnoStatus(errno, "sigprocmask");
    mask_changed_ = true;
  }

  // Joining a pid namespace changes where our own later children go (a
  // monitor forks helpers): our own is taken back right after the clone
  // (setns may always return to the caller's active pid namespace).
  // With a joined user namespace, CloneAfterJoins's helper joins it.
  common::UniqueFd own_pidns;
  if (plan_.ns[NsType::kPid].mode == NsMode::kJoin && !joins_userns) {
    own_pidns = common::UniqueFd(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    if (!own_pidns) return common::ErrnoStatus(errno, "open(/proc/self/ns/pid)");
  }
  if (const int err = own_pidns ? JoinPidNamespaceInParent(plan_.ns) : 0; err != 0) {
    return common::ErrnoStatus(err, absl::StrCat("setns(", DescribeJoin(config_, NsType::kPid), ")"));
  }
  // fork-like: no new stack, the child continues here on a copy of ours.
  int pidfd = -1;
  const unsigned long flags = CloneFlags(plan_.ns) | CLONE_PIDFD | SIGCHLD;
  size_t failed_join = kNsTypes;
  // Joining a user namespace: the new namespaces are made inside it.
  const long pid = joins_userns ? CloneAfterJoins(&plan_.ns, flags & ~static_cast<unsigned long>(CLONE_PIDFD), &pidfd,
                                                  &failed_join)
                                : ::syscall(SYS_clone, flags, nullptr, &pidfd, nullptr, nullptr);
  if (pid < 0) {
    const int err = errno;
    if (own_pidns) (void)::setns(own_pidns.get(), CLONE_NEWPID);
    if (failed_join < kNsTypes) {
      return common::ErrnoStatus(err, absl::StrCat("setns(", DescribeJoin(config_, static_cast<NsType>(failed_join)), ")"));
    }
    return common::ErrnoStatus(err, absl::StrCat("clone(new namespaces)",
                                                 rootless_ && err == EPERM ? " (are user namespaces allowed?)" : ""));
  }
  if (pid == 0) ChildMain(plan_);
  if (own_pidns && ::setns(own_pidns.get(), CLONE_NEWPID) != 0) {
    const int err = errno;
    pid_ = static_cast<pid_t>(pid);
    return Abandon(common::ErrnoStatus(err, "setns(back to our own pid namespace)"));
  }
  pid_ = static_cast<pid_t>(pid);
  pidfd_ = common::UniqueFd(pidfd);
  // Job control waits for the processes of the command's own pid namespace only.
  if (plan_.ns[NsType::kPid].mode == NsMode::kNew) pid_ns_ = PidNsOf(pid_);

  if (userns_.new_userns) {
    // Unprivileged, gid_map may only be written once setgroups is denied.
    if (!userns_.as_root) {
      if (absl::Status s = WriteFileAt(absl::StrCat("/proc/", pid_, "/setgroups"), "deny"); !s.ok()) return Abandon(s);
    }
    if (absl::Status s = WriteIdMaps(pid_, userns_.maps); !s.ok()) return Abandon(common::Annotate(s, "--userns"));
    if (userns_.lease.held()) {
      const std::optional<uint64_t> started = ProcessStartTime(pid_);
      if (started.has_value()) {
        if (absl::Status s = userns_.lease.AddHolder({pid_, *started}); !s.ok()) return Abandon(s);
      }
    }
  }
  if (!userns_.new_userns && userns_.lease.held()) {
    const std::optional<uint64_t> started = ProcessStartTime(pid_);
    if (started.has_value()) {
      if (absl::Status s = userns_.lease.AddHolder({pid_, *started}); !s.ok()) return Abandon(s);
    }
  }
  if (cgroup_.has_value()) {
    if (absl::Status s = cgroup_->AddProcess(pid_); !s.ok()) return Abandon(common::Annotate(s, "cgroup"));
  }
  return absl::OkStatus();
}

absl::Status Sandbox::Abandon(const absl::Status& s) {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int ws;
    while (::waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {}
    pid_ = -1;
  }
  return s;
}

absl::StatusOr<std::optional<int>> Sandbox::Start() {
  // Ours now only: the child has its copies.
  init_status_write_.Reset();
  terminal_write_.Reset();
  launcher_pidfd_.Reset();
  plan_.exec.launcher_pidfd = -1;
  // The janitor's exec ran alongside the clone and the child's mounts; one
  // that failed to start is an error before anything of the command runs,
  // not a cgroup silently left after a SIGKILL.
  if (cgroup_.has_value()) {
    if (absl::Status s = cgroup_->WaitJanitorStarted(); !s.ok()) return Abandon(common::Annotate(s, "cgroup"));
  }
  if (::send(sync_write_.get(), "g", 1, MSG_NOSIGNAL) != 1) {
    // A child that already failed has closed its end: its reason is on the
    // error pipe (read below). Anything else is ours.
    if (errno != EPIPE && errno != ECONNRESET) return Abandon(common::ErrnoStatus(errno, "send(sync socket)"));
  }
  sync_write_.Reset();

  ChildError e{};
  ssize_t n;
  do {
    n = ::read(error_read_.get(), &e, sizeof e);
  } while (n < 0 && errno == EINTR);
  error_read_.Reset();
  if (n == static_cast<ssize_t>(sizeof e)) {
    int ws;
    while (::waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {}
    pid_ = -1;
    const Step step = static_cast<Step>(e.step);
    if (step == Step::kExec && (!config_.init || e.index == kCommandProbe)) {
      fprintf(stderr, "minipod run: %s: %s\n", config_.command[0].c_str(),
              e.err == ENOENT ? "command not found" : strerror(e.err));
      return std::optional<int>(e.err == ENOENT ? kExitNotFound : kExitNotExecutable);
    }
    std::string what = StepName(step);
    if (step == Step::kMounts && e.index < mounts_.size()) {
      absl::StrAppend(&what, ": ", DescribeStep(mounts_[e.index]));
    } else if (step == Step::kJoinNs && e.index < kNsTypes) {
      absl::StrAppend(&what, "(", DescribeJoin(config_, static_cast<NsType>(e.index)), ")");
    } else if (step == Step::kWorkdir) {
      absl::StrAppend(&what, " ", config_.workdir);
    } else if ((step == Step::kSetgid || step == Step::kSetuid) && e.err == EINVAL &&
               ns_[NsType::kUser].mode == NsMode::kJoin) {
      // The child becomes 0 of the user namespace it joined.
      absl::StrAppend(&what, "(0) in the user namespace joined (", DescribeJoin(config_, NsType::kUser),
                      "), which maps no ", step == Step::kSetgid ? "gid" : "uid", " 0");
    }
    return common::ErrnoStatus(e.err, what);
  }
  if (options_.tty != nullptr) {
    if (absl::Status s = ReceiveTerminal(); !s.ok()) return Abandon(s);
  }
  nlohmann::ordered_json start = {{"event", "start"}, {"pid", pid_}};
  start["cgroup"] = cgroup_.has_value() ? nlohmann::ordered_json(absl::StrJoin(cgroup_->Paths(), ":"))
                                        : nlohmann::ordered_json(nullptr);
  Report(start);
  return std::optional<int>();
}

// The pty master the child sent before its exec (so it is queued by now).
absl::Status Sandbox::ReceiveTerminal() {
  absl::StatusOr<common::UniqueFd> master = ReceivePtyMaster(terminal_read_.get());
  terminal_read_.Reset();
  if (!master.ok()) return common::Annotate(master.status(), "-t");
  return common::Annotate(options_.tty->Begin(*std::move(master)), "-t");
}

void Sandbox::Report(const nlohmann::ordered_json& event) {
  if (config_.status_fd < 0 || status_fd_broken_) return;
  const std::string line = event.dump() + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(config_.status_fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // The reader went away (EPIPE: SIGPIPE is blocked): the command's
      // status still comes out as our exit status.
      fprintf(stderr, "minipod run: warning: --status-fd %d: %s; no more status lines\n", config_.status_fd,
              strerror(n < 0 ? errno : EIO));
      status_fd_broken_ = true;
      return;
    }
    done += static_cast<size_t>(n);
  }
}

bool Sandbox::CommandStopped(bool with_pid1) const {
  if (!pid_ns_.has_value()) return true;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return true;
  bool all = true;
  while (struct dirent* e = ::readdir(dir)) {
    pid_t p = 0;
    if (!absl::SimpleAtoi(e->d_name, &p) || p <= 0 || (!with_pid1 && p == pid_)) continue;
    if (PidNsOf(p) != pid_ns_) continue;
    const char state = ProcState(p);
    if (state != 'T' && state != 't' && state != 'Z' && state != 'X' && state != '?') {
      all = false;
      break;
    }
  }
  ::closedir(dir);
  return all;
}

// Ctrl-Z: every process of the command stopped, then the launcher, as a
// shell's job stops. The kernel discards SIGTSTP for an orphaned process
// group (the command's is one, its parent being outside its session), so
// the group gets SIGSTOP: from minipod-init (--setsid), or from us with
// --no-init. Once it is stopped the init is stopped too (it cannot stop
// itself: PID 1 of its namespace), and then we stop; the SIGCONT that
// wakes us up is passed on to the command.
void Sandbox::StopCommand() {
  if (config_.init) {
    ::kill(pid_, SIGTSTP);
  } else {
    ::kill(-pid_, SIGSTOP);
  }
  const int64_t deadline = NowMs() + kStopWaitMs;
  while (!CommandStopped(/*with_pid1=*/!config_.init) && NowMs() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (config_.init) {
    ::kill(pid_, SIGSTOP);
    while (ProcState(pid_) != 'T' && ProcState(pid_) != '?' && NowMs() < deadline + kStopWaitMs) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ::raise(SIGSTOP);
}

void Sandbox::OnSignal(int sig) {
  if (options_.tty != nullptr) {
    // -t: the container has a terminal of its own. A size change is set
    // on it (the kernel signals its foreground group); job-control stops
    // are not ours to act on: Ctrl-Z reaches the container as a byte, and
    // the launcher keeps relaying.
    if (sig == SIGWINCH) {
      options_.tty->WindowChanged();
      return;
    }
    if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) return;
  }
  if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
    StopCommand();
    return;
  }
  if (sig == SIGCONT && !config_.init) {
    ::kill(-pid_, SIGCONT);
    return;
  }
  // SIGCONT to a stopped init resumes it, and it resumes the group.
  ::kill(!config_.init && IsGroupSignal(sig) ? -pid_ : pid_, sig);
}

// The init's own line (exit N / signal N), when it wrote one; else what
// its exit status says.
int Sandbox::ReadInitStatus(int code, int* sig) {
  if (!init_status_read_) return code;
  char buf[64];
  std::string text;
  ::fcntl(init_status_read_.get(), F_SETFL, O_NONBLOCK);
  for (;;) {
    const ssize_t n = ::read(init_status_read_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || text.size() > 256) break;
    text.append(buf, static_cast<size_t>(n));
  }
  const std::optional<InitStatus> status = ParseInitStatusLine(text);
  if (!status.has_value()) return code;
  if (status->signaled) {
    *sig = status->value;
    return 128 + status->value;
  }
  return status->value;
}

absl::StatusOr<int> Sandbox::Wait() {
  int ws = 0;
  for (;;) {
    struct pollfd fds[3] = {{sigfd_.get(), POLLIN, 0}, {pidfd_.get(), POLLIN, 0},
                            {options_.tty != nullptr ? options_.tty->PollFd() : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return common::ErrnoStatus(errno, "poll");
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (::read(sigfd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        OnSignal(static_cast<int>(info.ssi_signo));
      }
    }
    if (fds[2].revents & POLLIN) {
      if (absl::Status s = options_.tty->Pump(); !s.ok()) return common::Annotate(s, "-t");
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      const pid_t r = ::waitpid(pid_, &ws, WNOHANG);
      if (r == pid_) break;
      if (r < 0 && errno != EINTR) return common::ErrnoStatus(errno, "waitpid");
    }
  }
  const int code = Finish(ws).code;
  return code;
}

absl::StatusOr<ExitInfo> Sandbox::Reap() {
  int ws = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &ws, 0);
    if (r == pid_) break;
    if (r < 0 && errno != EINTR) return common::ErrnoStatus(errno, "waitpid");
  }
  return Finish(ws);
}

ExitInfo Sandbox::Finish(int ws) {
  const pid_t child = pid_;
  pid_ = -1;
  if (options_.tty != nullptr) {
    // The rest of the output, then our terminal back before any line of ours.
    if (absl::Status s = options_.tty->Finish(kTerminalDrainMs); !s.ok()) {
      fprintf(stderr, "minipod run: warning: -t: %s\n", std::string(s.message()).c_str());
    }
  }
  const int64_t duration_ms = NowMs() - start_ms_;
  int code = 0, sig = 0;
  if (WIFEXITED(ws)) {
    code = WEXITSTATUS(ws);
  } else if (WIFSIGNALED(ws)) {
    sig = WTERMSIG(ws);
    code = 128 + sig;
  }
  code = ReadInitStatus(code, &sig);
  OomFacts oom;
  ExitInfo info;
  if (cgroup_.has_value() && cgroup_->OomKilled()) {
    oom.memory = config_.memory.value_or("?");
    oom.kills = cgroup_->OomKillCount().value_or(0);
    // Without the init's line, 137 from the init is the best sign that the
    // command itself was killed.
    oom.command_killed = sig == SIGKILL || (config_.init && !init_status_read_ && code == 128 + SIGKILL);
    info.oom_line = DescribeOom(oom);
    if (options_.foreground) fprintf(stderr, "minipod run: %s\n", info.oom_line.c_str());
  }
  Report(nlohmann::ordered_json{{"event", "exit"},
                                {"pid", child},
                                {"exit_code", code},
                                {"signal", sig},
                                {"oom", !oom.memory.empty()},
                                {"oom_kills", oom.kills},
                                {"duration_ms", duration_ms}});
  info.code = code;
  info.signal = sig;
  info.oom = !oom.memory.empty();
  info.oom_kills = oom.kills;
  return info;
}

Sandbox::Remains Sandbox::remains() const {
  Remains r;
  r.init_status_fd = init_status_read_.get();
  if (cgroup_.has_value()) {
    r.janitor_fd = cgroup_->janitor_fd();
    r.janitor_pid = cgroup_->janitor_pid();
    r.oom_file = cgroup_->OomFile();
    r.oom_v1 = cgroup_->kind() == CgroupLayout::kV1;
  }
  r.memory = config_.memory.value_or("");
  r.init = config_.init;
  return r;
}

void Sandbox::Delete() {
  if (pid_ > 0) (void)Abandon(absl::OkStatus());
  if (cgroup_.has_value()) {
    if (absl::Status s = cgroup_->Remove(); !s.ok()) {
      fprintf(stderr, "minipod run: warning: %s\n", std::string(s.message()).c_str());
    }
    cgroup_.reset();
  }
  // The container is gone (reaped above): its block is free.
  if (absl::Status s = userns_.lease.Release(); !s.ok()) {
    fprintf(stderr, "minipod run: warning: %s\n", std::string(s.message()).c_str());
  }
  if (mask_changed_) {
    // Signals that came after the command ended, and a SIGPIPE from the
    // status fd, are dropped rather than delivered to us.
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : kForwarded) sigaddset(&mask, sig);
    sigaddset(&mask, SIGPIPE);
    const struct timespec zero = {0, 0};
    while (::sigtimedwait(&mask, nullptr, &zero) > 0) {}
    ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    mask_changed_ = false;
  }
}

absl::StatusOr<int> RunSandbox(const RunConfig& config, const std::string& rootfs, const JoinedNamespaces& joined,
                               TerminalSession* tty) {
  LaunchOptions options;
  options.joined = joined;
  options.tty = tty;
  Sandbox sandbox(config, rootfs, options);
  RETURN_IF_ERROR(sandbox.Create());
  ASSIGN_OR_RETURN(const std::optional<int> failed_exec, sandbox.Start());
  if (failed_exec.has_value()) return *failed_exec;
  ASSIGN_OR_RETURN(const int code, sandbox.Wait());
  sandbox.Delete();
  return code;
}

}  // namespace sandbox
