// The minipod command line: options described by a table, parsed into a
// ParsedArgs, and --help text generated from the same table, so the two
// cannot drift apart. Pure: no I/O, unit-tested and fuzzed.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace minipod::cli {

enum class ArgKind {
  kFlag,   // --force
  kValue,  // --output OUT (the last one wins)
  kList,   // --add SRC (repeatable; every value kept, in order)
};

struct OptionSpec {
  absl::string_view long_name;   // without "--"
  char short_name;               // 0 when none
  ArgKind kind;
  absl::string_view value_name;  // "OUT", shown in --help
  absl::string_view help;
};

class ParsedArgs {
 public:
  bool Has(absl::string_view long_name) const;
  // The last value given, or fallback.
  std::string Value(absl::string_view long_name, absl::string_view fallback = "") const;
  // Every value given, in command-line order.
  const std::vector<std::string>& Values(absl::string_view long_name) const;
  // Every option with a value (kValue and kList), as (long name, value), in
  // command-line order across options: for options whose relative order
  // matters (run's --bind and --tmpfs stack in the order given).
  const std::vector<std::pair<std::string, std::string>>& ordered() const { return ordered_; }
  const std::vector<std::string>& operands() const { return operands_; }
  bool help() const { return help_; }

 private:
  friend absl::StatusOr<ParsedArgs> Parse(absl::Span<const OptionSpec>,
                                          absl::Span<const std::string>, bool);
  absl::flat_hash_map<std::string, std::vector<std::string>> values_;
  std::vector<std::pair<std::string, std::string>> ordered_;
  std::vector<std::string> operands_;
  bool help_ = false;
};

// Parses args (without the program and subcommand words). Accepts
// "--name=VALUE", "--name VALUE", "-n VALUE", "-nVALUE", grouped short flags
// ("-fs"), operands anywhere, and "--" to end options. "-h"/"--help" set
// help() and stop parsing. Long names must match exactly: a later option
// cannot change what an abbreviation used to mean. Errors name the option
// and the reason. With stop_at_operand, the first operand and everything
// after it are operands (a command and its own options).
absl::StatusOr<ParsedArgs> Parse(absl::Span<const OptionSpec> specs,
                                 absl::Span<const std::string> args, bool stop_at_operand = false);

// "Usage: minipod rootfs deps [OPTIONS] BIN...", the description, then one
// line per option with its help, aligned.
std::string Usage(absl::string_view command, absl::string_view synopsis,
                  absl::string_view description, absl::Span<const OptionSpec> specs);

}  // namespace minipod::cli
