// In-memory files for tests of code that writes or reads descriptors (the
// CRI log writer, reader and pump): a memfd, and its whole contents read
// with pread (the file offset left where the code under test put it).
#pragma once

#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include <string>

namespace testing_util {

// A new memfd (close-on-exec), -1 on failure.
inline int NewMemFd(const char* name) { return ::memfd_create(name, MFD_CLOEXEC); }

inline std::string Contents(int fd) {
  std::string out;
  char buf[65536];
  off_t off = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
}

}  // namespace testing_util
