// Writes a manifest as a directory tree (copy_file_range on a few
// threads) and removes trees by fds without crossing mounts; runs in the
// minipod tool, unprivileged except for device nodes (mknod).
#include "rootfs/tree_writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/absl/dir_stream.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"

namespace rootfs {
namespace {

// Plain read/write, for when copy_file_range cannot cross the two file
// systems (EXDEV before Linux 5.19 and for some pairs since) or the file
// system has no support for it.
absl::StatusOr<size_t> CopyByReading(int in, int out, size_t done, size_t size, const std::string& from,
                                     const std::string& to) {
  char buf[1 << 16];
  while (done < size) {
    const ssize_t n = ::pread(in, buf, sizeof buf, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return common::ErrnoStatus(errno, absl::StrCat("read(", from, ")"));
    }
    if (n == 0) break;
    for (ssize_t put = 0; put < n;) {
      const ssize_t w = ::pwrite(out, buf + put, static_cast<size_t>(n - put), static_cast<off_t>(done) + put);
      if (w < 0) {
        if (errno == EINTR) continue;
        return common::ErrnoStatus(errno, absl::StrCat("write(", to, ")"));
      }
      put += w;
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

absl::StatusOr<size_t> CopyFile(const std::string& from, const std::string& to, mode_t mode) {
  common::UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return common::ErrnoStatus(errno, absl::StrCat("open(", from, ")"));
  struct stat st;
  if (::fstat(in.get(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("fstat(", from, ")"));
  common::UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out) return common::ErrnoStatus(errno, absl::StrCat("create(", to, ")"));
  const size_t size = static_cast<size_t>(st.st_size);
  size_t total = 0;
  while (total < size) {
    // copy_file_range shares extents where the filesystem can (reflink) and
    // stays in the kernel otherwise.
    const ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, size - total, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
        ASSIGN_OR_RETURN(total, CopyByReading(in.get(), out.get(), total, size, from, to));
        break;
      }
      return common::ErrnoStatus(errno, absl::StrCat("copy_file_range(", from, " -> ", to, ")"));
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  if (total != size) {
    return absl::DataLossError(absl::StrCat(from, ": changed size while copied"));
  }
  if (::fchmod(out.get(), mode) != 0) return common::ErrnoStatus(errno, absl::StrCat("fchmod(", to, ")"));
  return total;
}

struct CopyJob {
  const std::string* source;
  std::string dest;
  mode_t mode;
};

// Copies on a few threads: one core cannot keep the page cache busy, and
// most images are a hundred files or more. The first error is returned.
absl::StatusOr<size_t> CopyAll(const std::vector<CopyJob>& jobs) {
  const unsigned threads =
      static_cast<unsigned>(std::min<size_t>({jobs.size(), std::max(1u, std::thread::hardware_concurrency()), 4}));
  std::atomic<size_t> next{0};
  std::atomic<size_t> bytes{0};
  std::mutex mu;
  absl::Status first_error;
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < jobs.size();) {
      absl::StatusOr<size_t> n = CopyFile(*jobs[i].source, jobs[i].dest, jobs[i].mode);
      if (!n.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = n.status();
        next = jobs.size();  // stop the others early
        return;
      }
      bytes += *n;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (!first_error.ok()) return first_error;
  return bytes.load();
}

// What identifies the mount a file is on: a bind mount of the same file
// system keeps st_dev, so the mount id (and the mount-root attribute) is
// what tells it apart.
struct Where {
  uint64_t mnt_id = 0;
  bool has_mnt_id = false;
  dev_t dev = 0;
};

absl::StatusOr<struct statx> StatxAt(int dirfd, const char* name, int flags, const std::string& what) {
  struct statx stx;
  if (::statx(dirfd, name, flags | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
              STATX_TYPE | STATX_MODE | STATX_INO | STATX_MNT_ID, &stx) != 0) {
    return common::ErrnoStatus(errno, absl::StrCat("statx(", what, ")"));
  }
  return stx;
}

Where WhereOf(const struct statx& stx) {
  return Where{stx.stx_mnt_id, (stx.stx_mask & STATX_MNT_ID) != 0, makedev(stx.stx_dev_major, stx.stx_dev_minor)};
}

// True when stx (something inside `parent`) is the root of another mount.
bool CrossesMount(const struct statx& stx, const Where& parent) {
  if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) return true;
  const Where w = WhereOf(stx);
  if (w.has_mnt_id && parent.has_mnt_id && w.mnt_id != parent.mnt_id) return true;
  return w.dev != parent.dev;
}

absl::Status MountPointError(const std::string& path) {
  return absl::FailedPreconditionError(
      absl::StrCat(path, " is a mount point; unmount it first (nothing was removed)"));
}

// Opens the directory `name` in dirfd without following a symlink and
// checks, on the opened fd itself (no window for a swap), that it is the
// inode that was looked at and still on the parent's mount.
absl::StatusOr<common::UniqueFd> OpenSubdir(int dirfd, const char* name, const struct statx& seen,
                                            const Where& parent, const std::string& path) {
  common::UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  ASSIGN_OR_RETURN(const struct statx now, StatxAt(fd.get(), "", AT_EMPTY_PATH, path));
  if (CrossesMount(now, parent)) return MountPointError(path);
  if (now.stx_ino != seen.stx_ino) {
    return absl::AbortedError(absl::StrCat(path, ": replaced while being removed"));
  }
  return fd;
}

// Reports the first mount point below the directory dirfd (path names it
// in messages), or OK when there is none.
absl::Status CheckNoMountsAt(int dirfd, const std::string& path, const Where& here, int depth) {
  if (depth > 4096) return absl::InvalidArgumentError(absl::StrCat(path, ": directories nested too deep"));
  ASSIGN_OR_RETURN(const common::DirStream stream, common::OpenDirStream(dirfd, path));
  DIR* dir = stream.get();
  while (struct dirent* d = ::readdir(dir)) {
    if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
    const std::string child = absl::StrCat(path, "/", d->d_name);
    ASSIGN_OR_RETURN(const struct statx stx, StatxAt(dirfd, d->d_name, 0, child));
    if (CrossesMount(stx, here)) return MountPointError(child);
    if (!S_ISDIR(stx.stx_mode)) continue;
    ASSIGN_OR_RETURN(const common::UniqueFd sub, OpenSubdir(dirfd, d->d_name, stx, here, child));
    RETURN_IF_ERROR(CheckNoMountsAt(sub.get(), child, here, depth + 1));
  }
  return absl::OkStatus();
}

// Removes everything inside the directory dirfd, by fds: unlinkat with
// AT_REMOVEDIR, directories opened O_NOFOLLOW, and no step into another
// mount (refused with its path, before anything of it is touched).
absl::Status EmptyDirAt(int dirfd, const std::string& path, const Where& here, int depth) {
  if (depth > 4096) return absl::InvalidArgumentError(absl::StrCat(path, ": directories nested too deep"));
  ASSIGN_OR_RETURN(const common::DirStream stream, common::OpenDirStream(dirfd, path));
  DIR* dir = stream.get();
  std::vector<std::string> names;
  while (struct dirent* d = ::readdir(dir)) {
    if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0) names.emplace_back(d->d_name);
  }
  for (const std::string& name : names) {
    const std::string child = absl::StrCat(path, "/", name);
    absl::StatusOr<struct statx> stx = StatxAt(dirfd, name.c_str(), 0, child);
    if (!stx.ok()) {
      if (absl::IsNotFound(stx.status())) continue;
      return stx.status();
    }
    if (CrossesMount(*stx, here)) return MountPointError(child);
    if (S_ISDIR(stx->stx_mode)) {
      ASSIGN_OR_RETURN(const common::UniqueFd sub, OpenSubdir(dirfd, name.c_str(), *stx, here, child));
      RETURN_IF_ERROR(EmptyDirAt(sub.get(), child, here, depth + 1));
      if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
        return common::ErrnoStatus(errno, absl::StrCat("rmdir(", child, ")"));
      }
    } else if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) {
      return common::ErrnoStatus(errno, absl::StrCat("unlink(", child, ")"));
    }
  }
  return absl::OkStatus();
}

// The directory at path, opened without following a final symlink, and
// the mount it is on.
absl::StatusOr<std::pair<common::UniqueFd, Where>> OpenTop(const std::string& path) {
  common::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  ASSIGN_OR_RETURN(const struct statx stx, StatxAt(fd.get(), "", AT_EMPTY_PATH, path));
  return std::make_pair(std::move(fd), WhereOf(stx));
}

}  // namespace

absl::Status CheckNoMounts(const std::string& path) {
  ASSIGN_OR_RETURN(const auto top, OpenTop(path));
  return CheckNoMountsAt(top.first.get(), path, top.second, 0);
}

absl::Status RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? absl::OkStatus() : common::ErrnoStatus(errno, absl::StrCat("lstat(", path, ")"));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return common::ErrnoStatus(errno, absl::StrCat("unlink(", path, ")"));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::pair<common::UniqueFd, Where>> top = OpenTop(path);
  if (!top.ok()) return common::Annotate(top.status(), absl::StrCat("removing ", path));
  RETURN_IF_ERROR(common::Annotate(EmptyDirAt(top->first.get(), path, top->second, 0),
                                   absl::StrCat("removing ", path)));
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
    return common::ErrnoStatus(errno, absl::StrCat("rmdir(", path, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TreeStats> WriteTree(const Manifest& manifest, absl::string_view out, bool replace) {
  TreeOptions o;
  o.replace = replace;
  return WriteTree(manifest, out, o);
}

absl::StatusOr<TreeStats> WriteTree(const Manifest& manifest, absl::string_view out_view,
                                    const TreeOptions& options) {
  const bool replace = options.replace;
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
  // The old tree is removed after the swap: refuse now, before anything is
  // written, if that would mean crossing into a mount.
  if (exists) RETURN_IF_ERROR(common::Annotate(CheckNoMounts(out), absl::StrCat("not replacing ", out)));
  std::string tmp;
  common::UniqueFd lock;
  for (int attempt = 0;; ++attempt) {
    tmp = absl::StrCat(out, kTmpInfix, "XXXXXX");
    if (::mkdtemp(tmp.data()) == nullptr) {
      const int err = errno;
      const size_t slash = out.rfind('/');
      const std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : out.substr(0, slash);
      return common::ErrnoStatus(err, absl::StrCat(out, ": cannot create it in ", parent));
    }
    if (!options.lock_tmp) break;
    lock = common::UniqueFd(::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!lock && errno == ENOENT && attempt < 8) continue;  // a reaper was quicker: see below
    if (!lock) return common::ErrnoStatus(errno, absl::StrCat("open(", tmp, ")"));
    if (::flock(lock.get(), LOCK_EX) != 0) return common::ErrnoStatus(errno, absl::StrCat("flock(", tmp, ")"));
    // A reaper may have taken the lock between mkdtemp and flock, seen an
    // unlocked leftover and removed it: then start over with a new name.
    struct stat lst;
    if (::fstat(lock.get(), &lst) != 0) return common::ErrnoStatus(errno, absl::StrCat("fstat(", tmp, ")"));
    if (lst.st_nlink > 0) break;
    if (attempt == 8) return absl::AbortedError(absl::StrCat(tmp, ": removed while being created"));
  }
  bool keep = false;
  absl::Cleanup cleanup = [&] {
    if (!keep) (void)RemoveTree(tmp);
  };
  if (::chmod(tmp.c_str(), 0755) != 0) return common::ErrnoStatus(errno, absl::StrCat("chmod(", tmp, ")"));

  TreeStats stats;
  std::vector<CopyJob> copies;
  for (const auto& [path, e] : manifest.entries()) {
    const std::string dest = tmp + path;
    switch (e.kind) {
      case Entry::Kind::kDir:
        // Owner-writable while it is filled; the real mode is set last.
        if (::mkdir(dest.c_str(), 0700) != 0) {
          return common::ErrnoStatus(errno, absl::StrCat("mkdir(", dest, ")"));
        }
        break;
      case Entry::Kind::kFile:
        copies.push_back(CopyJob{&e.source, dest, e.mode});
        break;
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
  absl::StatusOr<size_t> copied = CopyAll(copies);
  if (!copied.ok()) return common::Annotate(copied.status(), absl::StrCat("writing ", out));
  stats.bytes = *copied;
  stats.files = copies.size();
  // Children before parents, so a read-only directory is sealed last.
  for (auto it = manifest.entries().rbegin(); it != manifest.entries().rend(); ++it) {
    if (it->second.kind != Entry::Kind::kDir) continue;
    const std::string dest = tmp + it->first;
    if (::chmod(dest.c_str(), it->second.mode) != 0) {
      return common::ErrnoStatus(errno, absl::StrCat("chmod(", dest, ")"));
    }
  }
  if (!exists) {
    // RENAME_NOREPLACE: whoever created OUT meanwhile (another build of
    // the same bundle, say) keeps it, and this build says so.
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, out.c_str(), RENAME_NOREPLACE) != 0) {
      if (errno == EEXIST || errno == ENOTEMPTY) {
        return absl::AlreadyExistsError(absl::StrCat(out, " exists (use --force to replace it)"));
      }
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
