// Fuzzes the state-file reader: state.json is read back by every ps, exec,
// stop and rm, and a truncated or hostile one must be an error, never a
// crash. Every state the reader accepts must survive writing and reading
// again unchanged (compared through its serialization), so nothing the
// store writes is ever refused by the store.
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "absl/strings/string_view.h"
#include "runtime/state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<runtime::ContainerState> state = runtime::ParseState(text);
  if (!state.ok()) return 0;
  // What the reader promises about an accepted state.
  if (!runtime::CheckName(state->name).ok()) __builtin_trap();
  if (state->status != "created" && state->status != "running" && state->status != "exited") __builtin_trap();
  if (state->monitor.pid < 0 || state->init.pid < 0) __builtin_trap();
  const std::string once = runtime::SerializeState(*state);
  const absl::StatusOr<runtime::ContainerState> again = runtime::ParseState(once);
  if (!again.ok()) __builtin_trap();
  if (runtime::SerializeState(*again) != once) __builtin_trap();
  return 0;
}
