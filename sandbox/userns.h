// User namespaces for `minipod run --userns auto|keep-id` as root: the
// subordinate id ranges of /etc/subuid and /etc/subgid (parsed, pure), the
// 65536-id blocks a container may get and the choice of a free one (pure),
// the allocation record in the runtime directory (flock, write by rename,
// owners by pid and start time), the id maps, and a user namespace made up
// front by a throwaway process for id-mapped mounts. Parent side only
// (fork, unshare, open, flock, rename); nothing here runs in the child.
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"
#include "sandbox/run_config.h"

namespace sandbox {

// The owner name of minipod's own entry in /etc/subuid and /etc/subgid
// (scripts/setup writes it; no such user needs to exist).
inline constexpr char kSubIdOwner[] = "minipod";
// A container's share: ids 0-65535 inside, as Docker's and podman's.
inline constexpr uint32_t kBlockSize = 65536;
// Without a minipod entry: 1024 blocks from 1879048192 (0x70000000): above
// useradd's default allocations (SUB_UID_MIN 100000 to SUB_UID_MAX
// 600100000) and systemd-nspawn's container range (524288 to 1879048191),
// and below 2^31, where tools that keep ids in a signed int go wrong.
inline constexpr uint32_t kDefaultRangeStart = 1879048192;
inline constexpr uint32_t kDefaultRangeCount = 1024 * kBlockSize;

// One `owner:start:count` line. start + count never passes 2^32 - 1
// ((uid_t)-1 means "no id" to the kernel).
struct SubIdRange {
  std::string owner;  // a user name or a numeric uid, as written
  uint32_t start = 0;
  uint32_t count = 0;
};

struct SubIdFile {
  std::vector<SubIdRange> ranges;
  std::vector<size_t> bad_lines;  // 1-based numbers of lines that are not `owner:start:count`
};

// The text of /etc/subuid or /etc/subgid. Blank lines and lines starting
// with '#' are skipped; a malformed line (fields, digits, a count of 0, a
// range past 2^32 - 2) is skipped and listed, as shadow's tools skip it.
SubIdFile ParseSubIds(absl::string_view text);

// The uid of user `name` in the text of /etc/passwd (the first entry of
// that name), nullopt when there is none or its uid field is malformed.
// The subuid owner is a local user that setup adds there; reading the file
// keeps the static minipod binary free of NSS modules it would dlopen.
std::optional<uid_t> UidInPasswd(absl::string_view text, absl::string_view name);

// The ranges of `owner` (by name, or by uid when the name is a user's),
// in file order.
std::vector<SubIdRange> RangesOf(const SubIdFile& file, absl::string_view owner, std::optional<uid_t> owner_uid);

// A container's ids: inside 0-65535 are host uid_start.. and gid_start...
struct IdBlock {
  uint32_t uid_start = 0;
  uint32_t gid_start = 0;
  bool operator==(const IdBlock& o) const { return uid_start == o.uid_start && gid_start == o.gid_start; }
};

// The blocks of a uid and a gid range list: the n-th whole 65536 ids of
// each (a range's tail shorter than a block is not used); as many as the
// shorter list gives.
std::vector<IdBlock> BlocksOf(const std::vector<SubIdRange>& uids, const std::vector<SubIdRange>& gids);

// The first candidate whose uids and gids overlap no used block's.
std::optional<IdBlock> ChooseFreeBlock(const std::vector<IdBlock>& candidates, const std::vector<IdBlock>& used);

// A process as it is recorded: its pid and its start time (field 22 of
// /proc/PID/stat), so a reused pid is not taken for it.
struct ProcessId {
  pid_t pid = 0;
  uint64_t start_time = 0;
  bool operator==(const ProcessId& o) const { return pid == o.pid && start_time == o.start_time; }
};

// One line of the allocation record: `UIDSTART GIDSTART PID:START...`, the
// block and the processes holding it (the launcher, then the container).
// The block is free once none of them lives.
struct BlockRecord {
  IdBlock block;
  std::vector<ProcessId> holders;
};
// Malformed lines are dropped (the record is rewritten whole each time).
std::vector<BlockRecord> ParseBlockRecords(absl::string_view text);
std::string FormatBlockRecords(const std::vector<BlockRecord>& records);

// The start time of a live process, or nullopt when it is gone (or a zombie).
std::optional<uint64_t> ProcessStartTime(pid_t pid);
// Whether the process recorded is still the one running under that pid.
bool StillRunning(const ProcessId& p);

// One line of a uid_map or gid_map: `inside outside count`.
struct IdMapEntry {
  uint32_t inside = 0;
  uint32_t outside = 0;
  uint32_t count = 0;
};
struct IdMaps {
  std::vector<IdMapEntry> uid, gid;
};
// "0 1879048192 65536\n"...
std::string FormatIdMap(const std::vector<IdMapEntry>& map);

// auto: 0-65535 inside onto the block.
IdMaps AutoMaps(const IdBlock& block);
// keep-id as root: the caller's uid and gid onto themselves, the rest of
// 0-65535 inside onto the block (so other ids exist inside too). A caller
// id of 65536 or above is mapped alone on top of the block.
IdMaps KeepIdMaps(uid_t uid, gid_t gid, const IdBlock& block);

// The block a container holds, recorded in DIR/userns (DIR/userns.lock is
// flock'ed around every read-modify-rename). Release() (or destruction)
// removes its line; a holder's death frees it as well, for the next
// Allocate to see.
class BlockLease {
 public:
  BlockLease() = default;
  BlockLease(BlockLease&& o) noexcept { *this = std::move(o); }
  BlockLease& operator=(BlockLease&& o) noexcept;
  BlockLease(const BlockLease&) = delete;
  BlockLease& operator=(const BlockLease&) = delete;
  ~BlockLease() { (void)Release(); }

