// libFuzzer target: Docker-format seccomp profiles (JSON) compiled with
// libseccomp; nothing is installed.
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "sandbox/seccomp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65536) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto program = sandbox::CompileDockerProfile(text, "fuzz.json", size > 0 ? data[0] * 0x0101010101ULL : 0);
  // A compiled program is a whole number of BPF instructions, never absurdly long.
  if (program.ok() && program->filter.size() > 1000000) __builtin_trap();
  return 0;
}
