#include "runtime/pods.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/absl/self_path.h"
#include "common/absl/status_util.h"
#include "runtime/lifecycle.h"
#include "runtime/monitor.h"
#include "sandbox/cgroup.h"

namespace runtime {
namespace {

using sandbox::NsChoice;
using sandbox::NsType;

struct Joinable {
  const char* name;
  NsType type;
  NsChoice sandbox::RunConfig::*choice;
};
constexpr Joinable kJoinable[] = {
    {"net", NsType::kNet, &sandbox::RunConfig::net},
    {"ipc", NsType::kIpc, &sandbox::RunConfig::ipc},
    {"pid", NsType::kPid, &sandbox::RunConfig::pid},
    {"uts", NsType::kUts, &sandbox::RunConfig::uts},
    // Not a --share choice: pod create --userns gives the pod a user
    // namespace, listed in its share (the holder's, joined by every member).
    {"user", NsType::kUser, &sandbox::RunConfig::user},
};

absl::StatusOr<common::UniqueFd> OpenRunning(const StateStore& store, Kind kind, const std::string& name) {
  ASSIGN_OR_RETURN(const ContainerState state, store.Load(kind, name));
  const std::string status = state.Status();
  if (status != "running") {
    return absl::FailedPreconditionError(absl::StrCat(KindWord(kind), " ", name, " is not running (", status, ")"));
  }
  absl::StatusOr<common::UniqueFd> fd = OpenProcess(state.init);
  if (!fd.ok()) return absl::FailedPreconditionError(absl::StrCat(KindWord(kind), " ", name, " is not running"));
  return fd;
}

// An empty directory for the holder's root, in our private state root.
absl::StatusOr<std::string> EmptyRoot(const StateStore& store) {
  const std::string path = store.root() + "/empty";
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return common::ErrnoStatus(errno, absl::StrCat("mkdir(", path, ")"));
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("stat(", path, ")"));
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": not a directory of ours"));
  }
  return path;
}

// POSIX shared memory is files in /dev/shm, a tmpfs per mount namespace,
// not part of the IPC namespace: a pod that shares ipc gets one tmpfs on
// the host, bound on every member's /dev/shm (Docker does the same for
// --ipc container:, containerd per sandbox). Without root (no tmpfs can be
// mounted on the host) it is a directory of our private state root, which
// $XDG_RUNTIME_DIR usually puts on a tmpfs already.
std::string PodShmPath(const StateStore& store, const std::string& pod) { return store.root() + "/shm/" + pod; }

