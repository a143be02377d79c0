// Namespaces as data (see namespaces.h). Parent: clone flags (pure) and a
// pid namespace join; child: setns and unshare, nothing else.
#include "sandbox/namespaces.h"

#include <errno.h>
#include <sched.h>

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

int UnshareCgroupInChild(const Namespaces& ns) {
  if (ns[NsType::kCgroup].mode != NsMode::kNew) return 0;
  return ::unshare(CLONE_NEWCGROUP) == 0 ? 0 : errno;
}

}  // namespace sandbox
