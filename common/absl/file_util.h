// Reading a whole small file into a string, for the glibc side (the minipod
// tool and its libraries; never minipod-init).
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"

namespace common {

// The file's bytes; more than limit bytes is an error (configuration and
// index files are small; a huge one is a mistake, not something to load).
inline absl::StatusOr<std::string> ReadFileToString(const std::string& path, size_t limit = 64 << 20) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  std::string data;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat("read(", path, ")"));
    }
    if (n == 0) return data;
    if (data.size() + static_cast<size_t>(n) > limit) {
      return absl::ResourceExhaustedError(absl::StrCat(path, ": larger than ", limit, " bytes"));
    }
    data.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace common
