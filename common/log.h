// Log levels, the program's name for message prefixes, and the
// write-everything helper: the pieces minipod-init's Say() (init/say.cc)
// formats its "name[pid]: LEVEL: " lines with. libc only, no heap.
#pragma once

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

namespace common {

enum class Level : uint8_t { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

struct LogSettings {
  const char* name = "minipod";
};

// Process-wide settings; constant-initialized, so no guard or constructor.
inline LogSettings g_log;

constexpr const char* LevelName(Level level) {
  switch (level) {
    case Level::kError:
      return "ERROR";
    case Level::kWarn:
      return "WARN";
    case Level::kInfo:
      return "INFO";
    case Level::kDebug:
      return "DEBUG";
  }
  return "?";
}

// Writes all of buf to fd, retrying on EINTR and short writes; a line
// shorter than PIPE_BUF leaves in one write(2).
inline void WriteAll(int fd, const char* buf, size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    buf += n;
    len -= static_cast<size_t>(n);
  }
}

}  // namespace common