absl::Status MakePodShm(const StateStore& store, const std::string& pod) {
  const std::string dir = store.root() + "/shm";
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return common::ErrnoStatus(errno, absl::StrCat("mkdir(", dir, ")"));
  const std::string path = PodShmPath(store, pod);
  if (::mkdir(path.c_str(), 0700) != 0) return common::ErrnoStatus(errno, absl::StrCat("mkdir(", path, ")"));
  if (::geteuid() != 0) {
    // As a tmpfs's root would be (only our ids are mapped in the pod; the
    // directory above is private).
    if (::chmod(path.c_str(), 01777) != 0) return common::ErrnoStatus(errno, absl::StrCat("chmod(", path, ")"));
    return absl::OkStatus();
  }
  if (::mount("shm", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") != 0) {
    const int err = errno;
    ::rmdir(path.c_str());
    return common::ErrnoStatus(err, absl::StrCat("mount(tmpfs, ", path, ")"));
  }
  return absl::OkStatus();
}

// The pod's cgroup: a directory the holder's and every member's cgroups
// go below, named after the pod and made unique (state directories of
// their own may hold pods of the same name), in each hierarchy a member's
// cgroup is in. Its name is read back from the holder's recorded cgroup.
constexpr char kPodCgroupPrefix[] = "minipod-pod-";
// How long pod rm waits for the holder after SIGTERM (and for the members'
// monitors after SIGKILL) before it kills what is left.
constexpr int kPodStopGraceS = 10;

std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// The pod cgroup's name from the holder's state ("" when it has none: a
// holder without a cgroup, or one from before pod cgroups).
std::string PodCgroupOf(const ContainerState& holder) {
  if (holder.cgroups.empty()) return "";
  const std::string dir = holder.cgroups.front().substr(0, holder.cgroups.front().rfind('/'));
  const std::string name = BaseName(dir);
  return name.rfind(kPodCgroupPrefix, 0) == 0 ? name : "";
}

// Every directory named `group` right above a cgroup of these states.
std::vector<std::string> PodCgroupDirs(const std::string& group, const std::vector<ContainerState>& states) {
  std::vector<std::string> dirs;
  for (const ContainerState& s : states) {
    for (const std::string& c : s.cgroups) {
      const size_t slash = c.rfind('/');
      if (slash == std::string::npos || slash == 0) continue;
      const std::string dir = c.substr(0, slash);
      if (BaseName(dir) == group && std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
    }
  }
  return dirs;
}

// Removes everything below dir_fd (closed here), never following a link:
// the members wrote there. Directories they made unsearchable are opened
// up first (they are ours); depth is bounded.
void RemoveContents(int dir_fd, int depth) {
  DIR* dir = ::fdopendir(dir_fd);
  if (dir == nullptr) {
    ::close(dir_fd);
    return;
  }
  std::vector<std::pair<std::string, bool>> entries;
  while (const struct dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    entries.emplace_back(name, S_ISDIR(st.st_mode));
  }
  for (const auto& [name, is_dir] : entries) {
    if (is_dir && depth < 64) {
      ::fchmodat(dir_fd, name.c_str(), 0700, 0);
      const int sub = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) RemoveContents(sub, depth + 1);
    }
    ::unlinkat(dir_fd, name.c_str(), is_dir ? AT_REMOVEDIR : 0);
  }
  ::closedir(dir);
}

void RemovePodShm(const StateStore& store, const std::string& pod) {
  const std::string path = PodShmPath(store, pod);
  ::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
  // Without root the files are there (no tmpfs went with the unmount).
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) RemoveContents(fd, 0);
  ::rmdir(path.c_str());
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseShare(absl::string_view list) {
  std::vector<std::string> out;
  for (absl::string_view t : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    bool known = false;
    for (const Joinable& j : kJoinable) known = known || (t == j.name && j.type != NsType::kUser);
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat("--share '", list, "': ", t, " is not one of net, ipc, pid, uts"));
    }
    if (std::find(out.begin(), out.end(), t) == out.end()) out.emplace_back(t);
  }
  if (std::find(out.begin(), out.end(), "net") == out.end()) {
    // The holder exists to keep the pod's network; a pod without one
    // shared network is a set of unrelated containers.
    return absl::InvalidArgumentError(absl::StrCat("--share '", list, "': a pod shares at least its network (net)"));
  }
  return out;
}

