#include "rootfs/manifest.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/absl/status_util.h"

namespace rootfs {
namespace {

// Symlinks followed while adding one host path, as the kernel's limit.
constexpr int kMaxLinks = 40;

const char* KindName(Entry::Kind k) {
  switch (k) {
    case Entry::Kind::kDir:
      return "directory";
    case Entry::Kind::kFile:
      return "file";
    case Entry::Kind::kSymlink:
      return "symlink";
    case Entry::Kind::kCharDevice:
      return "device";
  }
  return "entry";
}

bool SameEntry(const Entry& a, const Entry& b) {
  return a.kind == b.kind && a.source == b.source && a.target == b.target && a.mode == b.mode &&
         a.major == b.major && a.minor == b.minor;
}

std::string Describe(const Entry& e) {
  switch (e.kind) {
    case Entry::Kind::kFile:
      return absl::StrCat("file from ", e.source);
    case Entry::Kind::kSymlink:
      return absl::StrCat("symlink to ", e.target);
    default:
      return KindName(e.kind);
  }
}

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

absl::StatusOr<std::string> NormalizeImagePath(absl::string_view path) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' is not an absolute path"));
  }
  if (path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("path contains a NUL byte");
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view c : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (c == ".") continue;
    if (c == "..") {
      return absl::InvalidArgumentError(absl::StrCat("'", path, "' contains '..'"));
    }
    parts.push_back(c);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

std::string ResolveLinkText(absl::string_view link_dir, absl::string_view text) {
  std::vector<absl::string_view> parts;
  if (!text.empty() && text[0] != '/') {
    for (absl::string_view c : absl::StrSplit(link_dir, '/', absl::SkipEmpty())) parts.push_back(c);
  }
  for (absl::string_view c : absl::StrSplit(text, '/', absl::SkipEmpty())) {
    if (c == ".") continue;
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(c);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

absl::StatusOr<std::string> ResolveInImage(const Manifest& manifest, absl::string_view path) {
  ASSIGN_OR_RETURN(const std::string norm, NormalizeImagePath(path));
  std::vector<std::string> pending;  // components still to walk, last first
  for (absl::string_view c : absl::StrSplit(norm, '/', absl::SkipEmpty())) pending.emplace_back(c);
  std::reverse(pending.begin(), pending.end());
  std::vector<std::string> cur;  // the components resolved so far
  int links = 0;
  while (!pending.empty()) {
    std::string c;
    c.swap(pending.back());  // (a move-construct here trips GCC 12's -O3 -Wmaybe-uninitialized)
    pending.pop_back();
    if (c == "." || c.empty()) continue;
    if (c == "..") {
      // Never above the image's root, as with RESOLVE_IN_ROOT.
      if (!cur.empty()) cur.pop_back();
      continue;
    }
    cur.push_back(std::move(c));
    auto it = manifest.entries().find(absl::StrCat("/", absl::StrJoin(cur, "/")));
    if (it == manifest.entries().end() || it->second.kind != Entry::Kind::kSymlink) continue;
    if (++links > 40) {  // the kernel's MAXSYMLINKS
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "': too many levels of symbolic links in the image"));
    }
    cur.pop_back();
    const std::string& text = it->second.target;
    if (!text.empty() && text[0] == '/') cur.clear();
    std::vector<std::string> parts = absl::StrSplit(text, '/', absl::SkipEmpty());
    for (auto p = parts.rbegin(); p != parts.rend(); ++p) pending.push_back(std::move(*p));
  }
  return absl::StrCat("/", absl::StrJoin(cur, "/"));
}

absl::Status Manifest::EnsureParents(const std::string& path) {
  if (path == "/") return absl::OkStatus();
  const std::string parent = Parent(path);
  auto it = entries_.find(parent);
  if (it != entries_.end()) {
    if (it->second.kind != Entry::Kind::kDir) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot add ", path, ": ", parent, " is a ", Describe(it->second), ", not a directory"));
    }
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(EnsureParents(parent));
  if (parent != "/") entries_.emplace(parent, Entry{});
  return absl::OkStatus();
}

absl::Status Manifest::Put(const std::string& path, const Entry& entry) {
  RETURN_IF_ERROR(EnsureParents(path));
  auto [it, inserted] = entries_.emplace(path, entry);
  if (inserted || SameEntry(it->second, entry)) return absl::OkStatus();
  if (it->second.kind == Entry::Kind::kDir && entry.kind == Entry::Kind::kDir) {
    it->second.mode = entry.mode;  // an explicit mode beats an implied parent
    return absl::OkStatus();
  }
  return absl::AlreadyExistsError(absl::StrCat("conflicting entries for ", path, ": ",
                                               Describe(it->second), " and ", Describe(entry)));
}

absl::Status Manifest::ReplaceSource(absl::string_view path, absl::string_view source) {
  auto it = entries_.find(std::string(path));
  if (it == entries_.end() || it->second.kind != Entry::Kind::kFile) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file in the image"));
  }
  it->second.source = std::string(source);
  return absl::OkStatus();
}

absl::Status Manifest::AddDir(absl::string_view path, mode_t mode) {
  ASSIGN_OR_RETURN(const std::string p, NormalizeImagePath(path));
  if (p == "/") return absl::OkStatus();
  Entry e;
  e.mode = mode & 07777;
  return Put(p, e);
}

absl::Status Manifest::AddFile(absl::string_view path, absl::string_view source, mode_t mode) {
  ASSIGN_OR_RETURN(const std::string p, NormalizeImagePath(path));
  if (p == "/") return absl::InvalidArgumentError("cannot add a file as /");
  Entry e;
  e.kind = Entry::Kind::kFile;
  e.source = std::string(source);
  e.mode = mode & 07777;
  return Put(p, e);
}

absl::Status Manifest::AddSymlink(absl::string_view path, absl::string_view target) {
  ASSIGN_OR_RETURN(const std::string p, NormalizeImagePath(path));
  if (p == "/") return absl::InvalidArgumentError("cannot add a symlink as /");
  if (target.empty()) return absl::InvalidArgumentError(absl::StrCat("empty symlink ", p));
  Entry e;
  e.kind = Entry::Kind::kSymlink;
  e.target = std::string(target);
  e.mode = 0777;
  return Put(p, e);
}

absl::Status Manifest::AddCharDevice(absl::string_view path, mode_t mode, unsigned major,
                                     unsigned minor) {
  ASSIGN_OR_RETURN(const std::string p, NormalizeImagePath(path));
  Entry e;
  e.kind = Entry::Kind::kCharDevice;
  e.mode = mode & 07777;
  e.major = major;
  e.minor = minor;
  return Put(p, e);
}

absl::StatusOr<std::string> Manifest::AddHostPath(absl::string_view host_path) {
  if (host_path.empty() || host_path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("'", host_path, "' is not an absolute path"));
  }
  if (host_path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("path contains a NUL byte");
  }
  // The components still to walk, front first. ".." is taken from the
  // directory reached so far, which holds no symlink, so it means what it
  // means to the kernel ("$ORIGIN/../lib" below a symlinked bin/).
  std::deque<std::string> parts;
  for (absl::string_view c : absl::StrSplit(host_path, '/', absl::SkipEmpty())) parts.emplace_back(c);
  std::string cur;  // "" is the root
  int links = 0;
  while (!parts.empty()) {
    const std::string c = std::move(parts.front());
    parts.pop_front();
    if (c == ".") continue;
    if (c == "..") {
      cur.resize(cur.empty() ? 0 : cur.rfind('/'));
      continue;
    }
    const std::string next = absl::StrCat(cur, "/", c);
    struct stat st;
    if (::lstat(next.c_str(), &st) != 0) {
      return common::ErrnoStatus(errno, absl::StrCat("lstat(", next, ")"));
    }
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxLinks) {
        return absl::FailedPreconditionError(absl::StrCat(host_path, ": too many levels of symbolic links"));
      }
      std::string text(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
      const ssize_t n = ::readlink(next.c_str(), text.data(), text.size());
      if (n < 0) return common::ErrnoStatus(errno, absl::StrCat("readlink(", next, ")"));
      if (static_cast<size_t>(n) >= text.size()) {
        return absl::FailedPreconditionError(absl::StrCat(next, ": symlink changed while read"));
      }
      text.resize(static_cast<size_t>(n));
      RETURN_IF_ERROR(AddSymlink(next, text));
      std::vector<std::string> link_parts = absl::StrSplit(text, '/', absl::SkipEmpty());
      parts.insert(parts.begin(), link_parts.begin(), link_parts.end());
      if (!text.empty() && text[0] == '/') cur.clear();
      continue;
    }
    const bool last = parts.empty();
    if (S_ISDIR(st.st_mode)) {
      RETURN_IF_ERROR(AddDir(next, last ? st.st_mode : 0755));
    } else if (!last) {
      return common::ErrnoStatus(ENOTDIR, absl::StrCat("lstat(", next, "/", parts.front(), ")"));
    } else if (S_ISREG(st.st_mode)) {
      RETURN_IF_ERROR(AddFile(next, next, st.st_mode));
    } else {
      return absl::FailedPreconditionError(absl::StrCat(next, ": not a regular file, directory or symlink"));
    }
    cur = next;
  }
  return cur.empty() ? std::string("/") : cur;
}

size_t Manifest::file_count() const {
  size_t n = 0;
  for (const auto& [path, e] : entries_) n += e.kind == Entry::Kind::kFile;
  return n;
}

}  // namespace rootfs
