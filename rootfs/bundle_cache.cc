// --bundle's cache: choosing and checking the directory, keys, reaping
// the leftovers of killed builds, and building a bundle once.
#include "rootfs/bundle_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/absl/dir_stream.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"
#include "rootfs/closure.h"
#include "rootfs/manifest.h"
#include "rootfs/tree_writer.h"

namespace rootfs {
namespace {

constexpr int kMaxLinks = 40;  // the kernel's MAXSYMLINKS

// Owned by the caller or root: nobody else can have chosen what is in it.
bool TrustedOwner(const struct stat& st) { return st.st_uid == ::geteuid() || st.st_uid == 0; }

absl::Status CheckDir(const struct stat& st, const std::string& path, bool last) {
  if (!S_ISDIR(st.st_mode)) return absl::FailedPreconditionError(absl::StrCat(path, ": not a directory"));
  if (!TrustedOwner(st)) {
    return absl::PermissionDeniedError(absl::StrCat(path, ": owned by uid ", st.st_uid,
                                                    ", not by you or root; refusing to use it for the cache"));
  }
  const bool others_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  // A sticky shared directory (/tmp) is fine on the way, never as the cache.
  if (others_write && (last || (st.st_mode & S_ISVTX) == 0)) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "%s: writable by others (mode %04o); refusing to use it for the cache", path, st.st_mode & 07777));
  }
  return absl::OkStatus();
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir == "/" ? absl::StrCat("/", name) : absl::StrCat(dir, "/", name);
}

}  // namespace

absl::StatusOr<std::string> CacheDir(absl::string_view user) {
  if (const char* c = ::getenv("MINIPOD_CACHE"); c != nullptr && *c != '\0') {
    if (*c != '/') return absl::InvalidArgumentError(absl::StrCat("MINIPOD_CACHE='", c, "' is not an absolute path"));
    return std::string(c);
  }
  if (::geteuid() == 0) return std::string("/var/cache/minipod");
  if (const char* x = ::getenv("XDG_CACHE_HOME"); x != nullptr && *x == '/') return absl::StrCat(x, "/minipod");
  if (const char* h = ::getenv("HOME"); h != nullptr && *h == '/') return absl::StrCat(h, "/.cache/minipod");
  if (const char* r = ::getenv("XDG_RUNTIME_DIR"); r != nullptr && *r == '/') return absl::StrCat(r, "/minipod-cache");
  return absl::FailedPreconditionError(absl::StrCat(
      user, ": no private directory for the cache: set MINIPOD_CACHE, XDG_CACHE_HOME or HOME to a directory you own"));
}

