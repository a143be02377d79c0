// `minipod rootfs build` as a library function: collects the manifest from
// the config, then hands it to the tree, archive or OCI writer.
#include "rootfs/build.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

namespace rootfs {
namespace {

void Report(const BuildConfig& c, absl::string_view kind, absl::string_view text) {
  if (c.report) c.report(absl::StrCat(kind, ": ", text));
}

absl::Status AddModules(const BuildConfig& c, Manifest& manifest, Staging& staging) {
  if (c.modules.empty()) {
    if (!c.kernel_release.empty() || !c.kernel_dir.empty()) {
      return absl::InvalidArgumentError("--kernel-release and --kernel-dir only apply with --module");
    }
    return absl::OkStatus();
  }
  ModuleOptions mopts;
  mopts.kernel_release = c.kernel_release;
  if (!c.kernel_dir.empty()) {
    // dracut's --kerneldir: the directory holding modules.dep.
    ASSIGN_OR_RETURN(std::string dir, AbsoluteFromCwd(c.kernel_dir));
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    const size_t slash = dir.rfind('/');
    if (slash == std::string::npos || slash + 1 == dir.size()) {
      return absl::InvalidArgumentError(absl::StrCat("--kernel-dir '", dir, "' must name /PATH/RELEASE"));
    }
    if (!mopts.kernel_release.empty() && mopts.kernel_release != dir.substr(slash + 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--kernel-dir ", dir, " is not for --kernel-release ", mopts.kernel_release));
    }
    mopts.modules_root = slash == 0 ? "/" : dir.substr(0, slash);
    mopts.kernel_release = dir.substr(slash + 1);
  }
  ASSIGN_OR_RETURN(const ModulePlan plan, AddKernelModules(manifest, staging, c.modules, mopts));
  for (const std::string& note : plan.notes) Report(c, "note", note);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> AbsoluteFromCwd(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return common::ErrnoStatus(errno, "getcwd()");
  std::string rel = path;
  while (absl::StartsWith(rel, "./")) rel.erase(0, 2);
  if (rel.empty() || rel == ".") return std::string(cwd);
  return absl::StrCat(cwd, std::string(cwd) == "/" ? "" : "/", rel);
}

absl::StatusOr<BuildResult> Build(const BuildConfig& c) {
  if (c.output.empty()) return absl::InvalidArgumentError("missing -o OUT");
  if (c.binaries.empty() && c.adds.empty() && c.init_path.empty() && c.modules.empty() && !c.nss &&
      c.placed.empty() && c.generated.empty()) {
    return absl::InvalidArgumentError("nothing to put in the image: give BIN, --add, --init, --nss or --module");
  }
  ASSIGN_OR_RETURN(const OutputSpec spec, ChooseOutput(c.output, c.format, c.compress));
  ASSIGN_OR_RETURN(const std::string out, AbsoluteFromCwd(c.output));

  Manifest manifest;
  ASSIGN_OR_RETURN(Staging staging, Staging::Create());
  ClosureOptions copts;
  copts.allow_missing = c.allow_missing;
  Resolver resolver(copts);
  std::string first_elf;  // sets the ELF class and machine of --nss modules
  for (const std::string& given : c.binaries) {
    std::string bin = given;
    if (absl::StrContains(given, '/')) {
      ASSIGN_OR_RETURN(bin, AbsoluteFromCwd(given));
    }
    absl::StatusOr<Closure> closure = resolver.Resolve(bin);
    if (!closure.ok()) {
      // Name the BIN as the user wrote it.
      if (bin != given && absl::StartsWith(closure.status().message(), bin)) {
        return absl::Status(closure.status().code(),
                            absl::StrCat(given, closure.status().message().substr(bin.size())));
      }
      return closure.status();
    }
    for (const std::string& w : closure->warnings) Report(c, "warning", w);
    for (const std::string& path : closure->files) {
      RETURN_IF_ERROR(common::Annotate(manifest.AddHostPath(path).status(), given));
    }
    for (const Dependency& d : closure->tree) {
      if (first_elf.empty() && d.rule == Rule::kInterp) first_elf = d.needed_by;
    }
  }
  for (const BuildConfig::Placed& p : c.placed) {
    ASSIGN_OR_RETURN(const Closure closure, resolver.Resolve(p.source));
    for (const std::string& w : closure.warnings) Report(c, "warning", w);
    // The file itself goes to dest; what the loader needs for it stays at
    // the host's paths.
    for (const Dependency& d : closure.tree) {
      if (d.depth == 0 || d.path.empty()) continue;
      RETURN_IF_ERROR(common::Annotate(manifest.AddHostPath(d.path).status(), p.source));
    }
    ASSIGN_OR_RETURN(const std::string dest, ResolveInImage(manifest, p.dest));
    RETURN_IF_ERROR(manifest.AddFile(dest, p.source, p.mode));
  }
  for (const std::string& a : c.adds) {
    ASSIGN_OR_RETURN(AddSpec add, ParseAddSpec(a));
    ASSIGN_OR_RETURN(add.source, AbsoluteFromCwd(add.source));
    ASSIGN_OR_RETURN(const std::string dest, ResolveInImage(manifest, add.dest));
    RETURN_IF_ERROR(common::Annotate(AddHostTree(manifest, add.source, dest), absl::StrCat("--add ", a)));
  }
  if (c.nss) {
    // Without a dynamic binary to go by, the modules are the host's own kind.
    if (first_elf.empty()) first_elf = "/bin/sh";
    std::vector<std::string> warnings;
    RETURN_IF_ERROR(AddNss(manifest, staging, resolver, first_elf, &warnings));
    for (const std::string& w : warnings) Report(c, "warning", w);
  }
  if (!c.init_path.empty()) RETURN_IF_ERROR(AddInitSkeleton(manifest, c.init_path));
  for (const BuildConfig::Generated& g : c.generated) {
    ASSIGN_OR_RETURN(const std::string dest, ResolveInImage(manifest, g.dest));
    if (g.fallback && manifest.Contains(dest)) continue;
    ASSIGN_OR_RETURN(const std::string staged, staging.WriteFile(dest.substr(dest.rfind('/') + 1), g.data, g.mode));
    RETURN_IF_ERROR(manifest.AddFile(dest, staged, g.mode));
  }
  RETURN_IF_ERROR(AddModules(c, manifest, staging));
  if (c.strip) {
    RETURN_IF_ERROR(StripElfFiles(manifest, staging).status());
  } else {
    std::vector<std::string> strip;
    for (const BuildConfig::Placed& p : c.placed) {
      if (p.strip) strip.push_back(ResolveInImage(manifest, p.dest).value_or(p.dest));
    }
    if (!strip.empty()) RETURN_IF_ERROR(StripElfFiles(manifest, staging, strip).status());
  }

  BuildResult result;
  result.entries = manifest.entries().size();
  switch (spec.kind) {
    case OutputSpec::Kind::kDir: {
      ASSIGN_OR_RETURN(result.stats, WriteTree(manifest, out, c.force));
      break;
    }
    case OutputSpec::Kind::kCpio:
    case OutputSpec::Kind::kTar: {
      ArchiveOptions o;
      o.format = spec.kind == OutputSpec::Kind::kCpio ? ArchiveFormat::kCpio : ArchiveFormat::kTar;
      o.compression = spec.compression;
      o.mtime = c.epoch;
      o.replace = c.force;
      ASSIGN_OR_RETURN(result.stats, WriteArchive(manifest, out, o));
      break;
    }
    case OutputSpec::Kind::kOci: {
      OciOptions o;
      if (!c.init_path.empty()) o.entrypoint = {"/sbin/init"};
      o.created = c.epoch;
      o.as_tar = spec.oci_tar;
      o.replace = c.force;
      ASSIGN_OR_RETURN(result.stats, WriteOci(manifest, out, o));
      break;
    }
  }
  return result;
}

}  // namespace rootfs
