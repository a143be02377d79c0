// Where the files shipped with this minipod are: the static minipod-init
// sits next to the minipod binary when installed, in the build tree's
// init/ when run from there.
#pragma once

#include <errno.h>
#include <unistd.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"

namespace minipod {

// The path of minipod-init; `why` names the option that needs it in the
// error ("--init", "minipod run").
inline absl::StatusOr<std::string> FindInit(const std::string& why) {
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0) return common::ErrnoStatus(errno, "readlink(/proc/self/exe)");
  self[n] = '\0';
  std::string dir(self);
  dir.resize(dir.rfind('/'));
  for (const std::string& candidate :
       {dir + "/minipod-init", dir + "/../init/minipod-init", dir + "/../lib/minipod/minipod-init"}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::NotFoundError(absl::StrCat("minipod-init not found next to ", self, " (needed by ", why, ")"));
}

}  // namespace minipod
