// Namespaces as data (see namespaces.h). Parent: the namespace files and
// pidfds to join and the user namespaces that own them (open, fstatfs,
// ioctl, poll, stat), the table and clone flags (pure), a pid namespace
// join, and the clone through a helper that joined a user namespace first
// (fork, setns, clone, SCM_RIGHTS); child: setns and unshare, nothing else.
#include "sandbox/namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"

namespace sandbox {

int CloneNsFlag(NsType type) {
  switch (type) {
    case NsType::kUser: return CLONE_NEWUSER;
    case NsType::kMnt: return CLONE_NEWNS;
    case NsType::kPid: return CLONE_NEWPID;
    case NsType::kIpc: return CLONE_NEWIPC;
    case NsType::kUts: return CLONE_NEWUTS;
    case NsType::kNet: return CLONE_NEWNET;
    case NsType::kCgroup: return CLONE_NEWCGROUP;
  }
  return 0;
}

const char* NsName(NsType type) {
  switch (type) {
    case NsType::kUser: return "user";
    case NsType::kMnt: return "mnt";
    case NsType::kPid: return "pid";
    case NsType::kIpc: return "ipc";
    case NsType::kUts: return "uts";
    case NsType::kNet: return "net";
    case NsType::kCgroup: return "cgroup";
  }
  return "?";
}

Namespaces SandboxNamespaces(bool net_host, bool rootless) {
  Namespaces ns;
  for (NamespaceSpec& s : ns.spec) s.mode = NsMode::kNew;
  if (net_host) ns[NsType::kNet].mode = NsMode::kHost;
  if (!rootless) ns[NsType::kUser].mode = NsMode::kHost;
  return ns;
}

namespace {

// The namespace type of an nsfs descriptor (a CLONE_NEW* value), or 0 with
// errno set when fd is not a namespace file.
int NsTypeOfFd(int fd) {
  struct statfs sfs;
  if (::fstatfs(fd, &sfs) != 0) return 0;
  if (sfs.f_type != NSFS_MAGIC) {
    errno = EINVAL;
    return 0;
  }
  const int type = ::ioctl(fd, NS_GET_NSTYPE);
  return type < 0 ? 0 : type;
}

const char* FlagName(int flag) {
  // time (CLONE_NEWTIME) is no NsType: the sandbox never makes one.
  constexpr int kNewTime = 0x80;
  if (flag == kNewTime) return "time";
  for (size_t i = 0; i < kNsTypes; ++i) {
    if (CloneNsFlag(static_cast<NsType>(i)) == flag) return NsName(static_cast<NsType>(i));
  }
  return "unknown";
}


// "a net namespace, not a pid one".
std::string WrongType(int found_flag, NsType expected) {
  const char* found = FlagName(found_flag);
  return absl::StrCat(found[0] == 'i' ? "an " : "a ", found, " namespace, not ",
                      expected == NsType::kIpc ? "an " : "a ", NsName(expected), " one");
}

// Whether the process of a pidfd has exited (the pidfd polls readable).
bool PidfdExited(int pidfd) {
  struct pollfd pfd = {pidfd, POLLIN, 0};
  return ::poll(&pfd, 1, 0) != 0;
}

std::optional<std::pair<dev_t, ino_t>> NsIdOfPath(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return std::make_pair(st.st_dev, st.st_ino);
}

// A user namespace's name and maker, from its nsfs descriptor.
std::optional<UserNsId> UserNsIdOf(int userns_fd) {
  struct stat st;
  if (::fstat(userns_fd, &st) != 0) return std::nullopt;
  uid_t uid = 0;
  if (::ioctl(userns_fd, NS_GET_OWNER_UID, &uid) != 0) return std::nullopt;
  return UserNsId{st.st_dev, st.st_ino, uid};
}

// The user namespace that owns the namespace of ns_fd (its own user
// namespace for a user namespace file): a new descriptor, or -1 when the
// kernel will not tell (EPERM: the owner is outside our user namespace).
int OwnerUserNsFd(int ns_fd, bool is_user) {
  if (is_user) return ::fcntl(ns_fd, F_DUPFD_CLOEXEC, 3);
  return ::ioctl(ns_fd, NS_GET_USERNS);  // close-on-exec, as every nsfs open
}

}  // namespace

std::optional<pid_t> PidOfPidfd(int fd) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  common::UniqueFd info(::open(path, O_RDONLY | O_CLOEXEC));
  if (!info) return std::nullopt;
  char buf[1024];
  const ssize_t n = ::read(info.get(), buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  buf[n] = '\0';
  const char* line = strstr(buf, "\nPid:");
  if (line == nullptr) return std::nullopt;
  int pid = 0;
  if (sscanf(line + 5, "%d", &pid) != 1) return std::nullopt;
  return static_cast<pid_t>(pid);
}

absl::StatusOr<common::UniqueFd> OpenNamespaceFile(const std::string& path, NsType expected) {
  common::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  const int type = NsTypeOfFd(fd.get());
  if (type == 0) {
    if (errno == EINVAL || errno == ENOTTY) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not a namespace file (a bind mount of /proc/PID/ns/", NsName(expected),
                       ", or that file itself)"));
    }
    return common::ErrnoStatus(errno, absl::StrCat("ioctl(", path, ", NS_GET_NSTYPE)"));
  }
  if (type != CloneNsFlag(expected)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", WrongType(type, expected)));
  }
  return fd;
}

