#include "rootfs/staging.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl/dir_stream.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"
#include "rootfs/tree_writer.h"

namespace rootfs {

namespace {

constexpr char kPrefix[] = "minipod-rootfs.";
constexpr char kLock[] = ".lock";
constexpr char kLockNew[] = ".lock-new";

// An open, locked lock file at dir/.lock: made under another name, locked,
// then renamed, so a sweeper never finds it unlocked while we live.
absl::StatusOr<int> MakeLock(const std::string& dir) {
  const std::string fresh = absl::StrCat(dir, "/", kLockNew);
  common::UniqueFd fd(::open(fresh.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("create(", fresh, ")"));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return common::ErrnoStatus(errno, absl::StrCat("flock(", fresh, ")"));
  const std::string lock = absl::StrCat(dir, "/", kLock);
  if (::rename(fresh.c_str(), lock.c_str()) != 0) {
    return common::ErrnoStatus(errno, absl::StrCat("rename(", fresh, ", ", lock, ")"));
  }
  return fd.Release();
}

}  // namespace

int Staging::SweepStale(const std::string& tmp) {
  common::UniqueFd tfd(::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!tfd) return 0;
  absl::StatusOr<common::DirStream> d = common::OpenDirStream(tfd.get(), tmp);
  if (!d.ok()) return 0;
  std::vector<std::string> stale;
  while (const struct dirent* e = ::readdir(d->get())) {
    const absl::string_view name = e->d_name;
    if (!absl::StartsWith(name, kPrefix) || name.size() != sizeof kPrefix - 1 + 6) continue;
    common::UniqueFd dfd(::openat(tfd.get(), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st;
    if (!dfd || ::fstat(dfd.get(), &st) != 0 || st.st_uid != ::geteuid() || (st.st_mode & 07777) != 0700) continue;
    common::UniqueFd lock(::openat(dfd.get(), kLock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    struct stat lst;
    if (!lock || ::fstat(lock.get(), &lst) != 0 || !S_ISREG(lst.st_mode) || lst.st_uid != ::geteuid()) continue;
    // Held: its process is alive. Ours now: it is not, and nobody else
    // will take it (a live owner never releases its lock).
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) continue;
    stale.emplace_back(name);
  }
  d->reset();
  int removed = 0;
  for (const std::string& name : stale) removed += RemoveTree(absl::StrCat(tmp, "/", name)).ok() ? 1 : 0;
  return removed;
}

absl::StatusOr<Staging> Staging::Create() {
  const char* env = ::getenv("TMPDIR");
  const std::string tmp = env != nullptr && *env != '\0' ? env : "/tmp";
  (void)SweepStale(tmp);
  std::string templ = absl::StrCat(tmp, "/", kPrefix, "XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) {
    return common::ErrnoStatus(errno, absl::StrCat("mkdtemp(", templ, ")"));
  }
  absl::StatusOr<int> lock = MakeLock(templ);
  if (!lock.ok()) {
    (void)RemoveTree(templ);
    return lock.status();
  }
  return Staging(std::move(templ), *lock);
}

Staging::Staging(Staging&& other) noexcept
    : dir_(std::move(other.dir_)), lock_fd_(other.lock_fd_), counter_(other.counter_) {
  other.dir_.clear();
  other.lock_fd_ = -1;
}

Staging::~Staging() {
  if (!dir_.empty()) (void)RemoveTree(dir_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::string Staging::NewPath(absl::string_view hint) {
  std::string name(hint.substr(hint.rfind('/') == absl::string_view::npos ? 0 : hint.rfind('/') + 1));
  if (name.empty()) name = "file";
  return absl::StrCat(dir_, "/", counter_++, "-", name);
}

absl::StatusOr<std::string> Staging::WriteFile(absl::string_view hint, absl::string_view data, mode_t mode) {
  const std::string path = NewPath(hint);
  common::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("create(", path, ")"));
  while (!data.empty()) {
    const ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return common::ErrnoStatus(errno, absl::StrCat("write(", path, ")"));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  if (::fchmod(fd.get(), mode & 07777) != 0) return common::ErrnoStatus(errno, absl::StrCat("fchmod(", path, ")"));
  return path;
}

}  // namespace rootfs
