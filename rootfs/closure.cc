// Resolution of a binary's run-time closure, following glibc's
// elf/dl-load.c: the loader chain's DT_RPATH unless the asking object has
// DT_RUNPATH, then its DT_RUNPATH, then ld.so.cache (its directories come
// from ld.so.conf), then the built-in directories; in every directory the
// glibc-hwcaps and legacy hwcaps subdirectories come first.
#include "rootfs/closure.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"
#include "rootfs/ld_paths.h"

namespace rootfs {
namespace {

// The kernel follows at most 4 levels of #! interpreters (fs/exec.c).
constexpr int kMaxScriptDepth = 4;

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool Compatible(const ElfInfo& a, const ElfInfo& b) {
  return a.is_64 == b.is_64 && a.big_endian == b.big_endian && a.machine == b.machine;
}

std::string BaseName(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return std::string(slash == absl::string_view::npos ? path : path.substr(slash + 1));
}

// The program `#!/usr/bin/env ARG` runs: the first word that is neither an
// option nor a NAME=VALUE assignment; "-S" (split string) is followed by
// the words of the rest.
std::string EnvProgram(absl::string_view argument) {
  std::vector<absl::string_view> words = absl::StrSplit(argument, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  for (absl::string_view w : words) {
    if (w == "-S" || w == "--split-string") continue;
    if (absl::StartsWith(w, "-S")) w.remove_prefix(2);
    if (w.empty() || w[0] == '-' || absl::StrContains(w, '=')) continue;
    return std::string(w);
  }
  return "";
}

absl::StatusOr<std::string> ReadHead(const std::string& path, size_t size) {
  common::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("fstat(", path, ")"));
  if (!S_ISREG(st.st_mode)) return absl::FailedPreconditionError(absl::StrCat(path, ": not a regular file"));
  std::string head(size, '\0');
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd.get(), head.data() + got, size - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return common::ErrnoStatus(errno, absl::StrCat("read(", path, ")"));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  head.resize(got);
  return head;
}

absl::Span<const uint8_t> Bytes(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace

const char* RuleName(Rule rule) {
  switch (rule) {
    case Rule::kGiven: return "given";
    case Rule::kInterp: return "interpreter";
    case Rule::kDirect: return "path";
    case Rule::kRpath: return "RPATH";
    case Rule::kRunpath: return "RUNPATH";
    case Rule::kLdSoConf: return "ld.so.conf";
    case Rule::kDefault: return "default dir";
    case Rule::kHwcaps: return "hwcaps";
    case Rule::kShebang: return "#!";
    case Rule::kMissing: return "missing";
  }
  return "?";
}

struct Resolver::Work {
  std::string binary;  // as given, for messages
  Closure closure;
  absl::flat_hash_set<std::string> files_seen;
  absl::flat_hash_set<std::string> executables_done;

  void AddFile(const std::string& path) {
    if (files_seen.insert(path).second) closure.files.push_back(path);
  }
};

Resolver::Resolver(ClosureOptions options) : options_(std::move(options)) {}
Resolver::~Resolver() = default;

absl::StatusOr<const ElfInfo*> Resolver::Elf(const std::string& path) {
  auto it = elf_cache_.find(path);
  if (it == elf_cache_.end()) {
    absl::StatusOr<ElfInfo> info = ReadElf(path);
    absl::StatusOr<std::unique_ptr<ElfInfo>> entry = std::unique_ptr<ElfInfo>();
    if (info.ok()) {
      entry = std::make_unique<ElfInfo>(*std::move(info));
    } else if (!absl::IsNotFound(info.status()) &&
               !absl::StrContains(info.status().message(), "Not a directory")) {
      entry = info.status();
    }
    it = elf_cache_.emplace(path, std::move(entry)).first;
  }
  if (!it->second.ok()) return it->second.status();
  return it->second->get();
}

const std::vector<std::string>& Resolver::VariantDirs(const std::string& dir, const std::string& platform) {
  auto it = variant_cache_.find(dir);
  if (it != variant_cache_.end()) return it->second;
  std::vector<std::string> variants;
  const std::string hwcaps = dir + "/glibc-hwcaps";
  if (DIR* d = ::opendir(hwcaps.c_str())) {
    while (const struct dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      if (IsDirectory(absl::StrCat(hwcaps, "/", name))) variants.push_back("glibc-hwcaps/" + name);
    }
    ::closedir(d);
    // The newest level first, as ld.so prefers it: x86-64-v4, -v3, -v2.
    std::sort(variants.begin(), variants.end(), std::greater<>());
  }
  // The legacy subdirectories glibc 2.36 still searches (removed in 2.37).
  if (!platform.empty()) {
    for (const std::string& sub : {absl::StrCat("tls/", platform, "/", platform), absl::StrCat("tls/", platform),
                                   std::string("tls"), absl::StrCat(platform, "/", platform), platform}) {
      if (IsDirectory(absl::StrCat(dir, "/", sub))) variants.push_back(sub);
    }
  }
  return variant_cache_.emplace(dir, std::move(variants)).first->second;
}

absl::StatusOr<std::string> Resolver::FindInPath(const std::string& name) const {
  std::string path_env = options_.path_env;
  if (path_env.empty()) {
    const char* env = ::getenv("PATH");
    path_env = env != nullptr && *env != '\0' ? env : "/usr/local/bin:/usr/bin:/bin";
  }
  for (absl::string_view dir : absl::StrSplit(path_env, ':', absl::SkipEmpty())) {
    const std::string candidate = absl::StrCat(dir, "/", name);
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return absl::NotFoundError(absl::StrCat(name, ": not found in PATH (", path_env, ")"));
}

absl::Status Resolver::AddExecutable(Work& work, const std::string& path, Rule rule,
                                     const std::string& needed_by, int depth, int script_depth) {
  if (!work.executables_done.insert(path).second) return absl::OkStatus();
  ASSIGN_OR_RETURN(const std::string head, ReadHead(path, 256));
  Dependency self{rule == Rule::kGiven ? work.binary : path, path, rule, needed_by, depth};

  if (LooksLikeElf(Bytes(head))) {
    ASSIGN_OR_RETURN(const ElfInfo* info, Elf(path));
    if (info == nullptr) return absl::NotFoundError(absl::StrCat(path, ": vanished while read"));
    if (info->type != ET_EXEC && info->type != ET_DYN) {
      return absl::FailedPreconditionError(absl::StrCat(path, ": not an executable or shared library"));
    }
    work.closure.tree.push_back(std::move(self));
    work.AddFile(path);
    return AddElfObjects(work, path, *info, depth);
  }

  if (absl::StartsWith(head, "#!")) {
    if (script_depth >= kMaxScriptDepth) {
      return absl::FailedPreconditionError(absl::StrCat(path, ": more than ", kMaxScriptDepth,
                                                        " levels of #! interpreters"));
    }
    ASSIGN_OR_RETURN(const Shebang shebang, ParseShebang(Bytes(head), path));
    if (shebang.interpreter[0] != '/') {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": #! interpreter '", shebang.interpreter, "' is not an absolute path"));
    }
    work.closure.tree.push_back(std::move(self));
    work.AddFile(path);
    RETURN_IF_ERROR(AddExecutable(work, shebang.interpreter, Rule::kShebang, path, depth + 1, script_depth + 1));
    if (BaseName(shebang.interpreter) == "env") {
      const std::string program = EnvProgram(shebang.argument);
      if (program.empty()) return absl::OkStatus();
      absl::StatusOr<std::string> found =
          absl::StrContains(program, '/') ? absl::StatusOr<std::string>(program) : FindInPath(program);
      if (!found.ok()) {
        const std::string what = absl::StrCat(path, ": #!", shebang.interpreter, " ", shebang.argument,
                                              ": ", found.status().message());
        if (!options_.allow_missing) return absl::NotFoundError(what);
        work.closure.warnings.push_back(what);
        work.closure.tree.push_back(Dependency{program, "", Rule::kMissing, path, depth + 1});
        return absl::OkStatus();
      }
      RETURN_IF_ERROR(AddExecutable(work, *found, Rule::kShebang, path, depth + 1, script_depth + 1));
    }
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(path, ": not an ELF file or a #! script"));
}

absl::Status Resolver::AddElfObjects(Work& work, const std::string& path, const ElfInfo& main, int depth) {
  // A static (or static-pie) binary needs nothing.
  if (main.interp.empty() && main.needed.empty()) return absl::OkStatus();
  if (!conf_loaded_) {
    ASSIGN_OR_RETURN(conf_dirs_, ReadLdSoConf(options_.ld_so_conf));
    conf_loaded_ = true;
  }
  LoaderTraits traits = TraitsFor(main);
  if (!options_.default_dirs.empty()) traits.default_dirs = options_.default_dirs;

  struct Object {
    std::string path;
    std::string origin;  // $ORIGIN
    const ElfInfo* info;
    int loader;          // index of the object whose DT_NEEDED loaded it; -1 for the binary
    int depth;
  };
  std::vector<Object> objects;
  // Every name an object answers to: what was asked for, its DT_SONAME and
  // its path, as _dl_name_match_p checks before searching.
  absl::flat_hash_map<std::string, int> names;

  // $ORIGIN of the executable comes from the kernel's /proc/self/exe, the
  // real path; a library's is the directory it was found in, unresolved.
  char real[PATH_MAX];
  if (::realpath(path.c_str(), real) == nullptr) return common::ErrnoStatus(errno, absl::StrCat("realpath(", path, ")"));
  objects.push_back(Object{path, DirName(real), &main, -1, depth});
  names[path] = 0;

  if (!main.interp.empty()) {
    ASSIGN_OR_RETURN(const ElfInfo* interp, Elf(main.interp));
    if (interp == nullptr) {
      return absl::NotFoundError(absl::StrCat(path, ": interpreter ", main.interp, " does not exist"));
    }
    if (!Compatible(*interp, main)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": interpreter ", main.interp, " is for another ELF class or machine"));
    }
    work.closure.tree.push_back(Dependency{main.interp, main.interp, Rule::kInterp, path, depth + 1});
    work.AddFile(main.interp);
    // The interpreter is loaded already; libc's DT_NEEDED on it matches by
    // its soname and searches nothing.
    names[main.interp] = -1;
    if (!interp->soname.empty()) names[interp->soname] = -1;
  }

