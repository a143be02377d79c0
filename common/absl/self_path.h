// Where the files shipped with this minipod are: the static minipod-init
// and minipod-monitor sit next to the minipod binary when installed, in
// the build tree's init/ and monitor/ when run from there. Only the
// directory of /proc/self/exe is looked in, never $PATH.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"

namespace minipod {

// The directory of the running binary (/proc/self/exe's), and that path.
inline absl::Status SelfDir(std::string* dir, std::string* self) {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0) return common::ErrnoStatus(errno, "readlink(/proc/self/exe)");
  self->assign(buf, static_cast<size_t>(n));
  *dir = self->substr(0, self->rfind('/'));
  return absl::OkStatus();
}

// The path of minipod-init; `why` names the option that needs it in the
// error ("--init", "minipod run").
inline absl::StatusOr<std::string> FindInit(const std::string& why) {
  std::string dir, self;
  RETURN_IF_ERROR(SelfDir(&dir, &self));
  for (const std::string& candidate :
       {dir + "/minipod-init", dir + "/../init/minipod-init", dir + "/../lib/minipod/minipod-init"}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::NotFoundError(absl::StrCat("minipod-init not found next to ", self, " (needed by ", why, ")"));
}

// minipod-monitor, opened (O_PATH) by that trusted path for execveat: the
// file checked here is the one that runs. *path gets where it was found.
inline absl::StatusOr<common::UniqueFd> OpenMonitor(std::string* path) {
  std::string dir, self;
  RETURN_IF_ERROR(SelfDir(&dir, &self));
  for (const std::string& candidate :
       {dir + "/minipod-monitor", dir + "/../monitor/minipod-monitor", dir + "/../lib/minipod/minipod-monitor"}) {
    common::UniqueFd fd(::open(candidate.c_str(), O_PATH | O_CLOEXEC));
    if (!fd) continue;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        ::faccessat(fd.get(), "", X_OK, AT_EACCESS | AT_EMPTY_PATH) != 0) {
      continue;
    }
    *path = candidate;
    return fd;
  }
  return absl::NotFoundError(absl::StrCat("minipod-monitor not found next to ", self,
                                          " (it watches every detached container; reinstall minipod)"));
}

}  // namespace minipod
