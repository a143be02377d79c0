// What a binary needs at run time, found as glibc's ld.so would find it,
// without running anything: the program interpreter, every DT_NEEDED
// library searched through DT_RPATH, DT_RUNPATH, ld.so.conf and the
// default directories (with every glibc-hwcaps variant), and for #!
// scripts the interpreter's own closure.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rootfs/elf.h"

namespace rootfs {

// Why a library was found where it was.
enum class Rule { kGiven, kInterp, kDirect, kRpath, kRunpath, kLdSoConf, kDefault, kHwcaps, kShebang, kMissing };
const char* RuleName(Rule rule);

struct Dependency {
  std::string name;       // as asked for: the DT_NEEDED text, or the binary
  std::string path;       // where it resolved to ("" when missing)
  Rule rule = Rule::kGiven;
  std::string needed_by;  // the object that asked ("" for the binary)
  int depth = 0;          // 0 for the binary, 1 for its direct needs, ...
};

struct ClosureOptions {
  bool allow_missing = false;            // a missing library is a warning
  std::string ld_so_conf = "/etc/ld.so.conf";
  std::vector<std::string> default_dirs;  // empty: from the ELF machine
  std::string path_env;                   // empty: $PATH, for BINs and #!/usr/bin/env
};

struct Closure {
  std::vector<std::string> files;       // every host path to copy, first seen first
  std::vector<Dependency> tree;         // in load order
  std::vector<std::string> warnings;
};

// Resolves binaries one after the other, sharing what it learned about
// files and directories (one ELF parse per file, one stat per candidate),
// so bundling a hundred binaries costs little more than bundling one.
class Resolver {
 public:
  explicit Resolver(ClosureOptions options);
  ~Resolver();

  // binary: a path, or a name without '/' looked up in PATH.
  absl::StatusOr<Closure> Resolve(const std::string& binary);

  // A library loaded by name at run time (dlopen from libc, as for NSS
  // modules), for the ELF class and machine of like: searched in
  // ld.so.conf's and the default directories, with its own needs.
  absl::StatusOr<Closure> ResolveLibrary(const std::string& name, const std::string& like);

 private:
  struct Work;
  absl::Status AddExecutable(Work& work, const std::string& path, Rule rule, const std::string& needed_by,
                             int depth, int script_depth);
  absl::Status AddElfObjects(Work& work, const std::string& path, const ElfInfo& main, int depth);
  // The parsed file, nullptr when it does not exist; cached.
  absl::StatusOr<const ElfInfo*> Elf(const std::string& path);
  // Existing hwcaps subdirectories of dir ("glibc-hwcaps/x86-64-v3", "tls"),
  // cached per directory.
  const std::vector<std::string>& VariantDirs(const std::string& dir, const std::string& platform);
  absl::StatusOr<std::string> FindInPath(const std::string& name) const;

  ClosureOptions options_;
  bool conf_loaded_ = false;
  std::vector<std::string> conf_dirs_;
  absl::flat_hash_map<std::string, absl::StatusOr<std::unique_ptr<ElfInfo>>> elf_cache_;
  absl::flat_hash_map<std::string, std::vector<std::string>> variant_cache_;
};

// One binary, with a Resolver of its own.
absl::StatusOr<Closure> ResolveClosure(const std::string& binary, const ClosureOptions& options);

}  // namespace rootfs
