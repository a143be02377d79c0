// The minipod command: finds the subcommand, parses its options, runs it,
// and turns a failed Status into one line on stderr.
#include <stdio.h>

#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "sandbox/cgroup_janitor.h"

namespace {

constexpr char kVersion[] = "0.1.0";

bool IsGroup(const std::string& word) {
  for (const minipod::Command& c : minipod::Commands()) {
    if (c.words.size() > 1 && c.words.front() == word) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  // The cgroup janitor minipod run execs (not a command: never listed).
  if (argc >= 2 && std::string(argv[1]) == sandbox::kJanitorCommand) {
    return sandbox::JanitorMain(argc - 2, argv + 2);
  }
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    fputs(minipod::CommandList("").c_str(), stderr);
    return 2;
  }
  if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    fputs(minipod::CommandList("").c_str(), stdout);
    return 0;
  }
  if (args[0] == "-V" || args[0] == "--version") {
    printf("minipod %s\n", kVersion);
    return 0;
  }
  size_t used = 0;
  const minipod::Command* command = minipod::FindCommand(args, &used);
  if (command == nullptr) {
    if (IsGroup(args[0])) {
      const bool asked = args.size() > 1 && (args[1] == "-h" || args[1] == "--help");
      if (!asked) {
        fprintf(stderr, "minipod %s: %s\n", args[0].c_str(),
                args.size() > 1 ? ("unknown command '" + args[1] + "'").c_str()
                                : "missing command");
      }
      fputs(minipod::CommandList(args[0]).c_str(), asked ? stdout : stderr);
      return asked ? 0 : 2;
    }
    fprintf(stderr, "minipod: unknown command '%s'\nRun 'minipod --help' for the commands.\n",
            args[0].c_str());
    return 2;
  }
  const std::string name = "minipod " + absl::StrJoin(command->words, " ");
  const auto parsed = minipod::cli::Parse(
      command->options, absl::MakeConstSpan(args).subspan(used), command->stop_at_operand);
  if (!parsed.ok()) {
    fprintf(stderr, "%s: %s\nTry '%s --help'.\n", name.c_str(),
            std::string(parsed.status().message()).c_str(), name.c_str());
    return command->failure_status != 0 ? command->failure_status : 2;
  }
  if (parsed->help()) {
    fputs(minipod::cli::Usage(name, command->synopsis, command->description, command->options)
              .c_str(),
          stdout);
    return 0;
  }
  const absl::StatusOr<int> status = command->run(*parsed);
  if (!status.ok()) {
    fprintf(stderr, "%s: %s\n", name.c_str(), std::string(status.status().message()).c_str());
    if (command->failure_status != 0) return command->failure_status;
    return status.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return *status;
}