const NsChoice* ChoiceOf(const RunConfig& config, NsType type) {
  switch (type) {
    case NsType::kNet: return &config.net;
    case NsType::kIpc: return &config.ipc;
    case NsType::kPid: return &config.pid;
    case NsType::kUts: return &config.uts;
    case NsType::kUser: return &config.user;
    default: return nullptr;
  }
}

std::string DescribeJoin(const RunConfig& config, NsType type) {
  const NsChoice* choice = ChoiceOf(config, type);
  if (choice == nullptr) return NsName(type);
  // Without root, a user namespace joined though not asked for: the owner
  // of the namespaces that are.
  if (type == NsType::kUser && choice->is_new()) return "user, the owner of the namespaces joined";
  return absl::StrCat(NsName(type), ", ", choice->ToString());
}

absl::StatusOr<NamespaceJoins> OpenNamespaceJoins(const RunConfig& config, const JoinedNamespaces& given) {
  NamespaceJoins joins;
  joins.caller_uid = ::geteuid();
  // Records the owner of a joined namespace, from a descriptor of it (and
  // our own user namespace, once: a run that joins nothing opens nothing).
  auto note_owner = [&joins](NsType type, int ns_fd) {
    if (!joins.self_userns.has_value()) {
      if (common::UniqueFd self(::open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC)); self) {
        joins.self_userns = UserNsIdOf(self.get());
      }
    }
    common::UniqueFd owner(OwnerUserNsFd(ns_fd, type == NsType::kUser));
    if (!owner) return;
    joins.owner[static_cast<size_t>(type)] = UserNsIdOf(owner.get());
    joins.owner_fd[static_cast<size_t>(type)] = owner.get();
    joins.owned.push_back(std::move(owner));
  };
  for (size_t i = 0; i < kNsTypes; ++i) {
    const NsType type = static_cast<NsType>(i);
    const NsChoice* choice = ChoiceOf(config, type);
    if (choice == nullptr || !choice->joins()) continue;
    const std::string option = absl::StrCat("--", NsName(type), " ", choice->ToString());
    int fd = given[type];
    std::optional<std::pair<dev_t, ino_t>> id;
    if (fd < 0) {
      if (choice->kind == NsChoice::Kind::kContainer) {
        return absl::FailedPreconditionError(
            absl::StrCat(option, ": not resolved to a process (containers are looked up in minipod's state)"));
      }
      absl::StatusOr<common::UniqueFd> opened = OpenNamespaceFile(choice->target, type);
      if (!opened.ok()) return common::Annotate(opened.status(), option);
      fd = opened->get();
      joins.owned.push_back(*std::move(opened));
    }
    if (const int ns_type = NsTypeOfFd(fd); ns_type != 0) {
      // A namespace file: of the type, and compared with ours by inode.
      if (ns_type != CloneNsFlag(type)) {
        return absl::InvalidArgumentError(absl::StrCat(option, ": ", WrongType(ns_type, type)));
      }
      struct stat st;
      if (::fstat(fd, &st) == 0) id = std::make_pair(st.st_dev, st.st_ino);
      note_owner(type, fd);
    } else {
      // A pidfd: its process alive, its namespace read from /proc/PID/ns
      // and trusted only if the process is still alive after the read (a
      // reused pid would give a stranger's).
      const std::optional<pid_t> pid = PidOfPidfd(fd);
      if (!pid.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(option, ": descriptor ", fd, " is neither a namespace file nor a pidfd"));
      }
      if (*pid <= 0 || PidfdExited(fd)) {
        return absl::FailedPreconditionError(absl::StrCat(option, ": its process has exited"));
      }
      const std::string path = absl::StrCat("/proc/", *pid, "/ns/", NsName(type));
      id = NsIdOfPath(path);
      common::UniqueFd ns_file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      const int open_err = errno;
      if (PidfdExited(fd)) return absl::FailedPreconditionError(absl::StrCat(option, ": its process has exited"));
      // Another user's process (a state file naming one): closed to us.
      if (!ns_file) return common::Annotate(common::ErrnoStatus(open_err, absl::StrCat("open(", path, ")")), option);
      note_owner(type, ns_file.get());
    }
    joins.fds[type] = fd;
    joins.ours[i] = id.has_value() && id == NsIdOfPath(absl::StrCat("/proc/self/ns/", NsName(type)));
  }
  return joins;
}

