#include "rootfs/tree_writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "common/unique_fd.h"

namespace rootfs {
namespace {

absl::StatusOr<size_t> CopyFile(const std::string& from, const std::string& to, mode_t mode) {
  common::UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return common::ErrnoStatus(errno, absl::StrCat("open(", from, ")"));
  struct stat st;
  if (::fstat(in.get(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("fstat(", from, ")"));
  common::UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out) return common::ErrnoStatus(errno, absl::StrCat("create(", to, ")"));
  size_t total = 0;
  for (;;) {
    // copy_file_range shares extents where the filesystem can (reflink) and
    // stays in the kernel otherwise.
    const ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, 1 << 30, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return common::ErrnoStatus(errno, absl::StrCat("copy_file_range(", from, " -> ", to, ")"));
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  if (total != static_cast<size_t>(st.st_size)) {
    return absl::DataLossError(absl::StrCat(from, ": changed size while copied"));
  }
  if (::fchmod(out.get(), mode) != 0) return common::ErrnoStatus(errno, absl::StrCat("fchmod(", to, ")"));
  return total;
}

absl::Status RemoveAt(int dirfd, const char* name, dev_t dev) {
  struct stat st;
  if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? absl::OkStatus() : common::ErrnoStatus(errno, absl::StrCat("stat(", name, ")"));
  }
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != dev) {
      return absl::FailedPreconditionError(absl::StrCat(name, ": a mount point; not removing"));
    }
    const int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return common::ErrnoStatus(errno, absl::StrCat("open(", name, ")"));
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      ::close(fd);
      return common::ErrnoStatus(errno, absl::StrCat("fdopendir(", name, ")"));
    }
    absl::Cleanup close_dir = [dir] { ::closedir(dir); };
    while (struct dirent* d = ::readdir(dir)) {
      if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
      RETURN_IF_ERROR(RemoveAt(::dirfd(dir), d->d_name, dev));
    }
    if (::unlinkat(dirfd, name, AT_REMOVEDIR) != 0) {
      return common::ErrnoStatus(errno, absl::StrCat("rmdir(", name, ")"));
    }
    return absl::OkStatus();
  }
  if (::unlinkat(dirfd, name, 0) != 0) return common::ErrnoStatus(errno, absl::StrCat("unlink(", name, ")"));
  return absl::OkStatus();
}

}  // namespace

absl::Status RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? absl::OkStatus() : common::ErrnoStatus(errno, absl::StrCat("lstat(", path, ")"));
  }
  return common::Annotate(RemoveAt(AT_FDCWD, path.c_str(), st.st_dev), absl::StrCat("removing ", path));
}

absl::StatusOr<TreeStats> WriteTree(const Manifest& manifest, absl::string_view out_view,
                                    bool replace) {
  std::string out(out_view);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  struct stat st;
  const bool exists = ::lstat(out.c_str(), &st) == 0;
  if (exists && !replace) {
    return absl::AlreadyExistsError(absl::StrCat(out, " exists (use --force to replace it)"));
  }
  if (exists && !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(out, " exists and is not a directory"));
  }
  std::string tmp = absl::StrCat(out, ".tmp-XXXXXX");
  if (::mkdtemp(tmp.data()) == nullptr) {
    return common::ErrnoStatus(errno, absl::StrCat("mkdtemp(", tmp, ")"));
  }
  bool keep = false;
  absl::Cleanup cleanup = [&] {
    if (!keep) (void)RemoveTree(tmp);
  };
  if (::chmod(tmp.c_str(), 0755) != 0) return common::ErrnoStatus(errno, absl::StrCat("chmod(", tmp, ")"));

  TreeStats stats;
  for (const auto& [path, e] : manifest.entries()) {
    const std::string dest = tmp + path;
    switch (e.kind) {
      case Entry::Kind::kDir:
        // Owner-writable while it is filled; the real mode is set last.
        if (::mkdir(dest.c_str(), 0700) != 0) {
          return common::ErrnoStatus(errno, absl::StrCat("mkdir(", dest, ")"));
        }
        break;
      case Entry::Kind::kFile: {
        ASSIGN_OR_RETURN(const size_t n, CopyFile(e.source, dest, e.mode));
        stats.files++;
        stats.bytes += n;
        break;
      }
      case Entry::Kind::kSymlink:
        if (::symlink(e.target.c_str(), dest.c_str()) != 0) {
          return common::ErrnoStatus(errno, absl::StrCat("symlink(", dest, ")"));
        }
        break;
      case Entry::Kind::kCharDevice:
        if (::mknod(dest.c_str(), S_IFCHR | e.mode, makedev(e.major, e.minor)) != 0) {
          return common::ErrnoStatus(errno, absl::StrCat("mknod(", dest, ")"));
        }
        break;
    }
  }
  // Children before parents, so a read-only directory is sealed last.
  for (auto it = manifest.entries().rbegin(); it != manifest.entries().rend(); ++it) {
    if (it->second.kind != Entry::Kind::kDir) continue;
    const std::string dest = tmp + it->first;
    if (::chmod(dest.c_str(), it->second.mode) != 0) {
      return common::ErrnoStatus(errno, absl::StrCat("chmod(", dest, ")"));
    }
  }
  if (!exists) {
    if (::rename(tmp.c_str(), out.c_str()) != 0) {
      return common::ErrnoStatus(errno, absl::StrCat("rename(", tmp, ", ", out, ")"));
    }
  } else {
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, out.c_str(), RENAME_EXCHANGE) != 0) {
      return common::ErrnoStatus(errno, absl::StrCat("renameat2(", tmp, ", ", out, ", RENAME_EXCHANGE)"));
    }
    // tmp now holds the old tree: the cleanup removes it.
  }
  if (!exists) keep = true;
  return stats;
}

}  // namespace rootfs
