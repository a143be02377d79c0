// Pods: a holder (minipod-init in pause mode, under its own monitor) that
// owns the namespaces the pod shares, and containers that join them. The
// holder's state is <root>/pods/NAME; members are containers whose `pod`
// field names it. And the resolution of every namespace a run joins:
// container:NAME and --pod NAME become pidfds of the recorded processes.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "runtime/ns_table.h"
#include "runtime/state.h"
#include "sandbox/namespaces.h"
#include "sandbox/run_config.h"

namespace runtime {

// The classic Pod table: net and ipc shared; mnt, uts and pid per container.
inline const std::vector<std::string> kDefaultShare = {"net", "ipc"};
// "net,ipc,uts" -> the list, checked (net, ipc, pid, uts; net required).
absl::StatusOr<std::vector<std::string>> ParseShare(absl::string_view list);

struct ResolvedJoins {
  sandbox::JoinedNamespaces fds;
  std::vector<common::UniqueFd> owned;  // the pidfds behind fds
};

// For --pod NAME (may be ""): sets config's choice for every type the pod
// shares to join its holder (an explicit --net etc. for such a type is an
// error; so is --userns when the pod has a user namespace), and with a
// shared pid namespace leaves minipod-init out unless
// --init was given. Then opens a pidfd for each container:NAME choice and
// the pod's holder: a container that is not running is an error naming it.
// A member's cgroup goes below the pod's, whose limits it shares; its own
// --cpus may not exceed the pod's (cgroup v1 refuses a larger quota below
// a smaller one, and on v2 it would be a promise not kept).
absl::StatusOr<ResolvedJoins> ResolveJoins(const StateStore& store, const std::string& pod, bool init_given,
                                           sandbox::RunConfig* config);

struct PodRequest {
  std::string name;
  std::vector<std::string> share = kDefaultShare;
  std::vector<std::string> publish;
  std::string hostname;  // "" : the pod's name
  // host: none of its own. auto / keep-id (root): the holder gets a user
  // namespace as run --userns does, "user" joins the share, and every
  // member joins it (its own namespaces are made inside it).
  sandbox::UsernsMode userns = sandbox::UsernsMode::kHost;
  // --memory, --pids, --cpus: on the pod's cgroup, which the holder's and
  // every member's cgroups go below, so the whole pod shares them (as a
  // Kubernetes Pod's and podman's pod limits). Root only.
  sandbox::Limits limits;
};
// What the holder runs: minipod-init as Kubernetes' pause, bound there.
inline constexpr char kHolderCommand[] = "/pause";

// Starts the holder under its monitor. Its root is an empty directory, with
// minipod-init bound in as kHolderCommand.
absl::StatusOr<int> CreatePod(const StateStore& store, const PodRequest& request);

// The containers of the pod, by name.
absl::StatusOr<std::vector<std::string>> PodMembers(const StateStore& store, const std::string& pod);

// Stops and removes the members (running ones only with force), then the
// holder.
absl::Status RemovePod(const StateStore& store, const std::string& pod, bool force);

// The namespace table: host, then for each container its pod's holder (once,
// before the pod's first container) and the container. Exited containers
// are an error (their namespaces are gone).
absl::StatusOr<NsTable> NamespaceTable(const StateStore& store, const std::vector<std::string>& containers,
                                       const std::string& pod = "");

}  // namespace runtime
