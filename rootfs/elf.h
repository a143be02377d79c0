// A bounds-checked reader for the parts of an ELF file the dynamic loader
// looks at: class, byte order, machine, PT_INTERP and the dynamic section's
// DT_NEEDED, DT_RPATH, DT_RUNPATH and DT_SONAME. Every offset, size and
// count read from the file is checked against the file's length before it
// is used, so a truncated or hostile file is an error, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace rootfs {

struct ElfInfo {
  bool is_64 = false;          // ELFCLASS64
  bool big_endian = false;     // ELFDATA2MSB
  uint16_t machine = 0;        // e_machine (EM_X86_64, EM_AARCH64, ...)
  uint8_t osabi = 0;           // e_ident[EI_OSABI]
  uint16_t type = 0;           // e_type (ET_EXEC, ET_DYN, ...)
  bool has_dynamic = false;    // a PT_DYNAMIC segment exists
  std::string interp;          // PT_INTERP without its NUL; "" if none
  std::vector<std::string> needed;  // DT_NEEDED, in order
  std::string rpath;           // DT_RPATH ("" if none); colon-separated
  std::string runpath;         // DT_RUNPATH ("" if none)
  bool has_rpath = false;
  bool has_runpath = false;
  std::string soname;          // DT_SONAME
};

// Parses an ELF image held in memory. `what` names the input in errors
// ("/usr/bin/ls: truncated program header table").
absl::StatusOr<ElfInfo> ParseElf(absl::Span<const uint8_t> image, absl::string_view what);

// Maps the file read-only and parses it. A file that does not start with
// the ELF magic is a FailedPrecondition error ("not an ELF file").
absl::StatusOr<ElfInfo> ReadElf(const std::string& path);

// True when the first bytes are "\x7fELF".
bool LooksLikeElf(absl::Span<const uint8_t> head);

// The interpreter line of a script: "#!/bin/sh -e" -> {"/bin/sh", "-e"};
// "#!/usr/bin/env python3" -> {"/usr/bin/env", "python3"}. The kernel
// reads at most 255 bytes after "#!" (BINPRM_BUF_SIZE 256) and passes the
// rest of the line as one argument; the same applies here. An empty
// interpreter is an error.
struct Shebang {
  std::string interpreter;
  std::string argument;  // "" if none
};
absl::StatusOr<Shebang> ParseShebang(absl::Span<const uint8_t> head, absl::string_view what);

}  // namespace rootfs
