// A getopt_long work-alike that needs no heap and no global state, so every
// personality can reproduce its tool's parsing exactly: GNU permutation
// (tini, catatonit) or stopping at the first operand (dumb-init, minipod),
// option clusters, attached and detached arguments, unique long prefixes,
// and glibc's error messages. Pure; builds for musl and glibc.
#pragma once

#include <stddef.h>

#include "common/format.h"

namespace init {

struct LongOption {
  const char* name;  // without the leading "--"
  bool has_arg;
  int id;            // returned by Next()
};

class OptionScanner {
 public:
  static constexpr int kEnd = -1;
  static constexpr int kError = -2;

  // shortopts lists option characters, each followed by ':' when it takes an
  // argument (no leading '+': pass permute instead). argv is rewritten in
  // place as options are consumed: operands are compacted, in order, to the
  // front (see Operands()).
  OptionScanner(int argc, char** argv, const char* shortopts,
                const LongOption* longopts, size_t nlong, bool permute)
      : argc_(argc), argv_(argv), shortopts_(shortopts), longopts_(longopts),
        nlong_(nlong), permute_(permute) {}

  // Returns the next option's character (short) or id (long), kEnd when the
  // options are over, or kError after writing glibc's diagnostic to err.
  int Next(common::Formatter& err);

  // The option argument of the last option returned, or nullptr.
  const char* arg() const { return arg_; }
  // The option character that caused the last kError (0 for a long option).
  char error_option() const { return error_option_; }

  // After kEnd: the operands in their original order, NULL-terminated,
  // stored in argv[1..]. Valid until argv is modified again.
  char** Operands() const { return argv_ + 1; }
  int OperandCount() const { return out_ - 1; }

 private:
  int ShortOption(common::Formatter& err);
  int LongOpt(const char* body, common::Formatter& err);
  void FinishOperands(int from);
  const char* FindShort(char c) const;

  int argc_;
  char** argv_;
  const char* shortopts_;
  const LongOption* longopts_;
  size_t nlong_;
  bool permute_;

  int next_ = 1;        // index of the next argv element to scan
  int out_ = 1;         // where the next operand is compacted to
  const char* cluster_ = nullptr;  // rest of a short-option cluster
  const char* arg_ = nullptr;
  char error_option_ = 0;
  bool done_ = false;
};

}  // namespace init