namespace {

// Without root: the user namespace to join so that the joined namespaces
// can be (see PlanNamespaces), or none when nothing is joined.
absl::Status PlanRootlessUserns(const RunConfig& config, const NamespaceJoins& joins, Namespaces& ns) {
  // The user namespace joined explicitly (a pod's) decides; else the owner
  // of the first namespace joined.
  std::optional<size_t> first;
  for (size_t i = 0; i < kNsTypes; ++i) {
    if (ns.spec[i].mode != NsMode::kJoin) continue;
    if (static_cast<NsType>(i) == NsType::kUser || !first.has_value()) first = i;
    if (static_cast<NsType>(i) == NsType::kUser) break;
  }
  if (!first.has_value()) return absl::OkStatus();
  const NsType lead = static_cast<NsType>(*first);
  const std::string lead_option = absl::StrCat("--", NsName(lead), " ", ChoiceOf(config, lead)->ToString());
  const std::optional<UserNsId>& target = joins.owner[*first];
  constexpr char kOnlyYours[] =
      "; without root only namespaces of your own containers (in user namespaces you made) can be joined, or run "
      "as root";
  if (!target.has_value() || joins.owner_fd[*first] < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(lead_option, ": the user namespace that owns it is outside ours", kOnlyYours));
  }
  const char* what = lead == NsType::kUser ? "is" : "belongs to";
  if (target->owner_uid != joins.caller_uid) {
    return absl::PermissionDeniedError(absl::StrCat(lead_option, ": ", what, " a user namespace made by uid ",
                                                    target->owner_uid, ", not by you (uid ", joins.caller_uid, ")",
                                                    kOnlyYours));
  }
  if (joins.self_userns.has_value() && *target == *joins.self_userns) {
    return absl::PermissionDeniedError(absl::StrCat(
        lead_option, ": ", what, " our own user namespace, where we hold no privilege", kOnlyYours));
  }
  for (size_t i = 0; i < kNsTypes; ++i) {
    const NsType type = static_cast<NsType>(i);
    if (ns.spec[i].mode != NsMode::kJoin || type == NsType::kUser) continue;
    if (!(joins.owner[i].has_value() && *joins.owner[i] == *target)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "--", NsName(type), " ", ChoiceOf(config, type)->ToString(), ": belongs to another user namespace than ",
          lead_option, lead == NsType::kUser ? "" : " does",
          "; without root the sandbox joins one user namespace, which must own every namespace joined"));
    }
  }
  if (ns[NsType::kUser].mode != NsMode::kJoin) ns[NsType::kUser] = NamespaceSpec{NsMode::kJoin, joins.owner_fd[*first]};
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Namespaces> PlanNamespaces(const RunConfig& config, const NamespaceJoins& joins, bool rootless) {
  Namespaces ns = SandboxNamespaces(/*net_host=*/false, rootless);
  for (size_t i = 0; i < kNsTypes; ++i) {
    const NsType type = static_cast<NsType>(i);
    const NsChoice* choice = ChoiceOf(config, type);
    if (choice == nullptr) continue;
    const std::string option = absl::StrCat("--", NsName(type), " ", choice->ToString());
    NamespaceSpec& spec = ns[type];
    switch (choice->kind) {
      case NsChoice::Kind::kNew:
        break;
      case NsChoice::Kind::kHost:
        spec.mode = NsMode::kHost;
        break;
      case NsChoice::Kind::kContainer:
      case NsChoice::Kind::kPath:
        if (joins.fds[type] < 0) {
          return absl::FailedPreconditionError(absl::StrCat(option, ": no descriptor to join it through"));
        }
        spec = joins.ours[i] ? NamespaceSpec{NsMode::kHost, -1} : NamespaceSpec{NsMode::kJoin, joins.fds[type]};
        break;
    }
    if (rootless && type == NsType::kPid && spec.mode == NsMode::kHost) {
      return absl::PermissionDeniedError(absl::StrCat(
          option, ": without root a /proc of the host's pid namespace cannot be mounted from a user namespace; run as root"));
    }
  }
  if (config.cgroupns_host.value_or(false)) ns[NsType::kCgroup] = NamespaceSpec{NsMode::kHost, -1};
  if (rootless) RETURN_IF_ERROR(PlanRootlessUserns(config, joins, ns));
  return ns;
}

