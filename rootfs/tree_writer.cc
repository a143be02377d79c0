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

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
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
    const int err = errno;
    const size_t slash = out.rfind('/');
    const std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : out.substr(0, slash);
    return common::ErrnoStatus(err, absl::StrCat(out, ": cannot create it in ", parent));
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
  ASSIGN_OR_RETURN(stats.bytes, CopyAll(copies));
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
