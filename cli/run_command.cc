// `minipod run`: the command-table entry and the hand-over to the
// launcher (--bundle's cached root file systems come from rootfs/).
#include <limits.h>
#include <unistd.h>

#include <optional>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/container_commands.h"
#include "cli/run_options.h"
#include "common/absl/status_util.h"
#include "rootfs/bundle_cache.h"
#include "runtime/pods.h"
#include "runtime/state.h"
#include "runtime/pty.h"
#include "sandbox/launcher.h"
#include "sandbox/run_config.h"

namespace minipod {
namespace {

absl::StatusOr<int> RunRun(const cli::ParsedArgs& args) {
  // Relative paths on the command line are the caller's working directory's.
  char cwd[PATH_MAX] = "";
  if (::getcwd(cwd, sizeof cwd) == nullptr) cwd[0] = '\0';
  ASSIGN_OR_RETURN(sandbox::RunConfig config, cli::ParseRunConfig(args, cwd));
  if (!args.Has("detach")) {
    for (const char* o : {"name", "rm", "publish"}) {
      if (args.Has(o)) return absl::InvalidArgumentError(absl::StrCat("--", o, " needs -d (a container that lives on)"));
    }
  }
  // container:NAME and --pod: pidfds of the recorded processes, held until
  // the sandbox has joined them.
  const std::string pod = args.Value("pod");
  runtime::ResolvedJoins joins;
  bool joins_containers = !pod.empty();
  for (const sandbox::NsChoice* c : {&config.net, &config.ipc, &config.pid, &config.uts}) {
    joins_containers = joins_containers || c->kind == sandbox::NsChoice::Kind::kContainer;
  }
  if (joins_containers) {
    ASSIGN_OR_RETURN(const runtime::StateStore store, runtime::StateStore::Open());
    ASSIGN_OR_RETURN(joins, runtime::ResolveJoins(store, pod, args.Has("init"), &config));
  }
  std::string root = config.rootfs;
  if (!config.bundle.empty()) {
    ASSIGN_OR_RETURN(root, rootfs::BundleRootfs(config.bundle));
  }
  // -t: our stdin and stdout are the terminal's other end (our input only
  // with -i); its destructor puts our terminal back on every way out.
  if (args.Has("detach")) return RunDetachedFromArgs(args, config, root, joins.fds);
  std::optional<runtime::ForegroundTerminal> tty;
  if (config.tty) tty.emplace(STDIN_FILENO, STDOUT_FILENO, config.interactive);
  return sandbox::RunSandbox(config, root, joins.fds, tty.has_value() ? &*tty : nullptr);
}

}  // namespace

std::vector<Command> RunCommands() {
  Command run{
      {"run"},
      "[OPTIONS] [--] CMD [ARGS]...",
      "run a command isolated in a root file system (namespaces, cgroups, seccomp)",
      "Runs CMD in new mount, pid, ipc, uts, net and cgroup namespaces, in the\n"
      "root file system DIR (or one built from --bundle binaries, cached), with\n"
      "a writable overlay thrown away at exit (read-only with --read-only),\n"
      "every mount target resolved inside that root, nodev mounts, /proc with\n"
      "Docker's masks, a minimal /dev, Docker's default capabilities, no new\n"
      "privileges and a default seccomp filter; minipod-init is its PID 1.\n"
      "Without root it runs in a user namespace (your uid is 0 inside): its own,\n"
      "or, when it joins namespaces (container:NAME, ns:PATH, --pod), the one\n"
      "that owns them, which must be one you made.\n"
      "Without -t the command reads our stdin, as any filter in a pipe (-i is\n"
      "then implied); -t gives it a pseudo-terminal of its own, and -it relays\n"
      "our input to it, as `docker run -it` does.\n"
      "Exit status: the command's, 128+N for signal N, 125 when minipod run\n"
      "itself failed, 126 when CMD cannot be executed, 127 when not found.",
      cli::RunOptions(),
      RunRun,
  };
  run.stop_at_operand = true;
  run.failure_status = sandbox::kExitLauncherFailed;
  return {run};
}

}  // namespace minipod
