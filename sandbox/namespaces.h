// Namespaces as data: for each type the sandbox gets a new one, keeps the
// host's, or joins one given by a descriptor (a namespace file or a pidfd).
// The parent turns the table into clone flags (pure); the child joins what it
// must join with setns and unshares its cgroup namespace (no allocation).
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>

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

// CLONE_NEWUSER, CLONE_NEWNS, ...
int CloneNsFlag(NsType type);
// "user", "mnt", ... as in /proc/PID/ns.
const char* NsName(NsType type);

// `minipod run`'s sandbox: every type new but the network one with
// --net host, and the user one unless rootless.
Namespaces SandboxNamespaces(bool net_host, bool rootless);

// The CLONE_NEW* flags for clone: every kNew type except cgroup, which the
// child unshares once the launcher has put it in the sandbox's cgroup (that
// cgroup becomes the namespace's root). A joined pid namespace must be
// joined by the launcher before the clone (it applies to children only):
// JoinPidNamespaceInParent.
unsigned long CloneFlags(const Namespaces& ns);

// Launcher, before the clone: setns into a joined pid namespace (needs
// CAP_SYS_ADMIN over it). Returns 0 or errno.
int JoinPidNamespaceInParent(const Namespaces& ns);

// Child, first thing: setns into every joined type but pid, the user
// namespace first (it owns the others). Types that name the same
// descriptor (a pidfd) are joined in one call, atomically. Returns 0 or
// errno, with *failed set to the type.
int JoinNamespacesInChild(const Namespaces& ns, NsType* failed);

// Child, in its cgroup: unshare(CLONE_NEWCGROUP) when the cgroup namespace
// is new. Returns 0 or errno.
int UnshareCgroupInChild(const Namespaces& ns);

}  // namespace sandbox