absl::StatusOr<ResolvedJoins> ResolveJoins(const StateStore& store, const std::string& pod, bool init_given,
                                           sandbox::RunConfig* config) {
  ResolvedJoins out;
  if (!pod.empty()) {
    ASSIGN_OR_RETURN(const ContainerState holder, store.Load(Kind::kPod, pod));
    ASSIGN_OR_RETURN(common::UniqueFd fd, OpenRunning(store, Kind::kPod, pod));
    const int raw = fd.get();
    out.owned.push_back(std::move(fd));
    // The classic Pod: the host's cgroup namespace, as the holder's.
    if (!config->cgroupns_host.has_value()) config->cgroupns_host = true;
    config->cgroup_parent = PodCgroupOf(holder);
    config->cgroup_parent_limits = holder.limits;
    if (holder.limits.cpus.has_value() && config->cpus.has_value()) {
      ASSIGN_OR_RETURN(const double cpus, sandbox::ParseCpus(*config->cpus));
      if (cpus > *holder.limits.cpus) {
        return absl::InvalidArgumentError(absl::StrCat("--cpus '", *config->cpus, "': more than the ",
                                                       *holder.limits.cpus, " CPUs of the pod ", pod));
      }
    }
    for (const Joinable& j : kJoinable) {
      if (std::find(holder.share.begin(), holder.share.end(), j.name) == holder.share.end()) continue;
      NsChoice& choice = config->*j.choice;
      if (j.type == NsType::kUser && config->userns != sandbox::UsernsMode::kHost) {
        return absl::InvalidArgumentError(absl::StrCat("--userns: the pod ", pod,
                                                       " has a user namespace, which its containers join; leave --userns out"));
      }
      if (!choice.is_new()) {
        return absl::InvalidArgumentError(absl::StrCat("--", j.name, " ", choice.ToString(), ": the pod ", pod,
                                                       " shares its ", j.name, " namespace; leave --", j.name, " out"));
      }
      choice.kind = NsChoice::Kind::kContainer;
      choice.target = pod;
      out.fds[j.type] = raw;
      if (j.type == NsType::kPid && !init_given) config->init = false;
      // The pod's /dev/shm (see MakePodShm); a rootless pod made before
      // it had one has none.
      struct stat shm;
      if (j.type == NsType::kIpc &&
          (::geteuid() == 0 || (::lstat(PodShmPath(store, pod).c_str(), &shm) == 0 && S_ISDIR(shm.st_mode)))) {
        // noexec as the tmpfs a root pod gets; a rootless pod's directory
        // has no size cap but its file system's.
        config->binds.push_back(
            sandbox::BindSpec{PodShmPath(store, pod), "/dev/shm", /*writable=*/true, /*dev=*/false, /*noexec=*/true});
        if (!config->mount_order.empty()) {
          config->mount_order.push_back(
              sandbox::UserMount{sandbox::UserMount::Kind::kBind, config->binds.size() - 1});
        }
      }
    }
  }
  std::map<std::string, int> opened;
  for (const Joinable& j : kJoinable) {
    const NsChoice& choice = config->*j.choice;
    if (choice.kind != NsChoice::Kind::kContainer || out.fds[j.type] >= 0) continue;
    auto it = opened.find(choice.target);
    if (it == opened.end()) {
      absl::StatusOr<common::UniqueFd> fd = OpenRunning(store, Kind::kContainer, choice.target);
      if (!fd.ok()) return common::Annotate(fd.status(), absl::StrCat("--", j.name, " container:", choice.target));
      it = opened.emplace(choice.target, fd->get()).first;
      out.owned.push_back(*std::move(fd));
    }
    out.fds[j.type] = it->second;
  }
  return out;
}

