// The boot mode's reading of the kernel command line (/proc/cmdline): what
// to run (minipod.cmd=), its environment (minipod.env=K=V, repeatable), its
// working directory (minipod.workdir=) and the hostname (minipod.hostname=).
// Pure and in place, no heap; builds for musl and glibc.
//
// Quoting, in two levels:
//  1. Parameters are separated by spaces, tabs and newlines, as the kernel
//     splits them; a double quote starts or ends a quoted stretch in which
//     spaces do not separate, and is removed: minipod.cmd="sh -c 'echo hi'"
//     (the kernel itself has no escape for a double quote).
//  2. minipod.cmd's value is split into words at white space; single quotes
//     keep a stretch literal (removed, no escapes inside), a backslash
//     outside them keeps the next character literal: 'a b' and a\ b are both
//     the one word "a b". An unclosed quote runs to the end of the value.
// A later minipod.cmd replaces an earlier one; a bare "--" ends the
// parameters (what follows belongs to the init's own argv, as the kernel
// hands it over). Other parameters are ignored.
#pragma once

#include <stddef.h>

namespace init {

struct BootSpec {
  static constexpr int kMaxArgs = 64;
  static constexpr int kMaxEnv = 64;
  // NULL-terminated; argc == 0 when no minipod.cmd= (or an empty one).
  char* argv[kMaxArgs + 1] = {};
  int argc = 0;
  // "K=V" entries, NULL-terminated, in command-line order.
  char* env[kMaxEnv + 1] = {};
  int envc = 0;
  const char* workdir = nullptr;
  const char* hostname = nullptr;
  // The first problem met (too many words, an env entry without "K="), or
  // nullptr; parsing goes on past it so the rest still applies.
  const char* error = nullptr;
};

// Parses the NUL-terminated line, rewriting it in place (the strings in spec
// point into it).
void ParseKernelCmdline(char* line, BootSpec& spec);

}  // namespace init
