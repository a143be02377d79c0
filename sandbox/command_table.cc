// The table of minipod subcommands.
#include "sandbox/commands.h"

namespace minipod {

const std::vector<Command>& Commands() {
  static const auto* commands = new std::vector<Command>{};
  return *commands;
}

}  // namespace minipod
