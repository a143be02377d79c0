// The image's default command, /etc/minipod/argv: each word followed by one
// NUL byte, at most 4096 bytes and 64 words (minipod-init reads it in boot
// mode), and the shell-like splitter behind `minipod image build --cmd`.
// Pure: no I/O; unit-tested and fuzzed.
#pragma once

#include <stddef.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rootfs {

inline constexpr absl::string_view kArgvPath = "/etc/minipod/argv";
inline constexpr size_t kMaxArgvBytes = 4096;
inline constexpr size_t kMaxArgvWords = 64;

// Splits cmd into words as a POSIX shell does, without expansions or
// operators: blanks (space, tab, newline) separate words; '...' is literal;
// in "..." a backslash escapes only ", \, $, ` and a newline (removed), and
// stays a backslash before anything else; outside quotes a backslash keeps
// the next character literal (a backslash-newline is removed). Quotes next
// to text join it ("a"'b'c is one word abc) and "" is an empty word.
// An unbalanced quote, a trailing backslash, a NUL byte or no word at all
// is InvalidArgument.
absl::StatusOr<std::vector<std::string>> SplitCommand(absl::string_view cmd);

// The words as one --cmd that SplitCommand gives back: a word of only safe
// characters as it is, any other in single quotes (a ' as '\''), "" as ''.
std::string QuoteCommand(const std::vector<std::string>& words);

// The file's bytes: "sh\0-c\0echo hi\0". No words, a word with a NUL byte,
// more than kMaxArgvWords words or kMaxArgvBytes bytes is InvalidArgument.
absl::StatusOr<std::string> EncodeArgv(const std::vector<std::string>& words);

// The words back from the file's bytes (every word NUL-terminated, within
// the limits); for `image inspect` and tests.
absl::StatusOr<std::vector<std::string>> DecodeArgv(absl::string_view data);

}  // namespace rootfs
