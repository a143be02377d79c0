// Fuzzes the kernel-module planner: the input is split on NUL into
// modules.dep, modules.alias, modules.softdep, modules.builtin and the
// module names (the rest, one per line); the plan must hold each module
// once.
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "rootfs/modules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 << 10) return 0;
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> parts = absl::StrSplit(in, absl::MaxSplits('\0', 4));
  parts.resize(5);
  std::vector<std::string> names;
  for (absl::string_view n : absl::StrSplit(parts[4], '\n')) {
    if (names.size() < 8) names.emplace_back(n);
  }
  if (names.empty() || (names.size() == 1 && names[0].empty())) names = {"a", "b_c"};
  auto plan = rootfs::PlanModules(names, parts[0], parts[1], parts[2], parts[3], "6.1.0-fuzz");
  if (plan.ok()) {
    // Each module once.
    for (size_t i = 0; i < plan->load_order.size(); ++i) {
      for (size_t j = i + 1; j < plan->load_order.size(); ++j) {
        if (plan->load_order[i] == plan->load_order[j]) __builtin_trap();
      }
    }
  }
  return 0;
}
