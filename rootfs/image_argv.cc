#include "rootfs/image_argv.h"

#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace rootfs {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

}  // namespace

absl::StatusOr<std::vector<std::string>> SplitCommand(absl::string_view cmd) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;  // a word has started, even an empty "" one
  size_t i = 0;
  while (i < cmd.size()) {
    const char c = cmd[i];
    if (c == '\0') return absl::InvalidArgumentError("a command cannot hold a NUL byte");
    if (IsBlank(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= cmd.size()) return absl::InvalidArgumentError("a backslash at the end escapes nothing");
      if (cmd[i + 1] == '\0') return absl::InvalidArgumentError("a command cannot hold a NUL byte");
      if (cmd[i + 1] != '\n') {  // a backslash-newline joins lines
        word += cmd[i + 1];
        in_word = true;
      }
      i += 2;
      continue;
    }
    if (c == '\'') {
      const size_t end = cmd.find('\'', i + 1);
      if (end == absl::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat("unbalanced single quote at offset ", i));
      }
      const absl::string_view quoted = cmd.substr(i + 1, end - i - 1);
      if (quoted.find('\0') != absl::string_view::npos) {
        return absl::InvalidArgumentError("a command cannot hold a NUL byte");
      }
      word.append(quoted.data(), quoted.size());
      in_word = true;
      i = end + 1;
      continue;
    }
    if (c == '"') {
      const size_t start = i;
      ++i;
      for (;;) {
        if (i >= cmd.size()) {
          return absl::InvalidArgumentError(absl::StrCat("unbalanced double quote at offset ", start));
        }
        const char d = cmd[i];
        if (d == '\0') return absl::InvalidArgumentError("a command cannot hold a NUL byte");
        if (d == '"') break;
        if (d == '\\' && i + 1 < cmd.size()) {
          const char e = cmd[i + 1];
          if (e == '"' || e == '\\' || e == '$' || e == '`') {
            word += e;
            i += 2;
            continue;
          }
          if (e == '\n') {
            i += 2;
            continue;
          }
        }
        word += d;
        ++i;
      }
      in_word = true;
      ++i;
      continue;
    }
    word += c;
    in_word = true;
    ++i;
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return absl::InvalidArgumentError("no command: only blanks");
  return words;
}

std::string QuoteCommand(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out += ' ';
    bool safe = !w.empty();
    for (char c : w) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && std::string_view("-_./=:,+@%").find(c) == std::string_view::npos) {
        safe = false;
      }
    }
    if (safe) {
      out += w;
      continue;
    }
    out += '\'';
    for (char c : w) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

absl::StatusOr<std::string> EncodeArgv(const std::vector<std::string>& words) {
  if (words.empty()) return absl::InvalidArgumentError("no command");
  if (words.size() > kMaxArgvWords) {
    return absl::InvalidArgumentError(
        absl::StrCat("the command has ", words.size(), " words; at most ", kMaxArgvWords, " fit"));
  }
  std::string out;
  for (const std::string& w : words) {
    if (w.find('\0') != std::string::npos) return absl::InvalidArgumentError("a command word cannot hold a NUL byte");
    out.append(w);
    out.push_back('\0');
  }
  if (out.size() > kMaxArgvBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the command takes ", out.size(), " bytes; at most ", kMaxArgvBytes, " fit"));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> DecodeArgv(absl::string_view data) {
  if (data.empty()) return absl::InvalidArgumentError("empty command file");
  if (data.size() > kMaxArgvBytes) return absl::InvalidArgumentError("command file larger than 4096 bytes");
  if (data.back() != '\0') return absl::InvalidArgumentError("command file does not end in a NUL byte");
  std::vector<std::string> words;
  size_t start = 0;
  while (start < data.size()) {
    const size_t nul = data.find('\0', start);
    words.emplace_back(data.substr(start, nul - start));
    start = nul + 1;
  }
  if (words.size() > kMaxArgvWords) return absl::InvalidArgumentError("command file holds more than 64 words");
  return words;
}

}  // namespace rootfs
