// Reading a directory held as a descriptor, for the glibc side (the minipod
// tool and its libraries; never minipod-init): readdir on a copy of the
// descriptor, so the original stays usable for the *at calls.
#pragma once

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"

namespace common {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirStream = std::unique_ptr<DIR, DirCloser>;

// A stream over a duplicate of dirfd; path names it in errors.
inline absl::StatusOr<DirStream> OpenDirStream(int dirfd, const std::string& path) {
  const int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return ErrnoStatus(errno, absl::StrCat("dup(", path, ")"));
  DIR* dir = ::fdopendir(dup);
  if (dir == nullptr) {
    const int err = errno;
    ::close(dup);
    return ErrnoStatus(err, absl::StrCat("fdopendir(", path, ")"));
  }
  return DirStream(dir);
}

}  // namespace common
