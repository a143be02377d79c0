// Fuzzes the -p value: whatever the command line (or a state file) holds,
// ParsePublish either rejects it with a one-line message naming it, or
// gives a mapping in range whose canonical -p value reads back as the same
// mapping and whose docker-style text is printable.
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <string>

#include "runtime/publish.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto m = runtime::ParsePublish(text);
  if (!m.ok()) {
    const std::string msg(m.status().message());
    if (msg.rfind("-p \"", 0) != 0 || msg.find('\n') != std::string::npos) __builtin_trap();
    return 0;
  }
  if (m->container_port == 0 || (m->family != AF_INET && m->family != AF_INET6)) __builtin_trap();
  if (m->spec != text) __builtin_trap();
  const auto again = runtime::ParsePublish(runtime::PublishSpec(*m));
  if (!again.ok() || !(*again == *m)) __builtin_trap();
  for (char c : runtime::FormatPublish(*m)) {
    if (c < 0x21 || c > 0x7e) __builtin_trap();
  }
  return 0;
}
