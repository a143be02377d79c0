#include "rootfs/ld_paths.h"

#include <elf.h>
#include <errno.h>
#include <glob.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl/file_util.h"
#include "common/absl/status_util.h"

namespace rootfs {
namespace {

std::string TrimSlashes(absl::string_view dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  return std::string(dir);
}

// Length of the token ref at text (after the '$'), or 0 when text does not
// hold it: "ORIGIN/x" and "{ORIGIN}x" match, "ORIGINS" does not.
size_t DstLength(absl::string_view text, absl::string_view ref) {
  if (!text.empty() && text[0] == '{') {
    text.remove_prefix(1);
    if (!absl::StartsWith(text, ref) || text.size() <= ref.size() || text[ref.size()] != '}') return 0;
    return ref.size() + 2;
  }
  if (!absl::StartsWith(text, ref)) return 0;
  if (text.size() > ref.size() && text[ref.size()] != '/') return 0;
  return ref.size();
}

// Includes nest at most this deep; ldconfig has no limit but a cycle must
// end somewhere.
constexpr int kMaxIncludeDepth = 16;

absl::Status ReadConf(const std::string& path, int depth, absl::flat_hash_set<std::string>& seen_files,
                      absl::flat_hash_set<std::string>& seen_dirs, std::vector<std::string>& out) {
  if (depth > kMaxIncludeDepth || !seen_files.insert(path).second) return absl::OkStatus();
  absl::StatusOr<std::string> text = common::ReadFileToString(path);
  if (!text.ok()) {
    // A missing file contributes nothing, as for ldconfig.
    if (absl::IsNotFound(text.status())) return absl::OkStatus();
    return text.status();
  }
  const LdSoConfText conf = ParseLdSoConfText(*text, DirName(path));
  for (const std::string& dir : conf.dirs) {
    if (seen_dirs.insert(dir).second) out.push_back(dir);
  }
  for (const std::string& pattern : conf.includes) {
    glob_t g{};
    const int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        if (absl::Status s = ReadConf(g.gl_pathv[i], depth + 1, seen_files, seen_dirs, out); !s.ok()) {
          ::globfree(&g);
          return s;
        }
      }
    }
    ::globfree(&g);
  }
  return absl::OkStatus();
}

}  // namespace

LoaderTraits TraitsFor(const ElfInfo& elf) {
  // Debian's multiarch tuples; the directories are what `ld.so --help`
  // lists as the system search path.
  auto multiarch = [&](absl::string_view tuple, absl::string_view platform) {
    LoaderTraits t;
    t.lib = absl::StrCat("lib/", tuple);
    t.platform = std::string(platform);
    t.default_dirs = {absl::StrCat("/lib/", tuple), absl::StrCat("/usr/lib/", tuple), "/lib", "/usr/lib"};
    return t;
  };
  switch (elf.machine) {
    case EM_X86_64:
      return elf.is_64 ? multiarch("x86_64-linux-gnu", "x86_64") : multiarch("x86_64-linux-gnux32", "x86_64");
    case EM_386:
      return multiarch("i386-linux-gnu", "i686");
    case EM_AARCH64:
      return multiarch("aarch64-linux-gnu", "aarch64");
    case EM_ARM:
      return multiarch("arm-linux-gnueabihf", "v7l");
    case EM_RISCV:
      return multiarch("riscv64-linux-gnu", "riscv64");
    case EM_S390:
      return multiarch("s390x-linux-gnu", "z13");
    case EM_PPC64:
      return multiarch(elf.big_endian ? "powerpc64-linux-gnu" : "powerpc64le-linux-gnu", "power8");
    default: {
      LoaderTraits t;
      t.lib = elf.is_64 ? "lib64" : "lib";
      t.platform = "";
      t.default_dirs = elf.is_64 ? std::vector<std::string>{"/lib64", "/usr/lib64"}
                                 : std::vector<std::string>{"/lib", "/usr/lib"};
      return t;
    }
  }
}

LdSoConfText ParseLdSoConfText(absl::string_view text, absl::string_view conf_dir) {
  LdSoConfText conf;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (const size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    auto keyword = [&](absl::string_view word) {
      return absl::StartsWith(line, word) && line.size() > word.size() &&
             absl::ascii_isspace(static_cast<unsigned char>(line[word.size()]));
    };
    if (keyword("include")) {
      // Several patterns may follow one include, separated by blanks.
      for (absl::string_view pattern :
           absl::StrSplit(line.substr(7), absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
        conf.includes.push_back(pattern[0] == '/' ? std::string(pattern)
                                                  : absl::StrCat(conf_dir == "/" ? "" : conf_dir, "/", pattern));
      }
      continue;
    }
    if (keyword("hwcap")) continue;
    // ldconfig still accepts the old "dir=TYPE" form; the type is ignored.
    if (const size_t eq = line.find('='); eq != absl::string_view::npos) {
      line = absl::StripAsciiWhitespace(line.substr(0, eq));
    }
    if (line.empty() || line[0] != '/') continue;  // ldconfig ignores relative entries
    conf.dirs.push_back(TrimSlashes(line));
  }
  return conf;
}

absl::StatusOr<std::vector<std::string>> ReadLdSoConf(const std::string& path) {
  std::vector<std::string> dirs;
  absl::flat_hash_set<std::string> seen_files, seen_dirs;
  RETURN_IF_ERROR(ReadConf(path, 0, seen_files, seen_dirs, dirs));
  return dirs;
}

std::string ExpandDst(absl::string_view text, absl::string_view origin, const LoaderTraits& traits) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const size_t dollar = text.find('$');
    if (dollar == absl::string_view::npos) break;
    out.append(text.data(), dollar);
    text.remove_prefix(dollar + 1);
    if (const size_t origin_len = DstLength(text, "ORIGIN")) {
      out.append(origin.data(), origin.size());
      text.remove_prefix(origin_len);
    } else if (const size_t lib_len = DstLength(text, "LIB")) {
      out += traits.lib;
      text.remove_prefix(lib_len);
    } else if (const size_t platform_len = DstLength(text, "PLATFORM")) {
      out += traits.platform;
      text.remove_prefix(platform_len);
    } else {
      out += '$';
    }
  }
  out.append(text.data(), text.size());
  return out;
}

std::vector<std::string> SplitSearchPath(absl::string_view path) {
  std::vector<std::string> out;
  for (absl::string_view element : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    out.push_back(TrimSlashes(element));
  }
  return out;
}

std::string DirName(absl::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace rootfs
