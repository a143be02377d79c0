// `minipod pod create/ps/rm/inspect` and `inspect --namespaces`.
#include <stdio.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/container_commands.h"
#include "common/absl/status_util.h"
#include "runtime/ns_table.h"
#include "runtime/pods.h"
#include "runtime/publish.h"
#include "runtime/state.h"
#include "sandbox/cgroup_limits.h"
#include "sandbox/launcher.h"

namespace minipod {
namespace {

using cli::ArgKind;
using json = nlohmann::ordered_json;


// A pod's limits: JSON with the state's names (bytes, tasks, CPUs), and a
// line for people ("memory 32m, pids 20, cpus 1.5", or "none").
json LimitsJson(const sandbox::Limits& l) {
  json j = json::object();
  if (l.memory_bytes) j["memory"] = *l.memory_bytes;
  if (l.pids) j["pids"] = *l.pids;
  if (l.cpus) j["cpus"] = *l.cpus;
  return j;
}

// sep between the limits and between name and value: ", " and " " for
// a sentence, "," and "=" for a table cell.
std::string LimitsText(const sandbox::Limits& l, const char* sep = ", ", const char* is = " ") {
  std::vector<std::string> parts;
  if (l.memory_bytes) {
    const int64_t b = *l.memory_bytes;
    parts.push_back(absl::StrCat("memory", is,
                                 b % (int64_t{1} << 30) == 0   ? absl::StrCat(b >> 30, "g")
                                 : b % (int64_t{1} << 20) == 0 ? absl::StrCat(b >> 20, "m")
                                 : b % 1024 == 0               ? absl::StrCat(b >> 10, "k")
                                                               : absl::StrCat(b)));
  }
  if (l.pids) parts.push_back(absl::StrCat("pids", is, *l.pids));
  if (l.cpus) parts.push_back(absl::StrCat("cpus", is, *l.cpus));
  return parts.empty() ? "none" : absl::StrJoin(parts, sep);
}

absl::StatusOr<int> RunPodCreate(const cli::ParsedArgs& args) {
  if (args.operands().size() != 1) return absl::InvalidArgumentError("pod create: name one pod");
  runtime::PodRequest request;
  request.name = args.operands()[0];
  if (args.Has("share")) {
    ASSIGN_OR_RETURN(request.share, runtime::ParseShare(args.Value("share")));
  }
  request.publish = args.Values("publish");
  for (const std::string& p : request.publish) RETURN_IF_ERROR(runtime::ParsePublish(p).status());
  request.hostname = args.Value("hostname");
  if (args.Has("userns")) {
    const std::string u = args.Value("userns");
    if (u == "auto") {
      request.userns = sandbox::UsernsMode::kAuto;
    } else if (u == "keep-id") {
      request.userns = sandbox::UsernsMode::kKeepId;
    } else if (u != "host") {
      return absl::InvalidArgumentError(absl::StrCat("--userns '", u, "': not one of auto, host, keep-id"));
    }
  }
  const auto raw = [&args](const char* name) {
    return args.Has(name) ? std::optional<std::string>(args.Value(name)) : std::nullopt;
  };
  ASSIGN_OR_RETURN(request.limits, sandbox::ParseLimits(raw("memory"), raw("pids"), raw("cpus")));
  ASSIGN_OR_RETURN(const runtime::StateStore store, runtime::StateStore::Open());
  ASSIGN_OR_RETURN(const int status, runtime::CreatePod(store, request));
  if (status == 0) printf("%s\n", request.name.c_str());
  return status;
}

absl::StatusOr<int> RunPodPs(const cli::ParsedArgs& args) {
  ASSIGN_OR_RETURN(const runtime::StateStore store, runtime::StateStore::Open());
  ASSIGN_OR_RETURN(const std::vector<std::string> names, store.List(runtime::Kind::kPod));
  json out = json::array();
  // podman pod ps's columns (its INFRA ID is our holder's PID), with what
  // the pod shares and its limits.
  std::vector<std::vector<std::string>> rows = {
      {"POD", "ID", "STATUS", "CREATED", "CONTAINERS", "RUNNING", "HOLDER", "SHARE", "LIMITS", "PORTS"}};
  for (const std::string& n : names) {
    absl::StatusOr<runtime::ContainerState> s = store.Load(runtime::Kind::kPod, n);
    if (!s.ok()) continue;  // removed meanwhile, or being created
    ASSIGN_OR_RETURN(const std::vector<std::string> members, runtime::PodMembers(store, n));
    int running = 0;
    for (const std::string& m : members) {
      absl::StatusOr<runtime::ContainerState> c = store.Load(runtime::Kind::kContainer, m);
      running += c.ok() && c->Status() == "running";
    }
    const std::string status = s->Status();
    out.push_back(json{{"name", n},
                       {"id", s->id},
                       {"status", status},
                       {"created", s->created},
                       {"share", s->share},
                       {"containers", members},
                       {"running", running},
                       {"ports", s->ports},
                       {"limits", LimitsJson(s->limits)},
                       {"holder_pid", status == "running" ? s->init.pid : 0},
                       {"holder_command", s->command}});
    rows.push_back({n, s->id.substr(0, 12), status, s->created.substr(0, 19), absl::StrCat(members.size()),
                    absl::StrCat(running), status == "running" ? absl::StrCat(s->init.pid) : "-",
                    absl::StrJoin(s->share, ","), s->limits.any() ? LimitsText(s->limits, ",", "=") : "-",
                    s->ports.empty() ? "-" : absl::StrJoin(s->ports, ",")});
  }
  if (args.Has("json")) {
    printf("%s\n", out.dump(2, ' ', false, json::error_handler_t::replace).c_str());
  } else {
    PrintTable(rows);
  }
  return 0;
}

absl::StatusOr<int> RunPodRm(const cli::ParsedArgs& args) {
  if (args.operands().empty()) return absl::InvalidArgumentError("pod rm: name a pod");
  ASSIGN_OR_RETURN(const runtime::StateStore store, runtime::StateStore::Open());
  int status = 0;
  for (const std::string& name : args.operands()) {
    if (absl::Status s = runtime::RemovePod(store, name, args.Has("force")); !s.ok()) {
      fprintf(stderr, "minipod pod rm: %s\n", std::string(s.message()).c_str());
      status = 1;
    }
  }
  return status;
}

absl::StatusOr<int> RunPodInspect(const cli::ParsedArgs& args) {
  if (args.operands().size() != 1) return absl::InvalidArgumentError("pod inspect: name one pod");
  const std::string& name = args.operands()[0];
  ASSIGN_OR_RETURN(const runtime::StateStore store, runtime::StateStore::Open());
  ASSIGN_OR_RETURN(const runtime::ContainerState holder, store.Load(runtime::Kind::kPod, name));
  ASSIGN_OR_RETURN(const std::vector<std::string> all, runtime::PodMembers(store, name));
  // Exited members have no namespaces left to show.
  std::vector<std::string> running;
  for (const std::string& m : all) {
    absl::StatusOr<runtime::ContainerState> s = store.Load(runtime::Kind::kContainer, m);
    if (s.ok() && s->Status() == "running") running.push_back(m);
  }
  ASSIGN_OR_RETURN(const runtime::NsTable table, runtime::NamespaceTable(store, running, name));
  if (args.Has("json")) {
    json j = {{"name", name},        {"status", holder.Status()}, {"share", holder.share},
              {"containers", all},   {"ports", holder.ports},     {"holder_pid", holder.init.pid},
              {"limits", LimitsJson(holder.limits)}};
    const json t = runtime::NsTableJson(table);
    for (auto it = t.begin(); it != t.end(); ++it) j[it.key()] = it.value();
    printf("%s\n", j.dump(2).c_str());
  } else {
    printf("pod %s (%s), shares %s; containers: %s\nlimits: %s\n\n%s", name.c_str(), holder.Status().c_str(),
           absl::StrJoin(holder.share, ",").c_str(), all.empty() ? "none" : absl::StrJoin(all, ", ").c_str(),
           LimitsText(holder.limits).c_str(), runtime::RenderNsTable(table).c_str());
  }
  return 0;
}

}  // namespace

absl::StatusOr<int> InspectNamespaces(const runtime::StateStore& store, const std::vector<std::string>& names,
                                      bool as_json) {
  ASSIGN_OR_RETURN(const runtime::NsTable table, runtime::NamespaceTable(store, names));
  if (as_json) {
    printf("%s\n", runtime::NsTableJson(table).dump(2).c_str());
  } else {
    printf("%s", runtime::RenderNsTable(table).c_str());
  }
  return 0;
}

std::vector<Command> PodCommands() {
  std::vector<Command> commands;
  Command create{{"pod", "create"}, "[OPTIONS] NAME", "start a pod: a holder of shared namespaces",
                 "Starts the pod's holder, minipod-init as Kubernetes' pause (/pause in\n"
                 "ps) under its own monitor, in new namespaces. Containers join it with\n"
                 "`run -d --pod NAME`: by default they share its network and IPC\n"
                 "namespaces and keep their own mount, UTS and pid namespaces (the classic\n"
                 "Pod table); cgroup and user namespaces stay the host's, unless --userns\n"
                 "gives the pod a user namespace (the holder's, which every container\n"
                 "joins). --share net,ipc,uts gives today's Kubernetes and podman sharing;\n"
                 "adding pid shares the holder as everyone's PID 1. --memory, --pids and\n"
                 "--cpus limit the pod's cgroup, which the holder's and every container's\n"
                 "cgroups go below: the whole pod shares them, and a container's own\n"
                 "limits hold beneath them.",
                 {{"share", 0, ArgKind::kValue, "TYPES", "namespaces the pod shares: net,ipc (default), pid, uts"},
                  {"publish", 'p', ArgKind::kList, "[IP:]HOSTPORT:PORT[/udp]", "relay a host port into the pod's network"},
                  {"hostname", 0, ArgKind::kValue, "NAME", "the holder's host name (default: the pod's name)"},
                  {"userns", 0, ArgKind::kValue, "auto|host|keep-id",
                   "a user namespace for the pod (root; default host): the holder's, joined by every container"},
                  {"memory", 'm', ArgKind::kValue, "SIZE", "memory limit of the whole pod (e.g. 512m; root)"},
                  {"pids", 0, ArgKind::kValue, "N", "at most N tasks in the whole pod (root)"},
                  {"cpus", 0, ArgKind::kValue, "FRACTION", "CPU time of the whole pod, in CPUs (e.g. 1.5; root)"}},
                 RunPodCreate};
  create.failure_status = sandbox::kExitLauncherFailed;
  commands.push_back(create);
  commands.push_back(Command{{"pod", "ps"}, "[OPTIONS]", "list pods",
                             "Lists the pods: name, id, status, when created, how many containers\n"
                             "(and how many run), the holder's PID (a /pause process in ps), the\n"
                             "namespaces shared, the limits and the published ports.",
                             {{"json", 0, ArgKind::kFlag, "", "a JSON array"}}, RunPodPs});
  commands.push_back(Command{{"pod", "rm"}, "[OPTIONS] NAME...", "remove pods and their containers",
                             "Removes the pod's containers (running ones only with -f), then stops and\n"
                             "removes its holder.",
                             {{"force", 'f', ArgKind::kFlag, "", "kill running containers first"}}, RunPodRm});
  commands.push_back(Command{{"pod", "inspect"}, "[OPTIONS] NAME", "show a pod's namespace table",
                             "Prints the pod and its namespace table: one column for the host, the\n"
                             "holder and each running container, one row per namespace type, each cell\n"
                             "the namespace's inode and whose it is (host, pod, own, shared).",
                             {{"json", 0, ArgKind::kFlag, "", "JSON instead of a table"}}, RunPodInspect});
  return commands;
}

}  // namespace minipod
