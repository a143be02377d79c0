// The line minipod-init writes on its --status-fd when the command ends,
// which the launcher reads to tell a signal from an exit status of 128+N.
// Pure; the text comes from inside the sandbox, so it is parsed strictly.
#pragma once

#include <optional>

#include "absl/strings/string_view.h"

namespace sandbox {

// "exit N\n" (0-255) or "signal N\n" (1 to NSIG-1), the newline optional;
// nullopt for anything else.
struct InitStatus {
  bool signaled = false;
  int value = 0;
};
std::optional<InitStatus> ParseInitStatusLine(absl::string_view text);

}  // namespace sandbox
