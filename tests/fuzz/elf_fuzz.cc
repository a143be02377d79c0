// Fuzzes the ELF reader and the #! line parser with the same bytes, in
// memory (no file I/O), and traps when a success breaks what callers rely
// on: names without NUL bytes, a non-empty interpreter.
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "rootfs/elf.h"

namespace {

bool HasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::Span<const uint8_t> bytes(data, size);
  (void)rootfs::LooksLikeElf(bytes);
  absl::StatusOr<rootfs::ElfInfo> elf = rootfs::ParseElf(bytes, "fuzz");
  if (elf.ok()) {
    if (HasNul(elf->interp) || elf->interp.size() > 4096) __builtin_trap();
    for (const std::string& n : elf->needed) {
      if (n.empty() || HasNul(n)) __builtin_trap();
    }
    if (HasNul(elf->soname) || HasNul(elf->rpath) || HasNul(elf->runpath)) __builtin_trap();
    if (!elf->has_dynamic && (!elf->needed.empty() || elf->has_rpath || elf->has_runpath)) {
      __builtin_trap();
    }
  }
  absl::StatusOr<rootfs::Shebang> script = rootfs::ParseShebang(bytes, "fuzz");
  if (script.ok()) {
    const std::string& i = script->interpreter;
    if (i.empty() || i.find_first_of(std::string(" \t\n\0", 4)) != std::string::npos) {
      __builtin_trap();
    }
    const std::string& a = script->argument;
    if (HasNul(a) || a.find('\n') != std::string::npos) __builtin_trap();
    if (!a.empty() && (a[0] == ' ' || a[0] == '\t')) __builtin_trap();
    if (i.size() + a.size() > 253) __builtin_trap();  // both inside buf[2..254]
  }
  return 0;
}
