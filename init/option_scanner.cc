// OptionScanner: getopt_long semantics without heap or globals.
// Pure; builds for musl and glibc.
#include "init/option_scanner.h"

#include <string.h>

#include "init/texts.h"

namespace init {

const char* OptionScanner::FindShort(char c) const {
  if (c == ':' || c == '\0') return nullptr;
  for (const char* p = shortopts_; *p != '\0'; ++p) {
    if (*p == c) return p;
  }
  return nullptr;
}

void OptionScanner::FinishOperands(int from) {
  for (int i = from; i < argc_; ++i) argv_[out_++] = argv_[i];
  argv_[out_] = nullptr;
  next_ = argc_;
  done_ = true;
}

int OptionScanner::Next(common::Formatter& err) {
  arg_ = nullptr;
  error_option_ = 0;
  if (done_) return kEnd;
  if (cluster_ != nullptr && *cluster_ != '\0') return ShortOption(err);
  cluster_ = nullptr;
  while (next_ < argc_) {
    char* a = argv_[next_];
    if (strcmp(a, "--") == 0) {
      FinishOperands(next_ + 1);
      return kEnd;
    }
    if (a[0] == '-' && a[1] != '\0') {
      ++next_;
      if (a[1] == '-' && nlong_ > 0) return LongOpt(a + 2, err);
      cluster_ = a + 1;
      return ShortOption(err);
    }
    // An operand: "-" alone counts as one too.
    if (!permute_) {
      FinishOperands(next_);
      return kEnd;
    }
    argv_[out_++] = a;
    ++next_;
  }
  FinishOperands(argc_);
  return kEnd;
}

int OptionScanner::ShortOption(common::Formatter& err) {
  const char c = *cluster_++;
  const char* spec = FindShort(c);
  if (spec == nullptr) {
    error_option_ = c;
    PrintText(err, Text::kInvalidOption, argv_[0], c);
    return kError;
  }
  if (spec[1] != ':') return c;
  if (*cluster_ != '\0') {
    arg_ = cluster_;  // "-p15"
  } else if (next_ < argc_) {
    arg_ = argv_[next_++];  // "-p 15", even when it starts with '-'
  } else {
    error_option_ = c;
    PrintText(err, Text::kOptionNeedsArgument, argv_[0], c);
    cluster_ = nullptr;
    return kError;
  }
  cluster_ = nullptr;
  return c;
}

int OptionScanner::LongOpt(const char* body, common::Formatter& err) {
  const char* eq = common::FindChar(body, '=');
  const size_t len = eq != nullptr ? static_cast<size_t>(eq - body) : strlen(body);
  const LongOption* match = nullptr;
  bool ambiguous = false;
  for (size_t i = 0; i < nlong_; ++i) {
    const LongOption& o = longopts_[i];
    if (strncmp(o.name, body, len) != 0) continue;
    if (strlen(o.name) == len) {  // exact match wins over prefixes
      match = &o;
      ambiguous = false;
      break;
    }
    if (match != nullptr && match->id != o.id) ambiguous = true;
    if (match == nullptr) match = &o;
  }
  if (ambiguous) {
    // glibc lists every candidate.
    PrintText(err, Text::kOptionIsAmbiguousPossibilities, argv_[0],
               static_cast<int>(len), body);
    for (size_t i = 0; i < nlong_; ++i) {
      if (strncmp(longopts_[i].name, body, len) == 0) err.Printf(" '--%s'", longopts_[i].name);
    }
    err.Str("\n");
    return kError;
  }
  if (match == nullptr) {
    PrintText(err, Text::kUnrecognizedOption, argv_[0], body);
    return kError;
  }
  if (!match->has_arg) {
    if (eq != nullptr) {
      PrintText(err, Text::kOptionNoArgument, argv_[0], match->name);
      return kError;
    }
    return match->id;
  }
  if (eq != nullptr) {
    arg_ = eq + 1;
  } else if (next_ < argc_) {
    arg_ = argv_[next_++];
  } else {
    PrintText(err, Text::kLongOptionNeedsArgument, argv_[0], match->name);
    return kError;
  }
  return match->id;
}

}  // namespace init
