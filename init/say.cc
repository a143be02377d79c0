// Say(): personality-specific message prefixes over common/log.h's writer.
// Runs in the init and, before execve, in its child. No heap.
#include "init/say.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

namespace init {
namespace {

MessageStyle g_style = MessageStyle::kMinipod;
int g_verbosity = 1;

const char* TiniLevel(common::Level level) {
  switch (level) {
    case common::Level::kError:
      return "FATAL";
    case common::Level::kWarn:
      return "WARN ";
    case common::Level::kInfo:
      return "INFO ";
    case common::Level::kDebug:
      return "DEBUG";
  }
  return "?";
}

// "<errno byte><text>\0" records: the errors an init can meet, in strerror's
// words, without libc's whole table.
constexpr char kErrorTable[] =
    "\001Operation not permitted\0\002No such file or directory\0\003No such process\0"
    "\007Argument list too long\0\010Exec format error\0"
    "\013Resource temporarily unavailable\0\014Out of memory\0\015Permission denied\0"
    "\024Not a directory\0\025Is a directory\0\026Invalid argument\0"
    "\032Text file busy\0\044Filename too long\0\046Function not implemented\0"
    "\050Symbolic link loop\0\120Accessing a corrupted shared library\0";
static_assert(EPERM == 1 && ENOENT == 2 && ESRCH == 3 && E2BIG == 7 && ENOEXEC == 8 &&
              EAGAIN == 11 && ENOMEM == 12 && EACCES == 13 && ENOTDIR == 20 &&
              EISDIR == 21 && EINVAL == 22 && ETXTBSY == 26 && ENAMETOOLONG == 36 &&
              ENOSYS == 38 && ELOOP == 40 &&
              ELIBBAD == 80, "kErrorTable assumes Linux errno values");

}  // namespace

const char* ErrorText(int err) {
  for (const char* p = kErrorTable; p < kErrorTable + sizeof kErrorTable - 1;
       p += strlen(p) + 1) {
    if (static_cast<unsigned char>(*p) == err) return p + 1;
  }
  static char buf[24];
  common::Formatter f(buf, sizeof buf);
  f.Printf("errno %d", err);
  return buf;
}

void ConfigureSay(const Config& config) {
  g_style = config.style;
  g_verbosity = config.verbosity;
  common::g_log.name = config.program_name;
}

void Say(common::Level level, Text fmt, ...) {
  if (level != common::Level::kError && static_cast<int>(level) > g_verbosity) return;
  const int saved_errno = errno;
  char buf[1024];
  common::Formatter f(buf, sizeof buf - 1);  // room for the newline
  const int pid = static_cast<int>(::getpid());
  switch (g_style) {
    case MessageStyle::kMinipod:
      f.Printf("%s[%d]: %s: ", common::g_log.name, pid, common::LevelName(level));
      break;
    case MessageStyle::kTini:
      f.Printf("[%s %s (%d)] ", TiniLevel(level), common::g_log.name, pid);
      break;
    case MessageStyle::kDumbInit:
      f.Str("[dumb-init] ");
      break;
    case MessageStyle::kCatatonit:
      f.Printf("%s (%s:%d): ", common::LevelName(level), common::g_log.name, pid);
      break;
    case MessageStyle::kPause:
      break;
  }
  va_list ap;
  va_start(ap, fmt);
  f.VPrintf(GetText(fmt), ap);
  va_end(ap);
  size_t len = f.size();
  buf[len++] = '\n';
  // tini writes INFO and more verbose lines to stdout.
  const bool to_stdout = g_style == MessageStyle::kTini && level > common::Level::kWarn;
  common::WriteAll(to_stdout ? STDOUT_FILENO : STDERR_FILENO, buf, len);
  errno = saved_errno;
}

}  // namespace init
