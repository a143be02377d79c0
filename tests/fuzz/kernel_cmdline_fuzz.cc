// Fuzzes boot mode's kernel command line parser and its reader of
// /etc/minipod/argv (init/kernel_cmdline.h): every string they hand back
// lies inside the input, and the lists stay within their bounds and
// NULL-terminated.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <string>

#include "init/kernel_cmdline.h"

namespace {

bool Inside(const char* p, const std::string& buf) {
  return p >= buf.data() && p + strlen(p) < buf.data() + buf.size() + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;
  std::string buf(reinterpret_cast<const char*>(data), size);
  buf.resize(strlen(buf.c_str()));  // the line ends at its first NUL
  init::BootSpec spec;
  init::ParseKernelCmdline(buf.data(), spec);
  if (spec.argc < 0 || spec.argc > init::BootSpec::kMaxArgs) __builtin_trap();
  if (spec.envc < 0 || spec.envc > init::BootSpec::kMaxEnv) __builtin_trap();
  if (spec.argv[spec.argc] != nullptr || spec.env[spec.envc] != nullptr) __builtin_trap();
  for (int i = 0; i < spec.argc; ++i) {
    if (!Inside(spec.argv[i], buf)) __builtin_trap();
  }
  for (int i = 0; i < spec.envc; ++i) {
    if (!Inside(spec.env[i], buf) || strchr(spec.env[i], '=') == nullptr) __builtin_trap();
  }
  if (spec.workdir != nullptr && !Inside(spec.workdir, buf)) __builtin_trap();
  if (spec.hostname != nullptr && !Inside(spec.hostname, buf)) __builtin_trap();
  if (spec.root != nullptr && !Inside(spec.root, buf)) __builtin_trap();
  if (spec.sharec < 0 || spec.sharec > init::BootSpec::kMaxShares) __builtin_trap();
  for (int i = 0; i < spec.sharec; ++i) {
    if (!Inside(spec.shares[i].tag, buf) || !Inside(spec.shares[i].dir, buf)) __builtin_trap();
    if (spec.shares[i].dir[0] != '/') __builtin_trap();
  }
  if (spec.term_delay_ms < 0) __builtin_trap();

  // The same bytes as /etc/minipod/argv (NULs and all, plus the NUL the
  // reader appends).
  std::string file(reinterpret_cast<const char*>(data), size);
  init::BootSpec from_file;
  init::ParseArgvFile(file.data(), size, from_file);
  if (from_file.argc < 0 || from_file.argc > init::BootSpec::kMaxArgs) __builtin_trap();
  if (from_file.argv[from_file.argc] != nullptr) __builtin_trap();
  for (int i = 0; i < from_file.argc; ++i) {
    if (!Inside(from_file.argv[i], file)) __builtin_trap();
  }
  return 0;
}