absl::StatusOr<int> CreatePod(const StateStore& store, const PodRequest& request) {
  RETURN_IF_ERROR(CheckName(request.name));
  if (request.limits.any() && ::geteuid() != 0) {
    // A pod cgroup is made as root only: without root it would quietly
    // have no limits at all.
    return absl::PermissionDeniedError("pod create --memory/--pids/--cpus: a pod's limits need root (its cgroup)");
  }
  DetachRequest r;
  r.kind = Kind::kPod;
  r.name = request.name;
  r.share = request.share;
  r.publish = request.publish;
  ASSIGN_OR_RETURN(r.rootfs, EmptyRoot(store));
  r.config.rootfs = r.rootfs;
  r.config.read_only = true;
  r.config.hostname = request.hostname.empty() ? request.name : request.hostname;
  // The holder is minipod-init as Kubernetes' pause, bound at /pause and
  // run as PID 1 of its own pid namespace: `ps` and `pod ps` show
  // "/pause", as for a Kubernetes Pod's sandbox (podman's infra shows
  // "/catatonit -P"), instead of an init with no command. The personality
  // holds the namespaces, reaps, and exits 0 on SIGTERM or SIGINT.
  ASSIGN_OR_RETURN(const std::string init_path, minipod::FindInit("pod create"));
  r.config.init = false;
  r.config.command = {kHolderCommand};
  r.config.binds.push_back(sandbox::BindSpec{init_path, kHolderCommand, /*writable=*/false, /*dev=*/false});
  r.config.cap_drop = {"ALL"};
  r.config.cgroupns_host = true;
  r.config.cgroup_parent = absl::StrCat(kPodCgroupPrefix, request.name, "-", RandomId().substr(0, 8));
  r.config.cgroup_parent_limits = request.limits;
  r.args = {absl::StrCat("--share=", absl::StrJoin(request.share, ","))};
  if (request.limits.memory_bytes) r.args.push_back(absl::StrCat("--memory=", *request.limits.memory_bytes));
  if (request.limits.pids) r.args.push_back(absl::StrCat("--pids=", *request.limits.pids));
  if (request.limits.cpus) r.args.push_back(absl::StrCat("--cpus=", *request.limits.cpus));
  if (::geteuid() != 0) {
    // Without root the holder is in a user namespace of its own (the
    // caller's uid is 0 there), which owns the namespaces it shares: the
    // members join it first, as a rootless podman pod's do.
    if (request.userns != sandbox::UsernsMode::kHost) {
      return absl::PermissionDeniedError(
          "pod create --userns: without root the pod already has a user namespace of its own (your uid is 0 inside), "
          "which its members join");
    }
    r.share.push_back("user");
  } else if (request.userns != sandbox::UsernsMode::kHost) {
    // The holder makes it (a block of its own, as run --userns); members join it.
    r.config.userns = request.userns;
    r.share.push_back("user");
    r.args.push_back(request.userns == sandbox::UsernsMode::kAuto ? "--userns=auto" : "--userns=keep-id");
  }
  for (const std::string& p : request.publish) r.args.push_back(absl::StrCat("--publish=", p));
  const bool shm = std::find(r.share.begin(), r.share.end(), "ipc") != r.share.end();
  if (shm) {
    if (store.Dir(Kind::kPod, request.name).ok()) {
      return absl::AlreadyExistsError(absl::StrCat("the pod name \"", request.name, "\" is already in use"));
    }
    RemovePodShm(store, request.name);  // left by a pod whose removal was cut short
    RETURN_IF_ERROR(MakePodShm(store, request.name));
  }
  absl::StatusOr<DetachResult> started = RunDetached(r);
  if (shm && (!started.ok() || started->status != 0)) RemovePodShm(store, request.name);
  if (!started.ok()) return started.status();
  const DetachResult& result = *started;
  if (result.status != 0) {
    return absl::InternalError(absl::StrCat("pod ", request.name, ": the holder did not start",
                                            result.error.empty() ? "" : ": ", result.error));
  }
  return 0;
}

absl::StatusOr<std::vector<std::string>> PodMembers(const StateStore& store, const std::string& pod) {
  ASSIGN_OR_RETURN(const std::vector<std::string> names, store.List(Kind::kContainer));
  std::vector<std::string> members;
  for (const std::string& n : names) {
    absl::StatusOr<ContainerState> s = store.Load(Kind::kContainer, n);
    if (s.ok() && s->pod == pod) members.push_back(n);
  }
  return members;
}

