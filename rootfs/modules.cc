// Kernel modules for an image: index parsing (modules.dep, modules.alias,
// modules.softdep, modules.builtin), the load-order plan, and copying the
// files with libarchive decompressing .ko.xz/.ko.zst/.ko.gz. Parent side
// only: open/read/stat and uname(2); nothing is loaded into this kernel.
#include "rootfs/modules.h"

#include <archive.h>
#include <errno.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/absl/file_util.h"
#include "common/absl/status_util.h"

namespace rootfs {
namespace {

// Index lines longer than this are garbage (depmod's longest are a few KiB).
constexpr size_t kMaxLine = 64 << 10;
// The kernel's MODULE_NAME_LEN is 64; aliases (modalias strings) are longer.
constexpr size_t kMaxNameLength = 512;
// Modules in one image, and the longest dependency chain; real closures
// are a few hundred modules at most, real chains a dozen deep.
constexpr size_t kMaxModules = 4096;
constexpr size_t kMaxDepth = 256;
// A decompressed module larger than this is not a module (amdgpu is ~40 MiB).
constexpr size_t kMaxModuleBytes = 512 << 20;
// Symlinks followed while resolving an image path.
constexpr int kMaxLinks = 40;

constexpr absl::string_view kCompressionSuffixes[] = {".xz", ".zst", ".gz"};

// Calls f(line) for every line that says something: CR and surrounding
// blanks stripped, blank lines, '#' comments and overlong lines skipped.
template <typename F>
void ForEachLine(absl::string_view text, F f) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.size() > kMaxLine) continue;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    f(line);
  }
}

std::vector<absl::string_view> Words(absl::string_view line) {
  return absl::StrSplit(line, absl::ByAnyChar(" \t\r\v\f"), absl::SkipEmpty());
}

// "kernel/fs/overlayfs/overlay.ko.xz" -> ".xz"; "" when not compressed.
absl::string_view CompressionSuffix(absl::string_view path) {
  for (absl::string_view s : kCompressionSuffixes) {
    if (absl::EndsWith(path, s)) return s;
  }
  return "";
}

// The path the module has in the image: the compression suffix dropped.
absl::string_view PlainPath(absl::string_view path) {
  absl::string_view s = CompressionSuffix(path);
  return path.substr(0, path.size() - s.size());
}

// Kernel module names treat '-' and '_' as the same character.
std::string NormalizeName(absl::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c == '-') c = '_';
  }
  return out;
}

// The same for an alias pattern, except inside [...], where '-' is a range
// (kmod's alias_normalize).
std::string NormalizePattern(absl::string_view pattern) {
  std::string out(pattern);
  bool in_class = false;
  for (char& c : out) {
    if (in_class) {
      if (c == ']') in_class = false;
    } else if (c == '[') {
      in_class = true;
    } else if (c == '-') {
      c = '_';
    }
  }
  return out;
}

// "kernel/fs/ext4/ext4.ko.zst" -> "ext4"; "" when the path does not name a
// module file.
std::string ModuleNameOf(absl::string_view path) {
  const size_t slash = path.rfind('/');
  absl::string_view base = slash == absl::string_view::npos ? path : path.substr(slash + 1);
  base = PlainPath(base);
  if (!absl::ConsumeSuffix(&base, ".ko") || base.empty()) return "";
  return NormalizeName(base);
}

// A path relative to the modules directory that stays inside it.
bool IsSafeRelativePath(absl::string_view path) {
  if (path.empty() || path[0] == '/' || path.find('\0') != absl::string_view::npos) return false;
  for (absl::string_view c : absl::StrSplit(path, '/')) {
    if (c.empty() || c == "." || c == "..") return false;
  }
  return true;
}

struct Module {
  std::string path;               // as modules.dep lists it
  std::string name;               // normalized
  std::vector<std::string> deps;  // paths, in modules.dep's order
};

struct SoftDeps {
  std::vector<std::string> pre;
  std::vector<std::string> post;
};

struct Index {
  std::vector<Module> modules;
  absl::flat_hash_map<std::string, size_t> by_name;
  absl::flat_hash_map<std::string, size_t> by_path;
  std::vector<std::pair<std::string, std::string>> aliases;  // normalized pattern, module
  absl::flat_hash_map<std::string, SoftDeps> softdeps;
  absl::flat_hash_set<std::string> builtin;
};

