#include "sandbox/init_status.h"

#include <signal.h>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"

namespace sandbox {

std::optional<InitStatus> ParseInitStatusLine(absl::string_view text) {
  absl::ConsumeSuffix(&text, "\n");
  InitStatus status;
  if (absl::ConsumePrefix(&text, "exit ")) {
    status.signaled = false;
  } else if (absl::ConsumePrefix(&text, "signal ")) {
    status.signaled = true;
  } else {
    return std::nullopt;
  }
  if (text.empty() || text.size() > 3) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int n = 0;
  if (!absl::SimpleAtoi(text, &n)) return std::nullopt;
  if (status.signaled ? (n < 1 || n >= NSIG) : n > 255) return std::nullopt;
  status.value = n;
  return status;
}

}  // namespace sandbox