  // Breadth first, as _dl_map_object_deps walks the needs.
  for (size_t i = 0; i < objects.size(); ++i) {
    const Object obj = objects[i];
    for (const std::string& need : obj.info->needed) {
      const std::string name = absl::StrContains(need, '$') ? ExpandDst(need, obj.origin, traits) : need;
      if (names.contains(name)) continue;

      std::vector<std::pair<std::string, Rule>> dirs;
      std::string found_path;
      Rule found_rule = Rule::kMissing;
      std::vector<std::string> variants;
      std::vector<std::string> skipped;
      auto consider = [&](const std::string& candidate) -> absl::StatusOr<bool> {
        ASSIGN_OR_RETURN(const ElfInfo* info, Elf(candidate));
        if (info == nullptr) return false;
        if (!Compatible(*info, main)) {
          skipped.push_back(absl::StrCat(candidate, " (other ELF class or machine)"));
          return false;
        }
        return true;
      };

      if (absl::StrContains(name, '/')) {
        ASSIGN_OR_RETURN(const bool ok, consider(name));
        if (ok) {
          found_path = name;
          found_rule = Rule::kDirect;
        }
      } else {
        if (!obj.info->has_runpath) {
          // DT_RPATH of the asking object, then of each object up the
          // chain of loaders to the executable; an object with DT_RUNPATH
          // has no DT_RPATH as far as ld.so is concerned.
          for (int l = static_cast<int>(i); l >= 0; l = objects[l].loader) {
            const ElfInfo& li = *objects[l].info;
            if (!li.has_rpath || li.has_runpath) continue;
            for (const std::string& e : SplitSearchPath(li.rpath)) {
              dirs.emplace_back(ExpandDst(e, objects[l].origin, traits), Rule::kRpath);
            }
          }
        } else {
          for (const std::string& e : SplitSearchPath(obj.info->runpath)) {
            dirs.emplace_back(ExpandDst(e, obj.origin, traits), Rule::kRunpath);
          }
        }
        for (const std::string& d : conf_dirs_) dirs.emplace_back(d, Rule::kLdSoConf);
        for (const std::string& d : traits.default_dirs) dirs.emplace_back(d, Rule::kDefault);

        for (const auto& [dir, rule] : dirs) {
          if (dir.empty() || dir[0] != '/') {
            work.closure.warnings.push_back(absl::StrCat(obj.path, ": ignoring relative search directory '", dir,
                                                         "' (it depends on the working directory at run time)"));
            continue;
          }
          std::vector<std::string> here;
          for (const std::string& sub : VariantDirs(dir, traits.platform)) {
            const std::string candidate = absl::StrCat(dir, "/", sub, "/", name);
            ASSIGN_OR_RETURN(const bool ok, consider(candidate));
            if (ok) here.push_back(candidate);
          }
          const std::string base = absl::StrCat(dir, "/", name);
          ASSIGN_OR_RETURN(const bool base_ok, consider(base));
          if (!base_ok && here.empty()) continue;
          if (base_ok) {
            found_path = base;
            found_rule = rule;
            variants = std::move(here);
          } else {
            found_path = here.front();
            found_rule = Rule::kHwcaps;
            variants.assign(here.begin() + 1, here.end());
          }
          break;
        }
      }

      if (found_path.empty()) {
        std::string what = absl::StrCat(name, " (needed by ", obj.path, ") not found");
        if (!skipped.empty()) absl::StrAppend(&what, "; skipped ", absl::StrJoin(skipped, ", "));
        names[name] = -1;
        if (!options_.allow_missing) return absl::NotFoundError(absl::StrCat(work.binary, ": ", what));
        work.closure.warnings.push_back(absl::StrCat(work.binary, ": ", what));
        work.closure.tree.push_back(Dependency{name, "", Rule::kMissing, obj.path, obj.depth + 1});
        continue;
      }

      ASSIGN_OR_RETURN(const ElfInfo* info, Elf(found_path));
      const int index = static_cast<int>(objects.size());
      objects.push_back(Object{found_path, DirName(found_path), info, static_cast<int>(i), obj.depth + 1});
      names[name] = index;
      names.emplace(found_path, index);
      if (!info->soname.empty()) names.emplace(info->soname, index);
      work.closure.tree.push_back(Dependency{name, found_path, found_rule, obj.path, obj.depth + 1});
      work.AddFile(found_path);
      // Every variant goes in: the loader picks one by the CPU it runs on,
      // and the baseline stays next to them for CPUs that have none.
      for (const std::string& v : variants) {
        ASSIGN_OR_RETURN(const ElfInfo* vinfo, Elf(v));
        work.closure.tree.push_back(Dependency{name, v, Rule::kHwcaps, obj.path, obj.depth + 1});
        work.AddFile(v);
        objects.push_back(Object{v, DirName(v), vinfo, static_cast<int>(i), obj.depth + 1});
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Closure> Resolver::Resolve(const std::string& binary) {
  if (binary.empty()) return absl::InvalidArgumentError("empty binary name");
  std::string path = binary;
  if (!absl::StrContains(binary, '/')) {
    ASSIGN_OR_RETURN(path, FindInPath(binary));
  }
  Work work;
  work.binary = binary;
  if (absl::Status s = AddExecutable(work, path, Rule::kGiven, "", 0, 0); !s.ok()) {
    if (absl::StartsWith(s.message(), binary) || absl::StartsWith(s.message(), path)) return s;
    return common::Annotate(s, binary);
  }
  return std::move(work.closure);
}

absl::StatusOr<Closure> Resolver::ResolveLibrary(const std::string& name, const std::string& like) {
  ASSIGN_OR_RETURN(const ElfInfo* like_info, Elf(like));
  if (like_info == nullptr) return absl::NotFoundError(absl::StrCat(like, ": no such file"));
  // An object that needs exactly name and has no search paths of its own:
  // what libc is when it dlopens a module.
  ElfInfo asker;
  asker.is_64 = like_info->is_64;
  asker.big_endian = like_info->big_endian;
  asker.machine = like_info->machine;
  asker.type = ET_DYN;
  asker.needed = {name};
  Work work;
  work.binary = name;
  RETURN_IF_ERROR(AddElfObjects(work, like, asker, -1));
  return std::move(work.closure);
}

absl::StatusOr<Closure> ResolveClosure(const std::string& binary, const ClosureOptions& options) {
  Resolver resolver(options);
  return resolver.Resolve(binary);
}

}  // namespace rootfs
