#include "cli/commands.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace minipod {

const Command* FindCommand(absl::Span<const std::string> args, size_t* words_used) {
  const Command* best = nullptr;
  for (const Command& c : Commands()) {
    if (c.words.size() > args.size()) continue;
    if (!std::equal(c.words.begin(), c.words.end(), args.begin())) continue;
    if (best == nullptr || c.words.size() > best->words.size()) best = &c;
  }
  if (best != nullptr) *words_used = best->words.size();
  return best;
}

std::string CommandList(absl::string_view group) {
  std::string out = absl::StrCat("Usage: minipod ", group.empty() ? "" : absl::StrCat(group, " "),
                                 "COMMAND [OPTIONS] [ARGS]\n\nCommands:\n");
  size_t width = 0;
  std::vector<std::pair<std::string, absl::string_view>> rows;
  for (const Command& c : Commands()) {
    if (!group.empty() && c.words.front() != group) continue;
    rows.emplace_back(absl::StrJoin(c.words, " "), c.summary);
    width = std::max(width, rows.back().first.size());
  }
  for (const auto& [name, summary] : rows) {
    absl::StrAppend(&out, "  ", name, std::string(width - name.size() + 2, ' '), summary, "\n");
  }
  absl::StrAppend(&out, "\nRun 'minipod COMMAND --help' for a command's options.\n");
  return out;
}

}  // namespace minipod
