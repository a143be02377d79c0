// The state of containers and pods that live on: one private directory per
// container (<root>/containers/NAME) and per pod (<root>/pods/NAME), the
// root being /run/minipod for root and $XDG_RUNTIME_DIR/minipod otherwise.
// Each directory holds state.json (replaced by rename, never rewritten in
// place), the CRI log, the monitor's control socket and the compiled
// seccomp filter that exec installs again. Every pid is stored with its
// start time, and a process is only ever reached through a pidfd opened
// after checking that time, so a reused pid is never signalled.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"
#include "sandbox/cgroup_limits.h"

namespace runtime {

// A process as recorded: its pid and its start time (field 22 of
// /proc/PID/stat, in clock ticks after boot).
struct ProcessRef {
  pid_t pid = 0;
  uint64_t start_time = 0;
  bool operator==(const ProcessRef&) const = default;
};

// The start time of pid, or nullopt when there is no such process.
std::optional<uint64_t> ReadStartTime(pid_t pid);
// pid with its start time now; nullopt when it is gone.
std::optional<ProcessRef> RefOf(pid_t pid);
// A pidfd of the recorded process, opened first and then checked against
// the start time (so it cannot name a process that reused the pid).
// NotFound when the process is gone.
absl::StatusOr<common::UniqueFd> OpenProcess(const ProcessRef& ref);
// True while the recorded process runs (a zombie counts as gone).
bool Alive(const ProcessRef& ref);

enum class Kind { kContainer, kPod };

// What exec needs to enter the container with no more privilege than it has.
struct ExecState {
  uint64_t caps = 0;     // effective = permitted = bounding set
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<std::string> env;
  std::string workdir = "/";
  bool seccomp = false;  // seccomp.bpf in the directory holds the filters
};

struct ContainerState {
  static constexpr int kVersion = 1;
  Kind kind = Kind::kContainer;
  std::string name;
  std::string id;    // 32 hex digits
  std::string pod;   // the pod a container belongs to ("" for none)
  std::vector<std::string> command;
  std::string rootfs;
  std::string created;   // RFC 3339 UTC
  std::string started;   // "" until it runs
  std::string finished;  // "" until it ends
  // created (monitor started, container not yet running), running, exited.
  // `lost` is never stored: Status() derives it.
  std::string status = "created";
  ProcessRef monitor;
  ProcessRef init;  // the container's first process (minipod-init, or the command)
  int exit_code = -1;
  int signal = 0;
  bool oom = false;
  std::vector<std::string> cgroups;
  std::vector<std::string> ports;  // "0.0.0.0:8080->80/tcp"
  // Namespace type ("net", ...) -> inode, read when it started.
  std::map<std::string, uint64_t> namespaces;
  // Pods: the namespace types the holder shares with its members, and the
  // limits of the pod's cgroup, which the members share (pod create
  // --memory, --pids, --cpus).
  std::vector<std::string> share;
  sandbox::Limits limits;
  bool tty = false;
  bool interactive = false;
  bool auto_remove = false;
  std::vector<std::string> args;  // the run command line, for inspect
  ExecState exec;

  // status, or `lost` for one recorded as created/running whose monitor is
  // gone (killed: the container died with it).
  std::string Status() const;
};

// JSON, stable field names (inspect prints a superset).
std::string SerializeState(const ContainerState& state);
// Bounds-checked: a truncated, hostile or foreign file is an error naming
// the field, never a crash.
absl::StatusOr<ContainerState> ParseState(absl::string_view json);

// A cgroup directory a state may name: absolute, clean, its last part
// "minipod-..." (rm and exec act on what the state says: a state that
// named /sys/fs/cgroup/system.slice would make rm kill the host).
bool IsContainerCgroupPath(absl::string_view path);

// Names: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 characters (docker's rule).
absl::Status CheckName(absl::string_view name);
// A short random name (adjective_noun-like hex: "mp-1a2b3c4d").
std::string RandomName();
std::string RandomId();
std::string NowRfc3339();

class StateStore {
 public:
  // The root for the caller (created 0700 if missing, every directory on
  // the way checked to be the caller's or root's); $MINIPOD_STATE_DIR
  // overrides it (tests).
  static absl::StatusOr<StateStore> Open();
  static absl::StatusOr<std::string> DefaultRoot();

  // Reserves NAME: mkdir, so two runs cannot both get it. AlreadyExists
  // names it.
  absl::StatusOr<common::UniqueFd> Create(Kind kind, const std::string& name);
  // The directory of an existing one (NotFound: "no such container: NAME").
  absl::StatusOr<common::UniqueFd> Dir(Kind kind, const std::string& name) const;
  // Exclusive flock on the directory for a read-modify-write.
  absl::StatusOr<common::UniqueFd> Lock(Kind kind, const std::string& name) const;

  // state.json; one whose monitor died after the read is read again (it
  // saves the end first), so Status() says lost only of a lost one.
  absl::StatusOr<ContainerState> Load(Kind kind, const std::string& name) const;
  // Writes state.json.tmp and renames it over state.json.
  absl::Status Save(const ContainerState& state) const;
  // Names in alphabetical order (directories without a readable state are
  // skipped: being created or removed).
  absl::StatusOr<std::vector<std::string>> List(Kind kind) const;
  // Removes the directory and everything in it (never following a link).
  absl::Status Remove(Kind kind, const std::string& name) const;

  const std::string& root() const { return root_; }
  std::string PathOf(Kind kind, const std::string& name) const;

 private:
  StateStore() = default;
  absl::StatusOr<ContainerState> LoadOnce(Kind kind, const std::string& name) const;
  int KindFd(Kind kind) const { return kind == Kind::kPod ? pods_.get() : containers_.get(); }
  std::string root_;
  common::UniqueFd containers_, pods_;
};

// Files in a container's directory.
inline constexpr char kStateFile[] = "state.json";
inline constexpr char kLogFile[] = "container.log";
inline constexpr char kControlSocket[] = "ctl.sock";
inline constexpr char kSeccompFile[] = "seccomp.bpf";

const char* KindWord(Kind kind);

// The namespaces of a process: type ("cgroup", "ipc", "mnt", "net", "pid",
// "time", "user", "uts") -> inode; types this kernel lacks are left out.
using NamespaceInodes = std::map<std::string, uint64_t>;
absl::StatusOr<NamespaceInodes> ReadNamespaceInodes(pid_t pid);
inline constexpr const char* kNamespaceTypes[] = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};  // "container" / "pod"

}  // namespace runtime