  // Takes the first block of candidates that no live holder has, for
  // owner. dir is created (0700) when missing.
  static absl::StatusOr<BlockLease> Allocate(const std::string& dir, const std::vector<IdBlock>& candidates,
                                             const ProcessId& owner);
  // Becomes a holder of block too (a pod's member, which joins the user
  // namespace its holder allocated): the block then stays taken while any
  // of them runs. A block no live process holds is recorded anew.
  static absl::StatusOr<BlockLease> Join(const std::string& dir, const IdBlock& block, const ProcessId& owner);
  // Records another holder (the container's first process).
  absl::Status AddHolder(const ProcessId& holder);
  // Removes this lease's holders (the owner and those it added) from the
  // line, and the line once it has none; idempotent.
  absl::Status Release();

  bool held() const { return held_; }
  const IdBlock& block() const { return block_; }

 private:
  std::string dir_;
  IdBlock block_;
  ProcessId owner_;
  std::vector<ProcessId> added_;
  bool held_ = false;
};

// The runtime directory: /run/minipod as root, $XDG_RUNTIME_DIR/minipod
// otherwise (nullopt when that is unset).
std::optional<std::string> RuntimeDir();

// The candidate blocks from /etc/subuid and /etc/subgid (paths given for
// tests) for kSubIdOwner, or the default range when neither has an entry.
// An entry in one file only is an error naming the other.
absl::StatusOr<std::vector<IdBlock>> CandidateBlocks(const std::string& subuid_path, const std::string& subgid_path);

// A user namespace with these maps, made by a throwaway child (forked,
// unshare(CLONE_NEWUSER), maps written by us, its ns file opened, then
// killed): the namespace lives on through the returned descriptor, for
// mount_setattr(MOUNT_ATTR_IDMAP). Needs CAP_SETUID/CAP_SETGID for maps
// other than our own ids.
absl::StatusOr<common::UniqueFd> MakeUserNamespace(const IdMaps& maps);

// Writes /proc/PID/uid_map and gid_map (setgroups left allowed: as root
// any map may be written, and the child then drops its groups itself).
absl::Status WriteIdMaps(pid_t pid, const IdMaps& maps);

// What --userns asks of the launcher, decided before the clone.
struct UsernsSetup {
  bool new_userns = false;   // the child is cloned with CLONE_NEWUSER
  bool as_root = false;      // we write any map and leave setgroups allowed (else "deny", our own ids only)
  IdMaps maps;               // the child's
  common::UniqueFd idmap_ns; // a user namespace with the same maps, for id-mapped mounts (as root)
  BlockLease lease;          // auto and keep-id as root
  std::optional<uid_t> uid;  // keep-id: the command runs as the caller
  std::optional<gid_t> gid;
};

// Decides the maps (caller_uid/gid: our effective ids; rootless: not
// root), takes a block as root for auto and keep-id (owner: this process,
// recorded in RuntimeDir()) and makes the user namespace the mounts are
// id-mapped through. run_uid/gid: --user, which must fall inside the
// mapped ids.
absl::StatusOr<UsernsSetup> PrepareUserns(UsernsMode mode, bool rootless, uid_t caller_uid, gid_t caller_gid,
                                          uid_t run_uid, gid_t run_gid);

// The block of a process's user namespace, from its uid_map and gid_map as
// --userns wrote them: auto's "0 START 65536", or keep-id's (KeepIdMaps:
// one id onto itself, the rest of the block around it); nullopt for any
// other map.
std::optional<IdBlock> BlockOfProcess(pid_t pid);
// The block start of a uid_map or gid_map text, as above.
std::optional<uint32_t> BlockStartOfMap(absl::string_view map);

}  // namespace sandbox