absl::Status RemovePod(const StateStore& store, const std::string& pod, bool force) {
  ASSIGN_OR_RETURN(const ContainerState holder, store.Load(Kind::kPod, pod));
  // Each member's state read once: the checks, the cgroups and the waits
  // below all use it.
  ASSIGN_OR_RETURN(const std::vector<std::string> names, store.List(Kind::kContainer));
  std::vector<std::string> members;
  std::vector<ContainerState> states = {holder};
  for (const std::string& n : names) {
    absl::StatusOr<ContainerState> s = store.Load(Kind::kContainer, n);
    if (!s.ok() || s->pod != pod) continue;
    if (!force && s->Status() == "running") {
      return absl::FailedPreconditionError(
          absl::StrCat("pod ", pod, ": container ", n, " is running: stop it first, or use pod rm -f"));
    }
    members.push_back(n);
    states.push_back(*std::move(s));
  }
  // The pod's cgroup, in every hierarchy the holder's and the members'
  // cgroups were in: what a lost pod left in it goes with it.
  const std::string group = PodCgroupOf(holder);
  const std::vector<std::string> group_dirs = group.empty() ? std::vector<std::string>() : PodCgroupDirs(group, states);
  // Every member killed and the holder asked to stop at once, then all
  // their monitors waited for together: they clean up side by side, and
  // the pod is gone when the slowest is, not after the sum of them. (The
  // holder's namespaces outlive it while a member still uses them; with a
  // shared pid namespace its end kills what is left of the members.)
  std::vector<ProcessRef> monitors;
  for (size_t i = 1; i < states.size(); ++i) {
    if (states[i].Status() != "running") continue;
    (void)KillContainer(store, Kind::kContainer, members[i - 1], SIGKILL);
    monitors.push_back(states[i].monitor);
  }
  if (holder.Status() == "running") {
    (void)KillContainer(store, Kind::kPod, pod, SIGTERM);
    monitors.push_back(holder.monitor);
  }
  (void)WaitAllGone(monitors, kPodStopGraceS * 1000);
  // What is left is quick: states to remove, and anything that did not
  // stop in time gets rm -f's treatment (SIGKILL, bounded waits).
  for (const std::string& m : members) RETURN_IF_ERROR(RemoveContainer(store, Kind::kContainer, m, force));
  RETURN_IF_ERROR(StopContainer(store, Kind::kPod, pod, kPodStopGraceS));
  RETURN_IF_ERROR(RemoveContainer(store, Kind::kPod, pod, /*force=*/true));
  RemovePodShm(store, pod);
  if (!group_dirs.empty()) {
    RETURN_IF_ERROR(common::Annotate(sandbox::KillAndRemoveCgroups(group_dirs), absl::StrCat("pod ", pod, ": its cgroup")));
  }
  return absl::OkStatus();
}

absl::StatusOr<NsTable> NamespaceTable(const StateStore& store, const std::vector<std::string>& containers,
                                       const std::string& pod) {
  std::vector<NsColumn> columns;
  common::UniqueFd self(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
  if (!self) return common::ErrnoStatus(errno, "pidfd_open(self)");
  NsColumn host{"host", ColumnRole::kHost, {}};
  ASSIGN_OR_RETURN(host.ns, ReadNamespaces(::getpid(), self.get()));
  columns.push_back(host);
  std::vector<std::string> holders;
  auto add = [&](Kind kind, const std::string& name) -> absl::Status {
    ASSIGN_OR_RETURN(const ContainerState state, store.Load(kind, name));
    absl::StatusOr<common::UniqueFd> fd = OpenProcess(state.init);
    if (state.Status() != "running" || !fd.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(KindWord(kind), " ", name, " is not running: its namespaces are gone"));
    }
    NsColumn c{name, kind == Kind::kPod ? ColumnRole::kHolder : ColumnRole::kContainer, {}};
    absl::StatusOr<NsInodes> ns = ReadNamespaces(state.init.pid, fd->get());
    if (!ns.ok()) return common::Annotate(ns.status(), absl::StrCat(KindWord(kind), " ", name));
    c.ns = *ns;
    columns.push_back(std::move(c));
    return absl::OkStatus();
  };
  auto add_holder = [&](const std::string& p) -> absl::Status {
    if (p.empty() || std::find(holders.begin(), holders.end(), p) != holders.end()) return absl::OkStatus();
    holders.push_back(p);
    // A holder that is gone (its monitor killed) has no column; its
    // members may still run in the namespaces it made.
    absl::StatusOr<ContainerState> holder = store.Load(Kind::kPod, p);
    if (holder.ok() && holder->Status() != "running") return absl::OkStatus();
    return add(Kind::kPod, p);
  };
  RETURN_IF_ERROR(add_holder(pod));
  for (const std::string& name : containers) {
    ASSIGN_OR_RETURN(const ContainerState state, store.Load(Kind::kContainer, name));
    RETURN_IF_ERROR(add_holder(state.pod));
    RETURN_IF_ERROR(add(Kind::kContainer, name));
  }
  return ClassifyNamespaces(std::move(columns));
}

}  // namespace runtime
