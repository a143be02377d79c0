// The commands on containers that live on: ps, logs, exec, stop, kill, rm,
// inspect, wait (and `run -d`, from run_command.cc through RunDetached).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/container_commands.h"
#include "common/absl/status_util.h"
#include "common/signal_set.h"
#include "runtime/attach.h"
#include "runtime/exec.h"
#include "runtime/lifecycle.h"
#include "runtime/log_reader.h"
#include "runtime/monitor.h"
#include "runtime/publish.h"
#include "runtime/state.h"
#include "sandbox/launcher.h"

namespace minipod {
namespace {

using cli::ArgKind;
using json = nlohmann::ordered_json;

absl::Status NeedNames(const cli::ParsedArgs& args, absl::string_view command) {
  if (args.operands().empty()) return absl::InvalidArgumentError(absl::StrCat(command, ": name a container"));
  return absl::OkStatus();
}

// "Up", "exited (3)", "lost": what ps shows.
std::string StatusText(const runtime::ContainerState& s) {
  const std::string status = s.Status();
  if (status == "exited") return absl::StrCat("exited (", s.exit_code, ")");
  return status;
}

json StateJson(const runtime::ContainerState& s) {
  json j = json::parse(runtime::SerializeState(s), nullptr, false);
  j["status"] = s.Status();
  return j;
}

absl::StatusOr<int> RunPs(const cli::ParsedArgs& args) {
  ASSIGN_OR_RETURN(runtime::StateStore store, runtime::StateStore::Open());
  ASSIGN_OR_RETURN(const std::vector<std::string> names, store.List(runtime::Kind::kContainer));
  std::vector<runtime::ContainerState> shown;
  for (const std::string& n : names) {
    absl::StatusOr<runtime::ContainerState> s = store.Load(runtime::Kind::kContainer, n);
    if (!s.ok()) continue;  // removed meanwhile, or being created
    if (!args.Has("all") && s->Status() != "running") continue;
    shown.push_back(*std::move(s));
  }
  if (args.Has("json")) {
    json out = json::array();
    for (const auto& s : shown) {
      out.push_back(json{{"name", s.name},
                         {"id", s.id},
                         {"pod", s.pod},
                         {"status", s.Status()},
                         {"exit_code", s.exit_code},
                         {"pid", s.Status() == "running" ? s.init.pid : 0},
                         {"created", s.created},
                         {"ports", s.ports},
                         {"command", s.command}});
    }
    printf("%s\n", out.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"NAME", "STATUS", "POD", "PID", "CREATED", "PORTS", "COMMAND"}};
  for (const auto& s : shown) {
    rows.push_back({s.name, StatusText(s), s.pod.empty() ? "-" : s.pod,
                    s.Status() == "running" ? absl::StrCat(s.init.pid) : "-", s.created.substr(0, 19),
                    s.ports.empty() ? "-" : absl::StrJoin(s.ports, ","), absl::StrJoin(s.command, " ")});
  }
  PrintTable(rows);
  return 0;
}

absl::StatusOr<int> RunLogs(const cli::ParsedArgs& args) {
  if (args.operands().size() != 1) return absl::InvalidArgumentError("logs: name one container");
  ASSIGN_OR_RETURN(runtime::StateStore store, runtime::StateStore::Open());
  const std::string& name = args.operands()[0];
  ASSIGN_OR_RETURN(const runtime::ContainerState state, store.Load(runtime::Kind::kContainer, name));
  runtime::LogOptions options;
  options.follow = args.Has("follow");
  options.timestamps = args.Has("timestamps");
  if (args.Has("tail")) {
    const std::string t = args.Value("tail");
    uint64_t n = 0;
    if (t != "all" && !absl::SimpleAtoi(t, &n)) {
      return absl::InvalidArgumentError(absl::StrCat("--tail '", t, "': a number of lines, or all"));
    }
    if (t != "all") options.tail = n;
  }
  ASSIGN_OR_RETURN(common::UniqueFd dir, store.Dir(runtime::Kind::kContainer, name));
  ASSIGN_OR_RETURN(common::UniqueFd log, runtime::OpenLogForReading(dir.get(), runtime::kLogFile));
  // -f ends when the monitor does: it writes nothing after that.
  common::UniqueFd monitor;
  if (options.follow) {
    if (absl::StatusOr<common::UniqueFd> m = runtime::OpenProcess(state.monitor); m.ok() && runtime::Alive(state.monitor)) {
      monitor = *std::move(m);
    } else {
      options.follow = false;
    }
  }
  options.stop_fd = monitor.get();
  ASSIGN_OR_RETURN(const runtime::LogSummary summary, runtime::ShowLogs(log.get(), STDOUT_FILENO, STDERR_FILENO, options));
  return summary.output_closed ? 141 : 0;
}

absl::StatusOr<int> RunStop(const cli::ParsedArgs& args) {
  RETURN_IF_ERROR(NeedNames(args, "stop"));
  int timeout = 10;
  if (args.Has("time")) {
    const std::string t = args.Value("time");
    if (!absl::SimpleAtoi(t, &timeout) || timeout < 0) {
      return absl::InvalidArgumentError(absl::StrCat("--time '", t, "': a number of seconds"));
    }
  }
  ASSIGN_OR_RETURN(runtime::StateStore store, runtime::StateStore::Open());
  int status = 0;
  for (const std::string& name : args.operands()) {
    if (absl::Status s = runtime::StopContainer(store, runtime::Kind::kContainer, name, timeout); !s.ok()) {
      fprintf(stderr, "minipod stop: %s\n", std::string(s.message()).c_str());
      status = 1;
    }
  }
  return status;
}

absl::StatusOr<int> RunKill(const cli::ParsedArgs& args) {
  RETURN_IF_ERROR(NeedNames(args, "kill"));
  const std::string sig_text = args.Value("signal", "KILL");
  const int sig = common::ParseSignal(sig_text.c_str());
  if (sig == 0) return absl::InvalidArgumentError(absl::StrCat("--signal '", sig_text, "': not a signal"));
  ASSIGN_OR_RETURN(runtime::StateStore store, runtime::StateStore::Open());
  int status = 0;
  for (const std::string& name : args.operands()) {
    if (absl::Status s = runtime::KillContainer(store, runtime::Kind::kContainer, name, sig); !s.ok()) {
      fprintf(stderr, "minipod kill: %s\n", std::string(s.message()).c_str());
      status = 1;
    }
  }
  return status;
}

absl::StatusOr<int> RunRm(const cli::ParsedArgs& args) {
  RETURN_IF_ERROR(NeedNames(args, "rm"));
  ASSIGN_OR_RETURN(runtime::StateStore store, runtime::StateStore::Open());
  int status = 0;
  for (const std::string& name : args.operands()) {
    if (absl::Status s = runtime::RemoveContainer(store, runtime::Kind::kContainer, name, args.Has("force"));
        !s.ok()) {
      fprintf(stderr, "minipod rm: %s\n", std::string(s.message()).c_str());
      status = 1;
    }
  }
  return status;
}

absl::StatusOr<int> RunWait(const cli::ParsedArgs& args) {
  RETURN_IF_ERROR(NeedNames(args, "wait"));
  ASSIGN_OR_RETURN(runtime::StateStore store, runtime::StateStore::Open());
  int last = 0;
  for (const std::string& name : args.operands()) {
    ASSIGN_OR_RETURN(runtime::ContainerState state, store.Load(runtime::Kind::kContainer, name));
    if (state.Status() == "running" || state.Status() == "created") {
      absl::StatusOr<int> code = runtime::WaitForExit(store, runtime::Kind::kContainer, name);
      if (code.ok()) {
        last = *code;
        printf("%d\n", last);
        continue;
      }
      // Its monitor ended between the two reads: the state has the answer.
      absl::StatusOr<runtime::ContainerState> again = store.Load(runtime::Kind::kContainer, name);
      if (!again.ok()) return code.status();
      state = *std::move(again);
    }
    if (state.Status() == "lost") {
      return absl::FailedPreconditionError(absl::StrCat("container ", name, " was lost (its monitor was killed): no exit status"));
    }
    last = state.exit_code;
    printf("%d\n", last);
  }
  fflush(stdout);
  return last;
}

absl::StatusOr<int> RunInspect(const cli::ParsedArgs& args);

absl::StatusOr<int> RunExec(const cli::ParsedArgs& args) {
  if (args.operands().size() < 2) return absl::InvalidArgumentError("exec: name a container and a command");
  runtime::ExecRequest request;
  const std::string name = args.operands()[0];
  // `exec NAME -- CMD`: options end at NAME; a "--" after it is dropped.
  auto first = args.operands().begin() + 1;
  if (*first == "--") ++first;
  if (first == args.operands().end()) return absl::InvalidArgumentError("exec: name a command after the container");
  request.command.assign(first, args.operands().end());
  request.env = args.Values("env");
  for (const std::string& kv : request.env) {
    if (kv.empty() || kv[0] == '=' || kv.find('=') == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("--env '", kv, "': not K=V"));
    }
  }
  if (args.Has("workdir")) {
    const std::string w = args.Value("workdir");
    if (w.empty() || w[0] != '/') return absl::InvalidArgumentError(absl::StrCat("--workdir '", w, "': not an absolute path"));
    request.workdir = w;
  }
  if (args.Has("user")) {
    const std::string u = args.Value("user");
    const size_t colon = u.find(':');
    uint32_t uid = 0, gid = 0;
    if (!absl::SimpleAtoi(u.substr(0, colon), &uid) ||
        (colon != std::string::npos && !absl::SimpleAtoi(u.substr(colon + 1), &gid))) {
      return absl::InvalidArgumentError(absl::StrCat("--user '", u, "': UID[:GID], numbers"));
    }
    request.uid = uid;
    if (colon != std::string::npos) request.gid = gid;
  }
  request.interactive = args.Has("interactive");
  request.tty = args.Has("tty");
  ASSIGN_OR_RETURN(runtime::StateStore store, runtime::StateStore::Open());
  return runtime::ExecInContainer(store, name, request);
}

absl::StatusOr<int> RunAttach(const cli::ParsedArgs& args) {
  if (args.operands().size() != 1) return absl::InvalidArgumentError("attach: name one container");
  runtime::AttachOptions options;
  options.no_stdin = args.Has("no-stdin");
  ASSIGN_OR_RETURN(runtime::StateStore store, runtime::StateStore::Open());
  return runtime::AttachToContainer(store, args.operands()[0], options);
}

}  // namespace

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      absl::StrAppend(&line, r[i], i + 1 < r.size() ? std::string(width[i] - r[i].size() + 2, ' ') : "");
    }
    printf("%s\n", line.c_str());
  }
}