// "kernel/a.ko: kernel/b.ko kernel/c.ko". The first line for a path or a
// name wins, as depmod writes only one module per name.
void ParseDep(absl::string_view text, Index& index) {
  ForEachLine(text, [&](absl::string_view line) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) return;
    Module m;
    m.path = std::string(absl::StripAsciiWhitespace(line.substr(0, colon)));
    m.name = ModuleNameOf(m.path);
    if (m.name.empty() || index.by_path.contains(m.path) || index.by_name.contains(m.name)) return;
    for (absl::string_view w : Words(line.substr(colon + 1))) m.deps.emplace_back(w);
    index.by_path.emplace(m.path, index.modules.size());
    index.by_name.emplace(m.name, index.modules.size());
    index.modules.push_back(std::move(m));
  });
}

// "alias fs-overlay overlay"
void ParseAlias(absl::string_view text, Index& index) {
  ForEachLine(text, [&](absl::string_view line) {
    const std::vector<absl::string_view> w = Words(line);
    if (w.size() < 3 || w[0] != "alias") return;
    index.aliases.emplace_back(NormalizePattern(w[1]), NormalizeName(w[2]));
  });
}

// "softdep NAME pre: A B post: C"; several lines for one NAME add up.
void ParseSoftdep(absl::string_view text, Index& index) {
  ForEachLine(text, [&](absl::string_view line) {
    const std::vector<absl::string_view> w = Words(line);
    if (w.size() < 3 || w[0] != "softdep") return;
    SoftDeps& sd = index.softdeps[NormalizeName(w[1])];
    std::vector<std::string>* into = nullptr;  // words before "pre:" or "post:" are ignored, as kmod does
    for (size_t i = 2; i < w.size(); ++i) {
      if (w[i] == "pre:") {
        into = &sd.pre;
      } else if (w[i] == "post:") {
        into = &sd.post;
      } else if (into != nullptr) {
        into->emplace_back(w[i]);
      }
    }
  });
}

// "kernel/fs/ext4/ext4.ko"
void ParseBuiltin(absl::string_view text, Index& index) {
  ForEachLine(text, [&](absl::string_view line) {
    std::string name = ModuleNameOf(line);
    if (name.empty()) {  // tolerate a bare name
      const size_t slash = line.rfind('/');
      name = NormalizeName(slash == absl::string_view::npos ? line : line.substr(slash + 1));
    }
    if (!name.empty()) index.builtin.insert(std::move(name));
  });
}

Index ParseIndex(absl::string_view dep, absl::string_view alias, absl::string_view softdep,
                 absl::string_view builtin) {
  Index index;
  ParseDep(dep, index);
  ParseAlias(alias, index);
  ParseSoftdep(softdep, index);
  ParseBuiltin(builtin, index);
  return index;
}

// The module a modules.dep dependency entry means: by path, else by name.
const size_t* FindDep(const Index& index, const std::string& path) {
  if (auto it = index.by_path.find(path); it != index.by_path.end()) return &it->second;
  const std::string name = ModuleNameOf(path);
  if (auto it = index.by_name.find(name); !name.empty() && it != index.by_name.end()) {
    return &it->second;
  }
  return nullptr;
}

struct Resolution {
  std::vector<size_t> modules;  // empty when built in or unknown
  bool builtin = false;
};

class Planner {
 public:
  Planner(const Index& index, ModulePlan& plan) : index_(index), plan_(plan), state_(index.modules.size()) {}

  // Resolves one NAME the user gave and adds its closure.
  absl::Status AddName(const std::string& name) {
    if (name.empty() || name.size() > kMaxNameLength ||
        name.find_first_of("/ \t\r\n") != std::string::npos || name.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad module name '", absl::CHexEscape(name), "'"));
    }
    const Resolution& r = Resolve(name);
    if (r.builtin) {
      Note(absl::StrCat(name, ": built into the kernel"));
      return absl::OkStatus();
    }
    if (r.modules.empty()) {
      return absl::NotFoundError(absl::StrCat("module '", name, "' not found for kernel ", plan_.release,
                                              " (not in modules.dep, modules.alias or modules.builtin)"));
    }
    for (size_t m : r.modules) RETURN_IF_ERROR(VisitHard(m, 0));
    return absl::OkStatus();
  }

 private:
  enum class State : unsigned char { kNew, kDeps, kSoft, kDone };

  void Note(std::string note) {
    if (noted_.insert(note).second) plan_.notes.push_back(std::move(note));
  }

