// `minipod rootfs build` and `minipod rootfs deps`.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/build_env.h"
#include "cli/commands.h"
#include "common/absl/self_path.h"
#include "common/absl/status_util.h"
#include "rootfs/build.h"
#include "rootfs/closure.h"
#include "rootfs/json.h"

namespace minipod {
namespace {

using cli::ArgKind;

absl::StatusOr<int> RunBuild(const cli::ParsedArgs& args) {
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  rootfs::BuildConfig c;
  c.output = args.Value("output");
  c.format = args.Value("format");
  c.compress = args.Value("compress");
  c.binaries = args.operands();
  c.adds = args.Values("add");
  if (args.Has("init")) {
    ASSIGN_OR_RETURN(c.init_path, FindInit("--init"));
  }
  c.nss = args.Has("nss");
  c.modules = args.Values("module");
  c.kernel_release = args.Value("kernel-release");
  c.kernel_dir = args.Value("kernel-dir");
  c.strip = args.Has("strip");
  c.allow_missing = args.Has("allow-missing");
  c.force = args.Has("force");
  ASSIGN_OR_RETURN(c.epoch, SourceDateEpoch());
  c.report = [](absl::string_view line) {
    fprintf(stderr, "minipod rootfs build: %.*s\n", static_cast<int>(line.size()), line.data());
  };
  ASSIGN_OR_RETURN(const rootfs::BuildResult r, rootfs::Build(c));
  printf("%s: %zu files, %zu entries, %zu bytes in %.2fs\n", c.output.c_str(), r.stats.files, r.entries,
         r.stats.bytes, SecondsSince(start));
  return 0;
}

// lddtree's layout: each object under the one that loaded it first, with
// the rule that found it.
void PrintTree(const rootfs::Closure& closure) {
  absl::flat_hash_map<std::string, std::vector<const rootfs::Dependency*>> children;
  for (const rootfs::Dependency& d : closure.tree) {
    if (d.depth > 0) children[d.needed_by].push_back(&d);
  }
  absl::flat_hash_set<std::string> printed;
  std::function<void(const rootfs::Dependency&, int)> print = [&](const rootfs::Dependency& d, int indent) {
    const std::string pad(static_cast<size_t>(indent) * 4, ' ');
    if (d.rule == rootfs::Rule::kMissing) {
      printf("%s%s => not found\n", pad.c_str(), d.name.c_str());
    } else if (d.name == d.path) {
      printf("%s%s [%s]\n", pad.c_str(), d.path.c_str(), rootfs::RuleName(d.rule));
    } else {
      printf("%s%s => %s [%s]\n", pad.c_str(), d.name.c_str(), d.path.c_str(), rootfs::RuleName(d.rule));
    }
    if (d.path.empty() || d.rule == rootfs::Rule::kHwcaps || !printed.insert(d.path).second) return;
    auto it = children.find(d.path);
    if (it == children.end()) return;
    for (const rootfs::Dependency* c : it->second) print(*c, indent + 1);
  };
  for (const rootfs::Dependency& d : closure.tree) {
    if (d.depth == 0) print(d, 0);
  }
}

// One binary's entry of `deps --json`; names that are not UTF-8 become
// {"base64": ...} (rootfs/json.h).
nlohmann::ordered_json ClosureJson(const std::string& binary, const rootfs::Closure& closure) {
  nlohmann::ordered_json objects = nlohmann::ordered_json::array();
  for (const rootfs::Dependency& d : closure.tree) {
    objects.push_back(nlohmann::ordered_json{
        {"name", rootfs::BytesToJson(d.name)},
        {"path", d.path.empty() ? nlohmann::ordered_json(nullptr) : rootfs::BytesToJson(d.path)},
        {"rule", rootfs::RuleName(d.rule)},
        {"needed_by", d.needed_by.empty() ? nlohmann::ordered_json(nullptr) : rootfs::BytesToJson(d.needed_by)},
        {"depth", d.depth}});
  }
  nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
  for (const std::string& w : closure.warnings) warnings.push_back(rootfs::BytesToJson(w));
  return nlohmann::ordered_json{
      {"binary", rootfs::BytesToJson(binary)}, {"objects", objects}, {"warnings", warnings}};
}

absl::StatusOr<int> RunDeps(const cli::ParsedArgs& args) {
  if (args.operands().empty()) return absl::InvalidArgumentError("missing BIN");
  rootfs::ClosureOptions copts;
  copts.allow_missing = args.Has("allow-missing");
  rootfs::Resolver resolver(copts);
  // Resolve everything first: an error prints one line, not half a tree.
  std::vector<rootfs::Closure> closures;
  for (const std::string& bin : args.operands()) {
    // A path relative to the working directory, as `rootfs build` takes it.
    std::string path = bin;
    if (bin.find('/') != std::string::npos) {
      ASSIGN_OR_RETURN(path, rootfs::AbsoluteFromCwd(bin));
    }
    ASSIGN_OR_RETURN(rootfs::Closure closure, resolver.Resolve(path));
    closures.push_back(std::move(closure));
  }
  if (args.Has("json")) {
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (size_t i = 0; i < closures.size(); ++i) all.push_back(ClosureJson(args.operands()[i], closures[i]));
    // Every string is valid UTF-8 by construction: strict can never throw.
    printf("%s\n", all.dump(2, ' ', /*ensure_ascii=*/false, nlohmann::ordered_json::error_handler_t::strict).c_str());
    return 0;
  }
  for (const rootfs::Closure& closure : closures) {
    for (const std::string& w : closure.warnings) fprintf(stderr, "minipod rootfs deps: warning: %s\n", w.c_str());
    PrintTree(closure);
  }
  return 0;
}

}  // namespace

std::vector<Command> RootfsCommands() {
  std::vector<Command> commands;
  commands.push_back(Command{
      {"rootfs", "build"},
      "-o OUT [OPTIONS] [BIN...]",
      "bundle binaries and their libraries into a directory, cpio, tar or OCI image",
      "Copies each BIN (looked up in PATH when it has no slash; relative paths\n"
      "are from the working directory, as OUT and --add SRC are) with everything\n"
      "the dynamic loader would load for it, preserving symlink chains, into OUT.\n"
      "The format follows OUT's suffix (.cpio, .cpio.gz, .tar, .tar.zst, ...),\n"
      "a directory otherwise; --format oci with OUT ending in .tar writes the OCI\n"
      "layout as a tar. Archives are reproducible: sorted entries, owner 0:0,\n"
      "mtime from SOURCE_DATE_EPOCH (default 0). --add's DST follows the image's\n"
      "own symlinks (/bin/x becomes /usr/bin/x when /bin -> usr/bin); write a ':'\n"
      "in SRC as '\\:' and a backslash before one as '\\\\'. --force refuses an old\n"
      "OUT with a mount point inside. Exit status: 0, 1 on failure, 2 on a usage\n"
      "error.",
      {
          {"output", 'o', ArgKind::kValue, "OUT", "the image to write"},
          {"format", 0, ArgKind::kValue, "FMT", "dir, cpio, tar or oci (default: from OUT)"},
          {"compress", 0, ArgKind::kValue, "ALGO", "none, gzip, zstd or xz (default: from OUT)"},
          kAddOption,
          {"init", 0, ArgKind::kFlag, "", "minipod-init as /init and /sbin/init, plus /dev/console, /proc, /sys, /tmp, /run"},
          kNssOption,
          kModuleOption,
          {"kernel-release", 0, ArgKind::kValue, "R", "modules from /lib/modules/R (default: the running kernel)"},
          {"kernel-dir", 0, ArgKind::kValue, "DIR", "modules from DIR instead (holds modules.dep; its name is R)"},
          kStripOption,
          kAllowMissingOption,
          {"force", 'f', ArgKind::kFlag, "", "replace OUT if it exists (atomically; never through a mount)"},
      },
      RunBuild,
  });
  commands.push_back(Command{
      {"rootfs", "deps"},
      "[--json] BIN...",
      "show what the dynamic loader would load for each binary, and why",
      "Prints each BIN's dependency tree as glibc's ld.so would resolve it,\n"
      "without running anything: every library with the path it resolves to\n"
      "and the rule that found it (RPATH, RUNPATH, ld.so.conf, default dir,\n"
      "hwcaps, interpreter, #!). With --json, a name that is not valid UTF-8\n"
      "is written as {\"base64\": \"...\"} holding its bytes.",
      {
          {"json", 0, ArgKind::kFlag, "", "one JSON array: per binary, its objects in load order"},
          {"allow-missing", 0, ArgKind::kFlag, "", "show a missing library instead of failing"},
      },
      RunDeps,
  });
  return commands;
}

}  // namespace minipod
