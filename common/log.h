// The one logging function of minipod-init and the minipod tools. Each line
// is formatted into a stack buffer and leaves in a single write(2), prefixed
// "name[pid]: LEVEL: ", and errno is preserved across the call.
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <unistd.h>

#include "common/format.h"

namespace common {

enum class Level : uint8_t { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

struct LogSettings {
  const char* name = "minipod";
  Level threshold = Level::kWarn;
  int fd = STDERR_FILENO;
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

inline bool LogEnabled(Level level) {
  return static_cast<uint8_t>(level) <= static_cast<uint8_t>(g_log.threshold);
}

// Writes all of buf to fd, retrying on EINTR and short writes.
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

inline void VLogf(Level level, const char* fmt, va_list ap) {
  if (!LogEnabled(level)) return;
  const int saved_errno = errno;
  char buf[1024];
  Formatter f(buf, sizeof buf);
  f.Printf("%s[%d]: %s: ", g_log.name, static_cast<int>(::getpid()),
           LevelName(level));
  f.VPrintf(fmt, ap);
  if (f.truncated()) {
    // Keep the line a line: replace the tail with a marker and a newline.
    Formatter tail(buf + sizeof buf - 5, 5);
    tail.Str("...\n");
    WriteAll(g_log.fd, buf, sizeof buf - 1);
  } else {
    f.Str("\n");
    WriteAll(g_log.fd, f.data(), f.size());
  }
  errno = saved_errno;
}

inline void Logf(Level level, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
inline void Logf(Level level, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  VLogf(level, fmt, ap);
  va_end(ap);
}

}  // namespace common