  // As kmod_module_new_from_lookup: module name, built in, then aliases
  // (every module an alias names, in modules.alias order).
  const Resolution& Resolve(const std::string& name) {
    const std::string n = NormalizeName(name);
    if (auto it = cache_.find(n); it != cache_.end()) return it->second;
    Resolution r;
    if (auto it = index_.by_name.find(n); it != index_.by_name.end()) {
      r.modules.push_back(it->second);
    } else if (index_.builtin.contains(n)) {
      r.builtin = true;
    } else if (n.size() <= kMaxNameLength) {
      bool any_builtin = false;
      for (const auto& [pattern, target] : index_.aliases) {
        if (!AliasPatternMatches(pattern, n)) continue;
        if (auto t = index_.by_name.find(target); t != index_.by_name.end()) {
          bool seen = false;
          for (size_t m : r.modules) seen |= m == t->second;
          if (!seen) r.modules.push_back(t->second);
        } else if (index_.builtin.contains(target)) {
          any_builtin = true;
        }
      }
      r.builtin = r.modules.empty() && any_builtin;
    }
    return cache_.emplace(n, std::move(r)).first->second;
  }

  // A hard (modules.dep) edge to m.
  absl::Status VisitHard(size_t m, size_t depth) {
    switch (state_[m]) {
      case State::kDone:
        return absl::OkStatus();
      case State::kSoft:
        // m's own dependencies are loaded; only its soft "pre:" modules
        // are still being visited, and one of them needs m: m goes first.
        return Emit(m);
      case State::kDeps: {
        std::vector<absl::string_view> cycle;
        bool on = false;
        for (size_t s : stack_) {
          on |= s == m;
          if (on) cycle.push_back(index_.modules[s].name);
        }
        cycle.push_back(index_.modules[m].name);
        return absl::FailedPreconditionError(
            absl::StrCat("dependency cycle in modules.dep: ", absl::StrJoin(cycle, " -> ")));
      }
      case State::kNew:
        break;
    }
    return Visit(m, depth);
  }

  // A soft (modules.softdep) edge to m: one that would close a cycle is cut.
  absl::Status VisitSoft(size_t m, size_t depth) {
    return state_[m] == State::kNew ? Visit(m, depth) : absl::OkStatus();
  }

  absl::Status VisitSoftNames(const Module& of, const std::vector<std::string>& names, size_t depth) {
    for (const std::string& s : names) {
      if (s.size() > kMaxNameLength) continue;
      const Resolution& r = Resolve(s);
      if (r.modules.empty() && !r.builtin) {
        Note(absl::StrCat(of.name, ": soft dependency ", s, " not found"));
      }
      for (size_t m : r.modules) RETURN_IF_ERROR(VisitSoft(m, depth));
    }
    return absl::OkStatus();
  }

  // kmod's order: the modules.dep list from last to first, the softdep
  // "pre:" modules, the module, its "post:" modules.
  absl::Status Visit(size_t m, size_t depth) {
    const Module& mod = index_.modules[m];
    if (depth >= kMaxDepth) {
      return absl::ResourceExhaustedError(
          absl::StrCat("module dependencies nested deeper than ", kMaxDepth, " at ", mod.name));
    }
    state_[m] = State::kDeps;
    stack_.push_back(m);
    for (auto it = mod.deps.rbegin(); it != mod.deps.rend(); ++it) {
      const size_t* d = FindDep(index_, *it);
      if (d == nullptr) {
        return absl::NotFoundError(
            absl::StrCat(mod.path, " depends on ", *it, ", which modules.dep does not list"));
      }
      RETURN_IF_ERROR(VisitHard(*d, depth + 1));
    }
    state_[m] = State::kSoft;
    const auto sd = index_.softdeps.find(mod.name);
    if (sd != index_.softdeps.end()) RETURN_IF_ERROR(VisitSoftNames(mod, sd->second.pre, depth + 1));
    if (state_[m] != State::kDone) RETURN_IF_ERROR(Emit(m));
    if (sd != index_.softdeps.end()) RETURN_IF_ERROR(VisitSoftNames(mod, sd->second.post, depth + 1));
    stack_.pop_back();
    return absl::OkStatus();
  }

  absl::Status Emit(size_t m) {
    const Module& mod = index_.modules[m];
    if (!IsSafeRelativePath(mod.path)) {
      return absl::FailedPreconditionError(
          absl::StrCat("modules.dep: '", absl::CHexEscape(mod.path), "' is not a path inside the modules directory"));
    }
    if (plan_.load_order.size() >= kMaxModules) {
      return absl::ResourceExhaustedError(absl::StrCat("more than ", kMaxModules, " modules"));
    }
    plan_.load_order.push_back(mod.path);
    state_[m] = State::kDone;
    return absl::OkStatus();
  }