absl::StatusOr<int> RunDetachedFromArgs(const cli::ParsedArgs& args, sandbox::RunConfig config, std::string root,
                                        const sandbox::JoinedNamespaces& joined) {
  runtime::DetachRequest request;
  request.name = args.Value("name");
  request.pod = args.Value("pod");
  request.joined = joined;
  request.config = std::move(config);
  request.rootfs = std::move(root);
  request.publish = args.Values("publish");
  for (const std::string& p : request.publish) RETURN_IF_ERROR(runtime::ParsePublish(p).status());
  request.auto_remove = args.Has("rm");
  request.interactive = args.Has("interactive");
  request.tty = args.Has("tty");
  for (const auto& [k, v] : args.ordered()) request.args.push_back(absl::StrCat("--", k, "=", v));
  ASSIGN_OR_RETURN(const runtime::DetachResult result, runtime::RunDetached(request));
  if (result.status != 0) {
    if (!result.error.empty()) fprintf(stderr, "minipod run: %s\n", result.error.c_str());
    return result.status;
  }
  printf("%s\n", result.name.c_str());
  return 0;
}

std::vector<Command> ContainerCommands() {
  std::vector<Command> commands;
  commands.push_back(Command{{"ps"}, "[OPTIONS]", "list containers",
                             "Lists the running containers (with -a every one, exited and lost too).",
                             {{"all", 'a', ArgKind::kFlag, "", "every container, not only the running ones"},
                              {"json", 0, ArgKind::kFlag, "", "a JSON array"}},
                             RunPs});
  commands.push_back(Command{{"logs"}, "[OPTIONS] NAME", "print a container's output",
                             "Prints what the container wrote, kept by its monitor in the CRI log\n"
                             "format (TIMESTAMP stdout|stderr F|P line), stdout to stdout and stderr to\n"
                             "stderr. The log outlives the container until `minipod rm`.",
                             {{"follow", 'f', ArgKind::kFlag, "", "keep printing as it grows, until the container ends"},
                              {"tail", 'n', ArgKind::kValue, "N", "only the last N lines (or all)"},
                              {"timestamps", 't', ArgKind::kFlag, "", "each line prefixed with the time it was written"}},
                             RunLogs});
  Command exec{{"exec"}, "[OPTIONS] NAME [--] CMD [ARGS]...", "run a command in a running container",
               "Runs CMD inside the container: every namespace of it, its cgroup, root,\n"
               "capabilities, seccomp filter and no_new_privs, never more privilege\n"
               "than the container has. Exit status as for run.",
               {{"interactive", 'i', ArgKind::kFlag, "", "give the command our stdin (otherwise /dev/null)"},
                {"tty", 't', ArgKind::kFlag, "", "a pseudo-terminal from the container's devpts, relayed to ours"},
                {"user", 'u', ArgKind::kValue, "UID[:GID]", "run as this user (default: the container's)"},
                {"env", 'e', ArgKind::kList, "K=V", "set an environment variable"},
                {"workdir", 'w', ArgKind::kValue, "DIR", "working directory inside (default: the container's)"}},
               RunExec};
  exec.stop_at_operand = true;
  exec.failure_status = sandbox::kExitLauncherFailed;
  commands.push_back(exec);
  commands.push_back(Command{{"attach"}, "[OPTIONS] NAME", "connect to a running container's terminal or output",
                             "Relays our input to the container (its pty with run -t, its stdin with\n"
                             "-i) and its output to us, our terminal in raw mode and its size passed on\n"
                             "when the container has a tty. Ctrl-P Ctrl-Q detaches, leaving it running\n"
                             "(exit 0); when the container ends, its exit status is ours.",
                             {{"no-stdin", 0, ArgKind::kFlag, "", "only watch: send none of our input"}},
                             RunAttach});
  commands.push_back(Command{{"stop"}, "[OPTIONS] NAME...", "stop containers",
                             "Sends SIGTERM to each container, SIGKILL after the grace period, and\n"
                             "returns once its monitor has cleaned up.",
                             {{"time", 't', ArgKind::kValue, "SECONDS", "grace period before SIGKILL (default 10)"}},
                             RunStop});
  commands.push_back(Command{{"kill"}, "[OPTIONS] NAME...", "send a signal to containers",
                             "Sends a signal (default SIGKILL) to each container's first process.",
                             {{"signal", 's', ArgKind::kValue, "SIG", "the signal: a name (TERM, SIGHUP) or number"}},
                             RunKill});
  commands.push_back(Command{{"rm"}, "[OPTIONS] NAME...", "remove containers",
                             "Removes stopped containers (state and log); -f kills a running one first.",
                             {{"force", 'f', ArgKind::kFlag, "", "kill the container at once if it runs"}},
                             RunRm});
  commands.push_back(Command{{"inspect"}, "[OPTIONS] NAME...", "show containers' configuration and state",
                             "Prints a JSON array: configuration, state, pids, namespaces, cgroup and\n"
                             "mounts of each container.",
                             {{"namespaces", 0, ArgKind::kFlag, "", "the namespace table of the containers instead"},
                              {"json", 0, ArgKind::kFlag, "", "with --namespaces: JSON instead of a table"}},
                             RunInspect});
  commands.push_back(Command{{"wait"}, "NAME...", "wait for containers to end",
                             "Waits until each container ends, prints its exit status, and exits with\n"
                             "the last one's.",
                             {},
                             RunWait});
  return commands;
}

