// Namespaces as data: for each type the sandbox gets a new one, keeps the
// host's, or joins one given by a descriptor (a namespace file or a pidfd).
// The parent opens the namespace files of ns:PATH (open, fstatfs, ioctl
// NS_GET_NSTYPE) and learns who owns what is joined (NS_GET_USERNS,
// NS_GET_OWNER_UID), turns the command line's choices and the descriptors
// into the table (pure) and the table into clone flags (pure); the child
// joins what it must join with setns and unshares its cgroup namespace (no
// allocation).
#pragma once

#include <sys/types.h>

#include <array>
#include <optional>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "sandbox/run_config.h"

namespace sandbox {

enum class NsType : int { kUser, kMnt, kPid, kIpc, kUts, kNet, kCgroup };
inline constexpr size_t kNsTypes = 7;

enum class NsMode : int {
  kHost,  // the launcher's own
  kNew,   // a new one, made by clone (cgroup: by unshare in the child, once it is in its cgroup)
  kJoin,  // setns(fd): a /proc/PID/ns/* file, or a pidfd (several types of one process at once, 5.8+)
};

struct NamespaceSpec {
  NsMode mode = NsMode::kHost;
  int fd = -1;  // kJoin only; owned by the caller
};

struct Namespaces {
  std::array<NamespaceSpec, kNsTypes> spec{};
  NamespaceSpec& operator[](NsType t) { return spec[static_cast<size_t>(t)]; }
  const NamespaceSpec& operator[](NsType t) const { return spec[static_cast<size_t>(t)]; }
};

// The pid a pidfd refers to, from /proc/self/fdinfo ("Pid:\t123"; -1 once
// it has been reaped), or nullopt when fd is no pidfd.
std::optional<pid_t> PidOfPidfd(int fd);

// CLONE_NEWUSER, CLONE_NEWNS, ...
int CloneNsFlag(NsType type);
// "user", "mnt", ... as in /proc/PID/ns.
const char* NsName(NsType type);

// `minipod run`'s sandbox: every type new but the network one with
// --net host, and the user one unless rootless.
Namespaces SandboxNamespaces(bool net_host, bool rootless);

// Opens a namespace file (a bind mount of one, or /proc/PID/ns/TYPE) for
// setns: O_RDONLY|O_CLOEXEC, then checks that it is on nsfs (fstatfs) and
// of the expected type (ioctl NS_GET_NSTYPE). Errors name the path and the
// reason: not found, EACCES (another user's process), not a namespace file,
// a namespace of another type.
absl::StatusOr<common::UniqueFd> OpenNamespaceFile(const std::string& path, NsType expected);

// The command line's choice for a type (--net, --ipc, --pid, --uts; user:
// RunConfig::user, a pod's); nullptr for mnt and cgroup.
const NsChoice* ChoiceOf(const RunConfig& config, NsType type);

// "net, container:pause" for messages about joining that namespace.
std::string DescribeJoin(const RunConfig& config, NsType type);

// Descriptors of the namespaces to join, per type; -1: none. Each is a
// namespace file (OpenNamespaceFile) or a pidfd of another container's
// process; one pidfd may stand for several types (it is then joined with
// one setns, atomically). Borrowed: the caller keeps them open until the
// sandbox has started.
struct JoinedNamespaces {
  JoinedNamespaces() { fd.fill(-1); }
  std::array<int, kNsTypes> fd;
  int& operator[](NsType t) { return fd[static_cast<size_t>(t)]; }
  int operator[](NsType t) const { return fd[static_cast<size_t>(t)]; }
};

// A user namespace as the kernel names it (the device and inode of its
// nsfs file), and the uid that made it (ioctl NS_GET_OWNER_UID, as seen
// from our own user namespace).
struct UserNsId {
  dev_t dev = 0;
  ino_t ino = 0;
  uid_t owner_uid = 0;
  bool operator==(const UserNsId& o) const { return dev == o.dev && ino == o.ino; }
};

// Everything a run joins, ready for PlanNamespaces.
struct NamespaceJoins {
  JoinedNamespaces fds;
  // The namespace joined is the launcher's own (ns:/proc/self/ns/net, or a
  // container that shares the host's): planned as the host's, since the
  // command is then no more apart than with `host` (and from our own pid
  // namespace its parent is visible: getppid() is not 0).
  std::array<bool, kNsTypes> ours{};
  // For each joined type, the user namespace that owns the namespace
  // (ioctl NS_GET_USERNS); for a joined user namespace, that namespace
  // itself. nullopt: the kernel would not say (an owner outside our own
  // user namespace).
  std::array<std::optional<UserNsId>, kNsTypes> owner{};
  // A descriptor of each owner above (-1: none), for the user namespace a
  // run without root joins first; held in `owned`.
  std::array<int, kNsTypes> owner_fd = {-1, -1, -1, -1, -1, -1, -1};
  // Our own user namespace and effective uid: what a run without root
  // compares the owners with.
  std::optional<UserNsId> self_userns;
  uid_t caller_uid = 0;
  std::vector<common::UniqueFd> owned;  // the namespace files opened here
};

// Parent: for each type the config joins, the descriptor `given` holds
// for it (a pidfd the caller resolved container:NAME to, or a namespace
// file) or, for ns:PATH without one, the file opened with
// OpenNamespaceFile. A given pidfd must name a live process (a container
// that has exited is an error naming it); a given namespace file must be of
// the type. container:NAME with no descriptor is an error here: names are
// resolved by the caller, through the containers' state. Each joined
// namespace's owner is recorded (for a pidfd, through /proc/PID/ns/TYPE,
// which must open: another user's process is an error naming it).
absl::StatusOr<NamespaceJoins> OpenNamespaceJoins(const RunConfig& config, const JoinedNamespaces& given);

// Pure: the table the launcher uses. Every type new but the user one
// (the host's, or new when rootless); --net/--ipc/--pid/--uts host or
// joined as chosen, a joined namespace that is `ours` as the host's.
// Without root, setns needs CAP_SYS_ADMIN over a joined namespace's owner,
// which a user namespace of our own never has: so the sandbox joins the
// user namespace that owns what it joins instead of making one (as a
// rootless podman pod's members do), and its new mnt, uts, pid and cgroup
// namespaces are made inside it (CloneAfterJoins). That owner must be one
// the caller made (its owner uid is ours: there we hold every capability),
// not our own user namespace, and the same for every type joined; anything
// else is PERMISSION_DENIED naming the option. --pid host is refused
// rootless (a new /proc for the host's pid namespace needs privilege over
// it); --net host, --ipc host and --uts host work.
absl::StatusOr<Namespaces> PlanNamespaces(const RunConfig& config, const NamespaceJoins& joins, bool rootless);

// The CLONE_NEW* flags for clone: every kNew type except cgroup, which the
// child unshares once the launcher has put it in the sandbox's cgroup (that
// cgroup becomes the namespace's root). A joined pid namespace must be
// joined by the launcher before the clone (it applies to children only):
// JoinPidNamespaceInParent.
unsigned long CloneFlags(const Namespaces& ns);

// Launcher, before the clone: setns into a joined pid namespace (needs
// CAP_SYS_ADMIN over it, and in our own user namespace: with a joined user
// namespace, CloneAfterJoins's helper joins it after that one). Returns 0
// or errno.
int JoinPidNamespaceInParent(const Namespaces& ns);

// A user namespace's file, from a descriptor PlanNamespaces joins it
// through: a user namespace file (dup'ed) or a pidfd (/proc/PID/ns/user,
// trusted only while the process still lives). For id-mapped mounts.
absl::StatusOr<common::UniqueFd> OpenUserNamespaceOf(int fd);

// Launcher, instead of clone, when the plan joins a user namespace: the
// namespaces clone makes are owned by the caller's user namespace, and a
// child that joined another one afterwards would hold no privilege over
// its own mnt, uts and pid namespaces (no mount, no /proc, no host name).
// So a short-lived helper (forked) joins the namespaces the plan joins
// (JoinNamespacesInChild, then a joined pid namespace: without root that
// needs the joined user namespace's capabilities), marks them as the
// host's in its copy of *ns, and clones with
// flags | CLONE_PARENT | CLONE_PIDFD: the new namespaces
// belong to the joined user namespace, and the child is ours, with *ns
// telling it there is nothing left to join. Fork-like: returns 0 in the
// child, its pid in the caller (its pidfd in *pidfd), or -1 with errno set
// (*failed: the type whose join failed, else kNsTypes).
long CloneAfterJoins(Namespaces* ns, unsigned long flags, int* pidfd, size_t* failed);

// Child, first thing: setns into every joined type but pid, the user
// namespace first (it owns the others). Types that name the same
// descriptor (a pidfd) are joined in one call, atomically. Returns 0 or
// errno, with *failed set to the type.
int JoinNamespacesInChild(const Namespaces& ns, NsType* failed);

// Child, in its cgroup: unshare(CLONE_NEWCGROUP) when the cgroup namespace
// is new. Returns 0 or errno.
int UnshareCgroupInChild(const Namespaces& ns);

}  // namespace sandbox
