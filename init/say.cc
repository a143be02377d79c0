// Say(): personality-specific message prefixes over common/log.h's writer.
// Runs in the init and, before execve, in its child. No heap.
#include "init/say.h"

#include <stdarg.h>
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

struct ErrorName {
  int err;
  const char* text;
};

constexpr ErrorName kErrors[] = {
    {EPERM, "Operation not permitted"},
    {ENOENT, "No such file or directory"},
    {ESRCH, "No such process"},
    {EINTR, "Interrupted system call"},
    {EIO, "I/O error"},
    {E2BIG, "Argument list too long"},
    {ENOEXEC, "Exec format error"},
    {EBADF, "Bad file descriptor"},
    {ECHILD, "No child process"},
    {EAGAIN, "Resource temporarily unavailable"},
    {ENOMEM, "Out of memory"},
    {EACCES, "Permission denied"},
    {EFAULT, "Bad address"},
    {ENOTDIR, "Not a directory"},
    {EISDIR, "Is a directory"},
    {EINVAL, "Invalid argument"},
    {EMFILE, "No file descriptors available"},
    {ENOTTY, "Not a tty"},
    {ETXTBSY, "Text file busy"},
    {ENAMETOOLONG, "Filename too long"},
    {ENOSYS, "Function not implemented"},
    {ELOOP, "Symbolic link loop"},
    {ELIBBAD, "Accessing a corrupted shared library"},
};

}  // namespace

const char* ErrorText(int err) {
  for (const ErrorName& e : kErrors) {
    if (e.err == err) return e.text;
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
  common::g_log.threshold =
      static_cast<common::Level>(config.verbosity > 3 ? 3 : config.verbosity < 0 ? 0 : config.verbosity);
}

void Say(common::Level level, const char* fmt, ...) {
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
      f.Printf("%s %s (%d): ", common::g_log.name, TiniLevel(level), pid);
      break;
    case MessageStyle::kPause:
      break;
  }
  va_list ap;
  va_start(ap, fmt);
  f.VPrintf(fmt, ap);
  va_end(ap);
  size_t len = f.size();
  buf[len++] = '\n';
  common::WriteAll(STDERR_FILENO, buf, len);
  errno = saved_errno;
}

}  // namespace init
