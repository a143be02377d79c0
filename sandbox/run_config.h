// What `minipod run` is asked to do, as data the launcher plans with (the
// command line fills it in cli/run_options.cc), and the pure rules derived
// from it: the order of the user's mounts and the command's environment.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sandbox/cgroup_limits.h"

namespace sandbox {

struct BindSpec {
  std::string source;  // host path, absolute (a relative one is made absolute against the working directory)
  std::string dest;    // path inside, absolute, normalized
  bool writable = false;
  bool dev = false;    // :dev: device nodes under it stay usable (every other mount is nodev)
  bool noexec = false;  // nothing under it executes (a pod's /dev/shm)
};

// One --bind or --tmpfs, in the order the command line gave them: a later
// mount stacks on an earlier one (--tmpfs /data --bind f:/data/a).
struct UserMount {
  enum class Kind { kBind, kTmpfs };
  Kind kind = Kind::kBind;
  size_t index = 0;  // into RunConfig::binds or RunConfig::tmpfs
};

// --net, --ipc, --pid, --uts: which namespace of that type the command gets.
struct NsChoice {
  enum class Kind {
    kNew,        // its own (the default; --net none)
    kHost,       // the launcher's
    kContainer,  // container:NAME, that container's (the caller resolves NAME to a pidfd)
    kPath,       // ns:PATH, a namespace file: bind-mounted, or /proc/PID/ns/TYPE
  };
  Kind kind = Kind::kNew;
  std::string target;  // kContainer: the name; kPath: an absolute host path

  bool is_new() const { return kind == Kind::kNew; }
  bool joins() const { return kind == Kind::kContainer || kind == Kind::kPath; }
  // "new", "host", "container:NAME", "ns:PATH", as on the command line.
  std::string ToString() const;
};
// --userns: host (as root, the host's ids; without root minipod always
// makes a user namespace with the caller as 0), auto (as root: a 65536-id
// block of its own, see userns.h), keep-id (the caller's ids unchanged inside).
enum class UsernsMode { kHost, kAuto, kKeepId };

struct RunConfig {
  std::string rootfs;                // --rootfs DIR ("" with --bundle)
  std::vector<std::string> bundle;   // --bundle BIN...
  bool read_only = false;            // --read-only: the root (a scratch overlay over DIR) read-only
  std::string upper;                 // --upper DIR: keep the overlay's upper layer there
  std::vector<BindSpec> binds;       // --bind SRC:DST[:rw|:ro][,dev]
  std::vector<std::string> tmpfs;    // --tmpfs PATH
  std::vector<UserMount> mount_order;  // binds and tmpfs together, as given; empty: binds, then tmpfs
  std::string hostname = "minipod";  // --hostname
  std::vector<std::string> env;      // K=V, after the defaults (PATH, HOME, TERM, HOSTNAME)
  std::string workdir = "/";         // --workdir
  uid_t uid = 0;                     // --user UID[:GID]
  gid_t gid = 0;
  std::optional<std::string> memory, pids, cpus;  // raw; parsed by the cgroup code
  std::vector<std::string> cap_add, cap_drop;
  std::string seccomp = "default";   // default | unconfined | FILE
  bool init = true;                  // --no-init: the command is PID 1 itself; --init: keep the init
  int status_fd = -1;                // --status-fd FD
  UsernsMode userns = UsernsMode::kHost;  // --userns
  bool tty = false;                  // -t: a new pseudo-terminal for the command
  bool interactive = false;          // -i: keep stdin open (detached); with -t, relay our input
  std::vector<std::string> command;  // CMD [ARGS]

  // Namespaces (--net, --ipc, --pid, --uts): new unless asked. With a pid
  // namespace that is not new the command is not its PID 1, so `init` is
  // false unless --init keeps minipod-init (then a child subreaper).
  NsChoice net, ipc, pid, uts;
  // --cgroupns host|private: the cgroup namespace (private: new, the
  // default; a pod's containers get the host's, as in the classic Pod).
  std::optional<bool> cgroupns_host;
  bool net_host() const { return net.kind == NsChoice::Kind::kHost; }

  // Pods. `user`: the user namespace, as --userns says (kNew), or joined
  // (kContainer: a pod's holder, resolved to a pidfd by the caller); the
  // sandbox's own mnt, uts and pid namespaces are then made inside it.
  // `cgroup_parent`: one path component the sandbox's cgroup goes below
  // (made when missing, in each hierarchy used, below the launcher's own
  // cgroup; never removed by the sandbox): a pod's cgroup.
  // `cgroup_parent_limits`: that cgroup's own limits (pod create --memory,
  // --pids, --cpus), which the whole pod shares.
  NsChoice user;
  std::string cgroup_parent;
  Limits cgroup_parent_limits;

  // True when a bind keeps device access (:dev): the device cgroup then
  // has to say which devices may be opened through it.
  bool needs_device_cgroup() const;
};

// binds and tmpfs in the order they are mounted: mount_order when it covers
// them all, else every bind and then every tmpfs.
std::vector<UserMount> MountOrder(const RunConfig& config);

// The environment the command starts with: PATH, HOSTNAME (only with a uts
// namespace of its own), HOME (/root for uid 0, / otherwise) and TERM (from
// the caller's, if set), then --env in order; a later K replaces an earlier
// one.
std::vector<std::string> CommandEnvironment(const RunConfig& config, const char* caller_term);

}  // namespace sandbox
