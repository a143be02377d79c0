// Fuzzes what crosses from the sandbox or the disk into minipod's output:
// minipod-init's status line (written inside the sandbox, read by the
// launcher) and file names turned into JSON (deps --json, OCI documents).
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "rootfs/json.h"
#include "sandbox/init_status.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (const auto status = sandbox::ParseInitStatusLine(text)) {
    // Only the two forms, in range.
    if (status->signaled ? (status->value < 1 || status->value >= NSIG) : (status->value < 0 || status->value > 255)) {
      __builtin_trap();
    }
  }
  // A name is a JSON string when it is UTF-8, else base64 of its bytes;
  // either way strict dumping must not throw (the build has no exceptions
  // to catch it with: a throw would abort).
  const auto j = rootfs::BytesToJson(text);
  if (rootfs::IsUtf8(text) != j.is_string()) __builtin_trap();
  (void)j.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::ordered_json::error_handler_t::strict);
  return 0;
}