  const Index& index_;
  ModulePlan& plan_;
  std::vector<State> state_;
  std::vector<size_t> stack_;
  absl::flat_hash_map<std::string, Resolution> cache_;
  absl::flat_hash_set<std::string> noted_;
};

absl::Status ValidateRelease(absl::string_view release) {
  if (release.empty() || release == "." || release == ".." || release.size() > 256 ||
      release.find_first_of(absl::string_view("/\0\n", 3)) != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad kernel release '", absl::CHexEscape(release), "'"));
  }
  return absl::OkStatus();
}

// An index file that may be absent: "" then.
absl::StatusOr<std::string> ReadOptional(const std::string& path) {
  absl::StatusOr<std::string> s = common::ReadFileToString(path);
  if (!s.ok() && absl::IsNotFound(s.status())) return std::string();
  return s;
}

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

// The decompressed bytes of a .ko.xz/.ko.zst/.ko.gz file.
absl::StatusOr<std::string> Decompress(const std::string& path) {
  std::unique_ptr<struct archive, ArchiveDeleter> a(archive_read_new());
  if (a == nullptr) return absl::ResourceExhaustedError("archive_read_new");
  // Only what kernel modules come compressed with: the rest of libarchive's
  // filters would stay out of the binary unused.
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 64 << 10) != ARCHIVE_OK) {
    const int err = archive_errno(a.get());
    if (err != 0) return common::ErrnoStatus(err, absl::StrCat("open(", path, ")"));
    return absl::FailedPreconditionError(
        absl::StrCat("decompressing ", path, ": ", archive_error_string(a.get())));
  }
  struct archive_entry* entry = nullptr;
  if (archive_read_next_header(a.get(), &entry) != ARCHIVE_OK) {
    return absl::FailedPreconditionError(
        absl::StrCat("decompressing ", path, ": ", archive_error_string(a.get())));
  }
  // The raw format takes anything; a module named .xz that is not
  // compressed is a broken tree, not something to copy as is.
  if (archive_filter_code(a.get(), 0) == ARCHIVE_FILTER_NONE) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": not compressed, despite its name"));
  }
  std::string data;
  char buf[64 << 10];
  for (;;) {
    const la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
    if (n < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("decompressing ", path, ": ", archive_error_string(a.get())));
    }
    if (n == 0) return data;
    if (data.size() + static_cast<size_t>(n) > kMaxModuleBytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat(path, ": more than ", kMaxModuleBytes, " bytes decompressed"));
    }
    data.append(buf, static_cast<size_t>(n));
  }
}

// Follows the image's symlinks in the directories above path (merged /usr:
// /lib -> usr/lib), so a file goes where the image resolves its name.
absl::StatusOr<std::string> ResolveInImage(const Manifest& manifest, const std::string& path) {
  std::string cur = path;
  for (int links = 0; links <= kMaxLinks; ++links) {
    const std::vector<absl::string_view> parts = absl::StrSplit(cur, '/', absl::SkipEmpty());
    std::string prefix;
    bool followed = false;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      const std::string dir = absl::StrCat(prefix, "/", parts[i]);
      const auto it = manifest.entries().find(dir);
      if (it != manifest.entries().end() && it->second.kind == Entry::Kind::kSymlink) {
        std::string rest;
        for (size_t j = i + 1; j < parts.size(); ++j) absl::StrAppend(&rest, "/", parts[j]);
        cur = ResolveLinkText(prefix.empty() ? "/" : prefix, absl::StrCat(it->second.target, rest));
        followed = true;
        break;
      }
      prefix = dir;
    }
    if (!followed) return cur;
  }
  return absl::FailedPreconditionError(absl::StrCat(path, ": too many levels of symbolic links in the image"));
}

absl::Status AddImageFile(Manifest& manifest, const std::string& path, const std::string& source) {
  ASSIGN_OR_RETURN(const std::string where, ResolveInImage(manifest, path));
  return manifest.AddFile(where, source, 0644);
}

}  // namespace