namespace {

absl::StatusOr<int> RunInspect(const cli::ParsedArgs& args) {
  RETURN_IF_ERROR(NeedNames(args, "inspect"));
  ASSIGN_OR_RETURN(runtime::StateStore store, runtime::StateStore::Open());
  if (args.Has("namespaces")) return InspectNamespaces(store, args.operands(), args.Has("json"));
  json out = json::array();
  for (const std::string& name : args.operands()) {
    ASSIGN_OR_RETURN(const runtime::ContainerState state, store.Load(runtime::Kind::kContainer, name));
    json j = StateJson(state);
    j["state_dir"] = store.PathOf(runtime::Kind::kContainer, name);
    if (state.Status() == "running") {
      // The mounts as the container sees them.
      json mounts = json::array();
      if (absl::StatusOr<common::UniqueFd> pidfd = runtime::OpenProcess(state.init); pidfd.ok()) {
        FILE* f = fopen(absl::StrCat("/proc/", state.init.pid, "/mounts").c_str(), "re");
        if (f != nullptr) {
          char line[4096];
          while (fgets(line, sizeof line, f) != nullptr) {
            char dev[1024], dir[1024], type[64];
            if (sscanf(line, "%1023s %1023s %63s", dev, dir, type) == 3) {
              mounts.push_back(json{{"source", dev}, {"target", dir}, {"type", type}});
            }
          }
          fclose(f);
        }
      }
      j["mounts"] = mounts;
    }
    out.push_back(j);
  }
  printf("%s\n", out.dump(2, ' ', false, json::error_handler_t::replace).c_str());
  return 0;
}

}  // namespace

}  // namespace minipod
