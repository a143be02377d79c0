// The minipod subcommands: each is a table entry with its words ("rootfs",
// "deps"), its options and a handler; main.cc finds the entry, parses the
// rest of the command line against its options and prints the outcome.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "cli/args.h"

namespace minipod {

struct Command {
  std::vector<absl::string_view> words;  // {"rootfs", "deps"}
  absl::string_view synopsis;            // "[OPTIONS] BIN..."
  absl::string_view summary;             // one line, for the command list
  absl::string_view description;         // the --help paragraph
  std::vector<cli::OptionSpec> options;
  // Returns the exit status; an error Status is printed by main as one line
  // and exits 1 (2 for InvalidArgument: a usage error).
  std::function<absl::StatusOr<int>(const cli::ParsedArgs&)> run;
  // Options end at the first operand (which starts a command line).
  bool stop_at_operand = false;
  // Exit status for a usage error or a failed Status; 0: 2 and 1 as above.
  // `run` uses 125, the container convention for the launcher's own failure.
  int failure_status = 0;
};

// Every subcommand, in the order `minipod --help` lists them.
const std::vector<Command>& Commands();

// The command whose words prefix args, and how many words it used; nullptr
// when none matches.
const Command* FindCommand(absl::Span<const std::string> args, size_t* words_used);

// `minipod --help`, or the list under a group word ("minipod rootfs").
std::string CommandList(absl::string_view group);

}  // namespace minipod
