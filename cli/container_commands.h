// Shared by run_command.cc and the container and pod commands.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/args.h"
#include "runtime/state.h"
#include "sandbox/namespaces.h"
#include "sandbox/run_config.h"

namespace minipod {

// `minipod run -d`: the container under a new monitor; prints its name.
absl::StatusOr<int> RunDetachedFromArgs(const cli::ParsedArgs& args, sandbox::RunConfig config, std::string root,
                                        const sandbox::JoinedNamespaces& joined);

// Rows of cells as aligned columns (the first row is the header).
void PrintTable(const std::vector<std::vector<std::string>>& rows);

// `inspect --namespaces NAME...`: the namespace table (text or JSON).
absl::StatusOr<int> InspectNamespaces(const runtime::StateStore& store, const std::vector<std::string>& names,
                                      bool json);

}  // namespace minipod
