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
#include "common/absl/status_util.h"
#include "rootfs/archive_writer.h"
#include "rootfs/build_plan.h"
#include "rootfs/closure.h"
#include "rootfs/manifest.h"
#include "rootfs/modules.h"
#include "rootfs/nss.h"
#include "rootfs/oci_writer.h"
#include "rootfs/staging.h"
#include "rootfs/strip.h"
#include "rootfs/tree_writer.h"
#include "cli/commands.h"
#include "common/absl/self_path.h"

namespace minipod {
namespace {

using cli::ArgKind;

absl::StatusOr<int64_t> SourceDateEpoch() {
  const char* s = ::getenv("SOURCE_DATE_EPOCH");
  if (s == nullptr || *s == '\0') return 0;
  int64_t v = 0;
  if (!absl::SimpleAtoi(s, &v) || v < 0) {
    return absl::InvalidArgumentError(absl::StrCat("SOURCE_DATE_EPOCH='", s, "' is not a time"));
  }
  return v;
}

double SecondsSince(const struct timespec& start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec - start.tv_sec) +
         static_cast<double>(now.tv_nsec - start.tv_nsec) / 1e9;
}

absl::StatusOr<int> RunBuild(const cli::ParsedArgs& args) {
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  const std::string out = args.Value("output");
  if (out.empty()) return absl::InvalidArgumentError("missing -o OUT");
  if (args.operands().empty() && args.Values("add").empty() && !args.Has("init") &&
      args.Values("module").empty() && !args.Has("nss")) {
    return absl::InvalidArgumentError("nothing to put in the image: give BIN, --add, --init, --nss or --module");
  }
  ASSIGN_OR_RETURN(const rootfs::OutputSpec spec,
                   rootfs::ChooseOutput(out, args.Value("format"), args.Value("compress")));
  ASSIGN_OR_RETURN(const int64_t epoch, SourceDateEpoch());

  rootfs::Manifest manifest;
  ASSIGN_OR_RETURN(rootfs::Staging staging, rootfs::Staging::Create());
  rootfs::ClosureOptions copts;
  copts.allow_missing = args.Has("allow-missing");
  rootfs::Resolver resolver(copts);
  std::string first_elf;  // sets the ELF class and machine of --nss modules
  for (const std::string& bin : args.operands()) {
    ASSIGN_OR_RETURN(const rootfs::Closure closure, resolver.Resolve(bin));
    for (const std::string& w : closure.warnings) fprintf(stderr, "minipod rootfs build: warning: %s\n", w.c_str());
    for (const std::string& path : closure.files) {
      RETURN_IF_ERROR(common::Annotate(manifest.AddHostPath(path).status(), bin));
    }
    for (const rootfs::Dependency& d : closure.tree) {
      if (first_elf.empty() && d.rule == rootfs::Rule::kInterp) first_elf = d.needed_by;
    }
  }
  for (const std::string& a : args.Values("add")) {
    ASSIGN_OR_RETURN(const rootfs::AddSpec add, rootfs::ParseAddSpec(a));
    RETURN_IF_ERROR(common::Annotate(rootfs::AddHostTree(manifest, add.source, add.dest),
                                     absl::StrCat("--add ", a)));
  }
  if (args.Has("nss")) {
    // Without a dynamic binary to go by, the modules are the host's own kind.
    if (first_elf.empty()) first_elf = "/bin/sh";
    std::vector<std::string> warnings;
    RETURN_IF_ERROR(rootfs::AddNss(manifest, staging, resolver, first_elf, &warnings));
    for (const std::string& w : warnings) fprintf(stderr, "minipod rootfs build: warning: %s\n", w.c_str());
  }
  if (args.Has("init")) {
    ASSIGN_OR_RETURN(const std::string init, FindInit("--init"));
    RETURN_IF_ERROR(rootfs::AddInitSkeleton(manifest, init));
  }
  if (!args.Values("module").empty()) {
    rootfs::ModuleOptions mopts;
    mopts.kernel_release = args.Value("kernel-release");
    if (args.Has("kernel-dir")) {
      // dracut's --kerneldir: the directory holding modules.dep.
      std::string dir = args.Value("kernel-dir");
      while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
      const size_t slash = dir.rfind('/');
      if (slash == std::string::npos || slash + 1 == dir.size()) {
        return absl::InvalidArgumentError(absl::StrCat("--kernel-dir '", dir, "' must name /PATH/RELEASE"));
      }
      if (!mopts.kernel_release.empty() && mopts.kernel_release != dir.substr(slash + 1)) {
        return absl::InvalidArgumentError(absl::StrCat("--kernel-dir ", dir, " is not for --kernel-release ",
                                                       mopts.kernel_release));
      }
      mopts.modules_root = slash == 0 ? "/" : dir.substr(0, slash);
      mopts.kernel_release = dir.substr(slash + 1);
    }
    ASSIGN_OR_RETURN(const rootfs::ModulePlan plan,
                     rootfs::AddKernelModules(manifest, staging, args.Values("module"), mopts));
    for (const std::string& note : plan.notes) fprintf(stderr, "minipod rootfs build: note: %s\n", note.c_str());
  } else if (args.Has("kernel-release") || args.Has("kernel-dir")) {
    return absl::InvalidArgumentError("--kernel-release and --kernel-dir only apply with --module");
  }
  if (args.Has("strip")) {
    RETURN_IF_ERROR(rootfs::StripElfFiles(manifest, staging).status());
  }

  const bool force = args.Has("force");
  absl::StatusOr<rootfs::TreeStats> stats;
  switch (spec.kind) {
    case rootfs::OutputSpec::Kind::kDir:
      stats = rootfs::WriteTree(manifest, out, force);
      break;
    case rootfs::OutputSpec::Kind::kCpio:
    case rootfs::OutputSpec::Kind::kTar: {
      rootfs::ArchiveOptions o;
      o.format = spec.kind == rootfs::OutputSpec::Kind::kCpio ? rootfs::ArchiveFormat::kCpio
                                                              : rootfs::ArchiveFormat::kTar;
      o.compression = spec.compression;
      o.mtime = epoch;
      o.replace = force;
      stats = rootfs::WriteArchive(manifest, out, o);
      break;
    }
    case rootfs::OutputSpec::Kind::kOci: {
      rootfs::OciOptions o;
      if (args.Has("init")) o.entrypoint = {"/sbin/init"};
      o.created = epoch;
      o.as_tar = out.size() > 4 && out.compare(out.size() - 4, 4, ".tar") == 0;
      o.replace = force;
      stats = rootfs::WriteOci(manifest, out, o);
      break;
    }
  }
  if (!stats.ok()) return stats.status();
  printf("%s: %zu files, %zu entries, %zu bytes in %.2fs\n", out.c_str(), stats->files,
         manifest.entries().size(), stats->bytes, SecondsSince(start));
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

void PrintJson(const std::string& binary, const rootfs::Closure& closure, bool last) {
  printf("  {\"binary\": %s, \"objects\": [\n", rootfs::JsonString(binary).c_str());
  for (size_t i = 0; i < closure.tree.size(); ++i) {
    const rootfs::Dependency& d = closure.tree[i];
    printf("    {\"name\": %s, \"path\": %s, \"rule\": %s, \"needed_by\": %s, \"depth\": %d}%s\n",
           rootfs::JsonString(d.name).c_str(),
           d.path.empty() ? "null" : rootfs::JsonString(d.path).c_str(),
           rootfs::JsonString(rootfs::RuleName(d.rule)).c_str(),
           d.needed_by.empty() ? "null" : rootfs::JsonString(d.needed_by).c_str(), d.depth,
           i + 1 < closure.tree.size() ? "," : "");
  }
  printf("  ], \"warnings\": [");
  for (size_t i = 0; i < closure.warnings.size(); ++i) {
    printf("%s%s", i ? ", " : "", rootfs::JsonString(closure.warnings[i]).c_str());
  }
  printf("]}%s\n", last ? "" : ",");
}

absl::StatusOr<int> RunDeps(const cli::ParsedArgs& args) {
  if (args.operands().empty()) return absl::InvalidArgumentError("missing BIN");
  rootfs::ClosureOptions copts;
  copts.allow_missing = args.Has("allow-missing");
  rootfs::Resolver resolver(copts);
  // Resolve everything first: an error prints one line, not half a tree.
  std::vector<rootfs::Closure> closures;
  for (const std::string& bin : args.operands()) {
    ASSIGN_OR_RETURN(rootfs::Closure closure, resolver.Resolve(bin));
    closures.push_back(std::move(closure));
  }
  const bool json = args.Has("json");
  if (json) printf("[\n");
  for (size_t i = 0; i < closures.size(); ++i) {
    if (json) {
      PrintJson(args.operands()[i], closures[i], i + 1 == closures.size());
    } else {
      for (const std::string& w : closures[i].warnings) fprintf(stderr, "minipod rootfs deps: warning: %s\n", w.c_str());
      PrintTree(closures[i]);
    }
  }
  if (json) printf("]\n");
  return 0;
}

}  // namespace

std::vector<Command> RootfsCommands() {
  std::vector<Command> commands;
  commands.push_back(Command{
      {"rootfs", "build"},
      "-o OUT [OPTIONS] [BIN...]",
      "bundle binaries and their libraries into a directory, cpio, tar or OCI image",
      "Copies each BIN (looked up in PATH when it has no slash) with everything\n"
      "the dynamic loader would load for it, preserving symlink chains, into OUT.\n"
      "The format follows OUT's suffix (.cpio, .cpio.gz, .tar, .tar.zst, ...),\n"
      "a directory otherwise. Archives are reproducible: sorted entries, owner\n"
      "0:0, mtime from SOURCE_DATE_EPOCH (default 0).",
      {
          {"output", 'o', ArgKind::kValue, "OUT", "the image to write"},
          {"format", 0, ArgKind::kValue, "FMT", "dir, cpio, tar or oci (default: from OUT)"},
          {"compress", 0, ArgKind::kValue, "ALGO", "none, gzip, zstd or xz (default: from OUT)"},
          {"add", 0, ArgKind::kList, "SRC[:DST]", "copy a file or tree into the image"},
          {"init", 0, ArgKind::kFlag, "", "minipod-init as /init and /sbin/init, plus /dev/console, /proc, /sys, /tmp, /run"},
          {"nss", 0, ArgKind::kFlag, "", "NSS modules and /etc files so id, whoami and getent work"},
          {"module", 'm', ArgKind::kList, "NAME", "a kernel module (or alias) with its modules.dep closure"},
          {"kernel-release", 0, ArgKind::kValue, "R", "modules from /lib/modules/R (default: the running kernel)"},
          {"kernel-dir", 0, ArgKind::kValue, "DIR", "modules from DIR instead (holds modules.dep; its name is R)"},
          {"strip", 0, ArgKind::kFlag, "", "store stripped copies of ELF files"},
          {"allow-missing", 0, ArgKind::kFlag, "", "warn about a missing library instead of failing"},
          {"force", 'f', ArgKind::kFlag, "", "replace OUT if it exists (atomically)"},
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
      "hwcaps, interpreter, #!).",
      {
          {"json", 0, ArgKind::kFlag, "", "one JSON array: per binary, its objects in load order"},
          {"allow-missing", 0, ArgKind::kFlag, "", "show a missing library instead of failing"},
      },
      RunDeps,
  });
  return commands;
}

}  // namespace minipod
