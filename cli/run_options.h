// `minipod run`'s options: the table (shared by parsing and --help) and
// the checks that turn a parsed command line into a sandbox::RunConfig.
// Pure (no system calls), so every rule is unit-tested and fuzzed; whether
// paths exist is the launcher's business.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cli/args.h"
#include "sandbox/run_config.h"

namespace minipod::cli {

// The options table of `minipod run`, shared by the command and its help.
const std::vector<OptionSpec>& RunOptions();

// Checks every value: paths inside the sandbox absolute and clean (no "..",
// no NUL; binds must not cover "/" or the special mounts /proc, /dev, /sys
// themselves); host paths (--rootfs, --upper, a bind's SRC, a --bundle BIN
// with a '/') made absolute against cwd, the caller's working directory
// (absolute), when relative; K=V environment entries, numeric ids, the
// namespace choices (--net/--ipc/--pid/--uts: new, host, container:NAME
// with a Docker-style name, ns:PATH made absolute like the host paths; none
// for --net is new), --hostname only with a new uts namespace, --init and
// --no-init (a pid namespace not new implies --no-init unless --init), a
// status fd >= 3, exactly one of --rootfs and --bundle, --upper only without
// --read-only, a command. Errors name the option and the value.
absl::StatusOr<sandbox::RunConfig> ParseRunConfig(const ParsedArgs& args, absl::string_view cwd);


}  // namespace minipod::cli
