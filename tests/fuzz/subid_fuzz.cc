// Fuzzes the text --userns reads: /etc/subuid and /etc/subgid (written by
// any admin tool), /etc/passwd for the uid of the subordinate ids' owner,
// and the allocation record in the runtime directory, with
// the block arithmetic on what they give. Every range kept stays below
// (uid_t)-1, every block lies inside a range, a chosen block overlaps no
// used one, and a record survives formatting and parsing again.
#include <stddef.h>
#include <stdint.h>

#include <optional>
#include <string>
#include <vector>

#include "sandbox/userns.h"

namespace {

bool Inside(uint32_t start, const std::vector<sandbox::SubIdRange>& ranges) {
  for (const sandbox::SubIdRange& r : ranges) {
    if (start >= r.start && uint64_t{start} + sandbox::kBlockSize <= uint64_t{r.start} + r.count) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The first half as subuid, the second as subgid; the whole as a record.
  const sandbox::SubIdFile uids = sandbox::ParseSubIds(text.substr(0, size / 2));
  const sandbox::SubIdFile gids = sandbox::ParseSubIds(text.substr(size / 2));
  for (const sandbox::SubIdFile* f : {&uids, &gids}) {
    for (const sandbox::SubIdRange& r : f->ranges) {
      if (r.owner.empty() || r.count == 0 || uint64_t{r.start} + r.count > 0xFFFFFFFFull) __builtin_trap();
    }
  }
  // The whole as /etc/passwd: an owner's uid is never (uid_t)-1.
  const std::optional<uid_t> owner = sandbox::UidInPasswd(text, "minipod");
  if (owner.has_value() && *owner == static_cast<uid_t>(-1)) __builtin_trap();
  const std::vector<sandbox::SubIdRange> u = sandbox::RangesOf(uids, "minipod", owner.value_or(997));
  const std::vector<sandbox::SubIdRange> g = sandbox::RangesOf(gids, "minipod", owner.value_or(997));
  const std::vector<sandbox::IdBlock> blocks = sandbox::BlocksOf(u, g);
  for (const sandbox::IdBlock& b : blocks) {
    if (!Inside(b.uid_start, u) || !Inside(b.gid_start, g)) __builtin_trap();
  }
  const std::vector<sandbox::BlockRecord> records = sandbox::ParseBlockRecords(text);
  std::vector<sandbox::IdBlock> used;
  for (const sandbox::BlockRecord& r : records) {
    if (r.holders.empty()) __builtin_trap();
    used.push_back(r.block);
  }
  if (const auto chosen = sandbox::ChooseFreeBlock(blocks, used)) {
    for (const sandbox::IdBlock& b : used) {
      if ((chosen->uid_start < uint64_t{b.uid_start} + sandbox::kBlockSize &&
           b.uid_start < uint64_t{chosen->uid_start} + sandbox::kBlockSize) ||
          (chosen->gid_start < uint64_t{b.gid_start} + sandbox::kBlockSize &&
           b.gid_start < uint64_t{chosen->gid_start} + sandbox::kBlockSize)) {
        __builtin_trap();
      }
    }
  }
  const std::string again = sandbox::FormatBlockRecords(records);
  if (sandbox::FormatBlockRecords(sandbox::ParseBlockRecords(again)) != again) __builtin_trap();
  return 0;
}