absl::StatusOr<common::UniqueFd> OpenPrivateDir(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' is not an absolute path"));
  }
  std::vector<std::string> pending;  // components still to walk, last first
  for (absl::string_view c : absl::StrSplit(path, '/', absl::SkipEmpty())) pending.emplace_back(c);
  std::reverse(pending.begin(), pending.end());
  common::UniqueFd cur(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cur) return common::ErrnoStatus(errno, "open(/)");
  std::vector<std::string> where;  // components of the directory cur is, for messages
  int links = 0;
  while (!pending.empty()) {
    const std::string c = std::move(pending.back());
    pending.pop_back();
    if (c == ".") continue;
    std::vector<std::string> next_parts = where;
    if (c != "..") {
      next_parts.push_back(c);
    } else if (!next_parts.empty()) {
      next_parts.pop_back();
    }
    const std::string next = absl::StrCat("/", absl::StrJoin(next_parts, "/"));
    common::UniqueFd fd(::openat(cur.get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd && errno == ENOENT) {
      if (::mkdirat(cur.get(), c.c_str(), 0700) != 0 && errno != EEXIST) {
        return common::ErrnoStatus(errno, absl::StrCat("mkdir(", next, ")"));
      }
      fd = common::UniqueFd(::openat(cur.get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!fd && (errno == ELOOP || errno == ENOTDIR)) {
      // A symlink is followed only when its owner could also have changed
      // the directory it is in: the caller or root, in a checked directory.
      struct stat lst;
      if (::fstatat(cur.get(), c.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode)) {
        if (!TrustedOwner(lst)) {
          return absl::PermissionDeniedError(
              absl::StrCat(next, ": a symlink owned by uid ", lst.st_uid, "; refusing to follow it for the cache"));
        }
        if (++links > kMaxLinks) return common::ErrnoStatus(ELOOP, absl::StrCat("open(", path, ")"));
        char buf[4096];
        const ssize_t n = ::readlinkat(cur.get(), c.c_str(), buf, sizeof buf);
        if (n < 0) return common::ErrnoStatus(errno, absl::StrCat("readlink(", next, ")"));
        const std::string text(buf, static_cast<size_t>(n));
        std::vector<std::string> parts;
        for (absl::string_view t : absl::StrSplit(text, '/', absl::SkipEmpty())) parts.emplace_back(t);
        for (auto p = parts.rbegin(); p != parts.rend(); ++p) pending.push_back(*p);
        if (!text.empty() && text[0] == '/') {
          cur = common::UniqueFd(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
          if (!cur) return common::ErrnoStatus(errno, "open(/)");
          where.clear();
        }
        continue;
      }
      errno = ENOTDIR;
    }
    if (!fd) return common::ErrnoStatus(errno, absl::StrCat("open(", next, ")"));
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("fstat(", next, ")"));
    RETURN_IF_ERROR(CheckDir(st, next, /*last=*/pending.empty()));
    if (pending.empty() && st.st_uid == ::geteuid() && (st.st_mode & 07777) != 0700 &&
        ::fchmod(fd.get(), 0700) != 0) {
      return common::ErrnoStatus(errno, absl::StrCat("chmod(", next, ", 0700)"));
    }
    cur = std::move(fd);
    where = std::move(next_parts);
  }
  return cur;
}

absl::StatusOr<int> ReapStaleTemporaries(const std::string& dir) {
  common::UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dfd) return common::ErrnoStatus(errno, absl::StrCat("open(", dir, ")"));
  std::vector<std::string> names;
  {
    ASSIGN_OR_RETURN(const common::DirStream stream, common::OpenDirStream(dfd.get(), dir));
    while (struct dirent* e = ::readdir(stream.get())) {
      if (strstr(e->d_name, kTmpInfix) != nullptr) names.emplace_back(e->d_name);
    }
  }
  int removed = 0;
  for (const std::string& name : names) {
    common::UniqueFd t(::openat(dfd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!t) continue;  // gone, or not a directory a build makes
    // A live build holds the lock until its rename; a killed one released
    // it with its last fd.
    if (::flock(t.get(), LOCK_EX | LOCK_NB) != 0) continue;
    // Still under that name (a build that just finished renamed it away).
    struct stat st, named;
    if (::fstat(t.get(), &st) != 0 || st.st_nlink == 0 || !TrustedOwner(st)) continue;
    if (::fstatat(dfd.get(), name.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0 || named.st_ino != st.st_ino ||
        named.st_dev != st.st_dev) {
      continue;
    }
    RETURN_IF_ERROR(RemoveTree(Join(dir, name)));
    ++removed;
  }
  return removed;
}

absl::StatusOr<std::string> BundleRootfs(const std::vector<std::string>& bins) {
  Resolver resolver{ClosureOptions{}};
  std::vector<std::string> files;
  for (const std::string& bin : bins) {
    ASSIGN_OR_RETURN(const Closure closure, resolver.Resolve(bin));
    files.insert(files.end(), closure.files.begin(), closure.files.end());
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  std::string identity;
  for (const std::string& f : files) {
    struct stat st;
    if (::stat(f.c_str(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("--bundle: stat(", f, ")"));
    absl::StrAppend(&identity, f, absl::string_view("\0", 1), st.st_dev, " ", st.st_ino, " ", st.st_size, " ",
                    st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, "\n");
  }
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, identity.size(), reinterpret_cast<const uint8_t*>(identity.data()));
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof digest, digest);
  const std::string key =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 16));

  ASSIGN_OR_RETURN(const std::string cache, BundleCacheDir());
  const std::string dir = Join(cache, "bundles");
  RETURN_IF_ERROR(common::Annotate(OpenPrivateDir(cache).status(), "--bundle"));
  ASSIGN_OR_RETURN(const common::UniqueFd dfd, OpenPrivateDir(dir));
  RETURN_IF_ERROR(common::Annotate(ReapStaleTemporaries(dir).status(), "--bundle"));
  const std::string root = Join(dir, key);
  // Checked on every use: the tree must be one the caller or root made.
  auto check = [&]() -> absl::StatusOr<bool> {
    struct stat st;
    if (::fstatat(dfd.get(), key.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return false;
      return common::ErrnoStatus(errno, absl::StrCat("stat(", root, ")"));
    }
    RETURN_IF_ERROR(common::Annotate(CheckDir(st, root, /*last=*/true), "--bundle"));
    return true;
  };
  ASSIGN_OR_RETURN(const bool cached, check());
  if (cached) return root;
  Manifest manifest;
  for (const std::string& f : files) RETURN_IF_ERROR(common::Annotate(manifest.AddHostPath(f).status(), "--bundle"));
  TreeOptions o;
  o.lock_tmp = true;
  absl::StatusOr<TreeStats> written = WriteTree(manifest, root, o);
  // Another run built the same bundle meanwhile: theirs is as good.
  if (!written.ok() && !absl::IsAlreadyExists(written.status())) return written.status();
  ASSIGN_OR_RETURN(const bool there, check());
  if (!there) return absl::InternalError(absl::StrCat("--bundle: ", root, " vanished after it was built"));
  return root;
}

}  // namespace rootfs