unsigned long CloneFlags(const Namespaces& ns) {
  unsigned long flags = 0;
  for (size_t i = 0; i < kNsTypes; ++i) {
    const NsType type = static_cast<NsType>(i);
    if (type != NsType::kCgroup && ns.spec[i].mode == NsMode::kNew) flags |= static_cast<unsigned long>(CloneNsFlag(type));
  }
  return flags;
}

int JoinPidNamespaceInParent(const Namespaces& ns) {
  const NamespaceSpec& pid = ns[NsType::kPid];
  if (pid.mode != NsMode::kJoin) return 0;
  return ::setns(pid.fd, CLONE_NEWPID) == 0 ? 0 : errno;
}

int JoinNamespacesInChild(const Namespaces& ns, NsType* failed) {
  // NsType's order puts user first; each distinct fd is joined once with
  // every type that names it (a pidfd), or alone with its own type (a
  // namespace file, for which setns takes a single type).
  bool done[kNsTypes] = {};
  for (size_t i = 0; i < kNsTypes; ++i) {
    const NamespaceSpec& s = ns.spec[i];
    if (done[i] || s.mode != NsMode::kJoin || static_cast<NsType>(i) == NsType::kPid) continue;
    int flags = 0;
    for (size_t j = i; j < kNsTypes; ++j) {
      if (ns.spec[j].mode == NsMode::kJoin && ns.spec[j].fd == s.fd && static_cast<NsType>(j) != NsType::kPid) {
        flags |= CloneNsFlag(static_cast<NsType>(j));
        done[j] = true;
      }
    }
    if (::setns(s.fd, flags) != 0) {
      *failed = static_cast<NsType>(i);
      return errno;
    }
  }
  return 0;
}

