// `minipod pod create/ps/rm/inspect` and `inspect --namespaces`.
#include "cli/container_commands.h"
#include "cli/commands.h"

namespace minipod {

absl::StatusOr<int> InspectNamespaces(const runtime::StateStore&, const std::vector<std::string>&, bool) {
  return absl::UnimplementedError("inspect --namespaces: not yet");
}

}  // namespace minipod
