// Where the files shipped with this minipod are: the static minipod-init
// sits next to the minipod binary when installed, in the build tree's
// init/ when run from there.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace minipod {

// The path of minipod-init; `why` names the option that needs it in the
// error ("--init", "minipod run").
absl::StatusOr<std::string> FindInit(const std::string& why);

}  // namespace minipod
