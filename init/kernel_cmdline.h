// The boot mode's reading of the kernel command line (/proc/cmdline): what
// to run (minipod.cmd=), its environment (minipod.env=K=V, repeatable), its
// working directory (minipod.workdir=), the hostname (minipod.hostname=),
// 9p shares (minipod.share=TAG:DIR[:rw], repeatable), a 9p root
// (minipod.root=TAG), minipod.wait_all[=1|0] and minipod.term_delay=D; and
// of the image's default command, /etc/minipod/argv. Pure and in place, no
// heap; builds for musl and glibc.
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
// parameters: the words after it are the last of the init's own argv, as
// the kernel hands them over, and are only counted here. Other parameters
// are ignored.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace init {

// A 9p file system to mount: minipod.share=TAG:DIR[:rw] (DIR absolute).
struct Share {
  const char* tag = nullptr;
  char* dir = nullptr;
  bool rw = false;
};

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
  static constexpr int kMaxShares = 8;
  Share shares[kMaxShares];
  int sharec = 0;
  const char* root = nullptr;  // minipod.root=: the 9p tag of the root
  bool wait_all = false;
  int64_t term_delay_ms = 0;
  // How many words follow a bare "--" (0 without one). The kernel appends
  // them to the init's argv after the words it did not know (nokaslr, ...),
  // so they are the last init_args entries of argv.
  int init_args = 0;
  // The first problem met (too many words, an env entry without "K="), or
  // nullptr; parsing goes on past it so the rest still applies.
  const char* error = nullptr;
};

// Parses the NUL-terminated line, rewriting it in place (the strings in spec
// point into it).
void ParseKernelCmdline(char* line, BootSpec& spec);

// /etc/minipod/argv: every word followed by one NUL byte, at most kMaxArgs
// words; data[len] must be NUL. Fills spec.argv and spec.argc, or sets
// spec.error (empty, too many words, a last word without its NUL).
void ParseArgvFile(char* data, size_t len, BootSpec& spec);

}  // namespace init
