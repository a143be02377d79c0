// The table of minipod subcommands, in the order `minipod --help` lists them.
#include "cli/commands.h"

namespace minipod {

std::vector<Command> RootfsCommands();
std::vector<Command> RunCommands();
std::vector<Command> ContainerCommands();
std::vector<Command> PodCommands();
std::vector<Command> VmCommands();
std::vector<Command> ImageCommands();

const std::vector<Command>& Commands() {
  static const auto* commands = [] {
    auto* all = new std::vector<Command>;
    for (Command& c : RunCommands()) all->push_back(std::move(c));
    for (Command& c : ContainerCommands()) all->push_back(std::move(c));
    for (Command& c : PodCommands()) all->push_back(std::move(c));
    for (Command& c : RootfsCommands()) all->push_back(std::move(c));
    for (Command& c : VmCommands()) all->push_back(std::move(c));
    for (Command& c : ImageCommands()) all->push_back(std::move(c));
    return all;
  }();
  return *commands;
}

}  // namespace minipod