bool AliasPatternMatches(absl::string_view pattern, absl::string_view text) {
  // fnmatch(3) reads C strings: a NUL inside either would cut it short.
  if (pattern.find('\0') != absl::string_view::npos || text.find('\0') != absl::string_view::npos) {
    return false;
  }
  return ::fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

absl::StatusOr<ModulePlan> PlanModules(const std::vector<std::string>& names,
                                       absl::string_view modules_dep,
                                       absl::string_view modules_alias,
                                       absl::string_view modules_softdep,
                                       absl::string_view modules_builtin,
                                       absl::string_view release) {
  RETURN_IF_ERROR(ValidateRelease(release));
  const Index index = ParseIndex(modules_dep, modules_alias, modules_softdep, modules_builtin);
  ModulePlan plan;
  plan.release = std::string(release);
  Planner planner(index, plan);
  for (const std::string& name : names) RETURN_IF_ERROR(planner.AddName(name));
  return plan;
}

absl::StatusOr<ModulePlan> AddKernelModules(Manifest& manifest, Staging& staging,
                                            const std::vector<std::string>& names,
                                            const ModuleOptions& options) {
  std::string release = options.kernel_release;
  if (release.empty()) {
    struct utsname u;
    if (::uname(&u) != 0) return common::ErrnoStatus(errno, "uname()");
    release = u.release;
  }
  RETURN_IF_ERROR(ValidateRelease(release));
  if (names.empty()) return ModulePlan{release, {}, {}};

  const std::string dir = absl::StrCat(options.modules_root, "/", release);
  absl::StatusOr<std::string> dep = common::ReadFileToString(absl::StrCat(dir, "/modules.dep"));
  if (!dep.ok()) {
    if (!absl::IsNotFound(dep.status())) return dep.status();
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) {
      return absl::NotFoundError(absl::StrCat("no modules for kernel ", release, ": ", dir,
                                              " does not exist (is --kernel-release right?)"));
    }
    return absl::NotFoundError(
        absl::StrCat(dir, " has no modules.dep (run depmod ", release, ")"));
  }
  ASSIGN_OR_RETURN(const std::string alias, ReadOptional(absl::StrCat(dir, "/modules.alias")));
  ASSIGN_OR_RETURN(const std::string softdep, ReadOptional(absl::StrCat(dir, "/modules.softdep")));
  ASSIGN_OR_RETURN(const std::string builtin, ReadOptional(absl::StrCat(dir, "/modules.builtin")));
  absl::StatusOr<ModulePlan> plan = PlanModules(names, *dep, alias, softdep, builtin, release);
  if (!plan.ok()) return common::Annotate(plan.status(), dir);
  if (plan->load_order.empty()) return plan;

  const std::string image_dir = absl::StrCat("/lib/modules/", release);
  const Index index = ParseIndex(*dep, "", "", "");
  std::string dep_out;
  std::string list;
  for (const std::string& path : plan->load_order) {
    const std::string host = absl::StrCat(dir, "/", path);
    const std::string image = absl::StrCat(image_dir, "/", PlainPath(path));
    if (CompressionSuffix(path).empty()) {
      struct stat st;
      if (::stat(host.c_str(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("stat(", host, ")"));
      if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(host, ": not a regular file"));
      RETURN_IF_ERROR(AddImageFile(manifest, image, host));
    } else {
      ASSIGN_OR_RETURN(const std::string data, Decompress(host));
      ASSIGN_OR_RETURN(const std::string staged, staging.WriteFile(PlainPath(path), data, 0644));
      RETURN_IF_ERROR(AddImageFile(manifest, image, staged));
    }
    absl::StrAppend(&list, image, "\n");
    // Every dependency is in the plan: the closure is what the plan is.
    absl::StrAppend(&dep_out, PlainPath(path), ":");
    const auto self = index.by_path.find(path);
    if (self == index.by_path.end()) return absl::InternalError(absl::StrCat(path, ": not in modules.dep"));
    for (const std::string& d : index.modules[self->second].deps) {
      const size_t* m = FindDep(index, d);
      if (m != nullptr) absl::StrAppend(&dep_out, " ", PlainPath(index.modules[*m].path));
    }
    absl::StrAppend(&dep_out, "\n");
  }
  ASSIGN_OR_RETURN(const std::string dep_file, staging.WriteFile("modules.dep", dep_out, 0644));
  RETURN_IF_ERROR(AddImageFile(manifest, absl::StrCat(image_dir, "/modules.dep"), dep_file));
  ASSIGN_OR_RETURN(const std::string list_file, staging.WriteFile("modules", list, 0644));
  RETURN_IF_ERROR(AddImageFile(manifest, std::string(kModuleListPath), list_file));
  return plan;
}

}  // namespace rootfs