absl::StatusOr<common::UniqueFd> OpenUserNamespaceOf(int fd) {
  if (NsTypeOfFd(fd) == CLONE_NEWUSER) {
    common::UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
    if (!copy) return common::ErrnoStatus(errno, "fcntl(user namespace, F_DUPFD_CLOEXEC)");
    return copy;
  }
  const std::optional<pid_t> pid = PidOfPidfd(fd);
  if (!pid.has_value() || *pid <= 0 || PidfdExited(fd)) {
    return absl::FailedPreconditionError("the process whose user namespace is joined has exited");
  }
  ASSIGN_OR_RETURN(common::UniqueFd user, OpenNamespaceFile(absl::StrCat("/proc/", *pid, "/ns/user"), NsType::kUser));
  if (PidfdExited(fd)) return absl::FailedPreconditionError("the process whose user namespace is joined has exited");
  return user;
}

long CloneAfterJoins(Namespaces* ns, unsigned long flags, int* pidfd, size_t* failed) {
  *failed = kNsTypes;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return -1;
  common::UniqueFd ours(sv[0]), theirs(sv[1]);
  const pid_t helper = ::fork();
  if (helper < 0) return -1;
  if (helper == 0) {
    // The helper: no allocation, _exit only.
    ::close(ours.Release());
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int report[2] = {0, static_cast<int>(kNsTypes)};  // errno, failed type
    int fd = -1;
    NsType type = NsType::kUser;
    if (const int err = JoinNamespacesInChild(*ns, &type); err != 0) {
      report[0] = err;
      report[1] = static_cast<int>(type);
    } else {
      for (size_t i = 0; i < kNsTypes; ++i) {
        if (ns->spec[i].mode == NsMode::kJoin && static_cast<NsType>(i) != NsType::kPid) ns->spec[i] = {NsMode::kHost, -1};
      }
      // The pid namespace last: it needs CAP_SYS_ADMIN in the user
      // namespace we are in, which without root is the joined one.
      if (const int pid_err = JoinPidNamespaceInParent(*ns); pid_err != 0) {
        report[0] = pid_err;
        report[1] = static_cast<int>(NsType::kPid);
      }
      const long pid = report[0] != 0 ? -1
                                      : ::syscall(SYS_clone, flags | CLONE_PARENT | CLONE_PIDFD, nullptr, &fd, nullptr,
                                                  nullptr);
      if (pid == 0) {
        ::close(theirs.Release());
        return 0;  // the child, on a copy of the caller's stack
      }
      if (pid < 0 && report[0] == 0) report[0] = errno;
    }
    struct iovec iov = {report, sizeof report};
    char control[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd >= 0) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
    }
    ::_exit(::sendmsg(sv[1], &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof report) ? 0 : 1);
  }
  theirs.Reset();
  int report[2] = {EPROTO, static_cast<int>(kNsTypes)};
  struct iovec iov = {report, sizeof report};
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(ours.get(), &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  const int recv_err = errno;
  int ws;
  while (::waitpid(helper, &ws, 0) < 0 && errno == EINTR) {}
  common::UniqueFd child;
  const struct cmsghdr* cmsg = n > 0 ? CMSG_FIRSTHDR(&msg) : nullptr;
  if (cmsg != nullptr && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
      cmsg->cmsg_len == CMSG_LEN(sizeof(int))) {
    int fd = -1;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
    child.Reset(fd);
  }
  if (n < 0) {
    errno = recv_err;
    return -1;
  }
  if (n != static_cast<ssize_t>(sizeof report) || report[0] != 0 || !child) {
    *failed = static_cast<size_t>(report[1]);
    errno = n == static_cast<ssize_t>(sizeof report) && report[0] != 0 ? report[0] : EPROTO;
    return -1;
  }
  const std::optional<pid_t> pid = PidOfPidfd(child.get());
  if (!pid.has_value() || *pid <= 0) {
    errno = ESRCH;
    return -1;
  }
  *pidfd = child.Release();
  return *pid;
}

int UnshareCgroupInChild(const Namespaces& ns) {
  if (ns[NsType::kCgroup].mode != NsMode::kNew) return 0;
  return ::unshare(CLONE_NEWCGROUP) == 0 ? 0 : errno;
}

}  // namespace sandbox
