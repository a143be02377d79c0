// User namespaces for --userns (see userns.h): subordinate id files and
// blocks (pure), the allocation record (open, flock, rename) and the
// throwaway user namespace (fork, unshare, kill). Parent side only.
#include "sandbox/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/absl/file_util.h"
#include "common/absl/status_util.h"

namespace sandbox {
namespace {

constexpr uint64_t kIdLimit = 0xFFFFFFFFull;  // (uid_t)-1 is no id

// Digits only (no sign, no spaces, no 0x), at most 10 of them.
std::optional<uint64_t> ParseDecimal(absl::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

bool Overlaps(uint64_t a, uint64_t b) { return a < b + kBlockSize && b < a + kBlockSize; }

absl::Status WriteProcFile(const std::string& path, const std::string& text) {
  common::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  // One write: the kernel takes a map in a single write only.
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return common::ErrnoStatus(errno, absl::StrCat("write(", path, ", \"", absl::StripTrailingAsciiWhitespace(text), "\")"));
  }
  return absl::OkStatus();
}

// Holds DIR/userns.lock (LOCK_EX) while it lives.
class RecordLock {
 public:
  static absl::StatusOr<RecordLock> Take(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return common::ErrnoStatus(errno, absl::StrCat("mkdir(", dir, ")"));
    }
    RecordLock l;
    const std::string path = dir + "/userns.lock";
    l.fd_ = common::UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!l.fd_) return common::ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
    int r;
    do {
      r = ::flock(l.fd_.get(), LOCK_EX);
    } while (r != 0 && errno == EINTR);
    if (r != 0) return common::ErrnoStatus(errno, absl::StrCat("flock(", path, ")"));
    return l;
  }

 private:
  common::UniqueFd fd_;
};

absl::StatusOr<std::vector<BlockRecord>> ReadRecords(const std::string& dir) {
  const std::string path = dir + "/userns";
  absl::StatusOr<std::string> text = common::ReadFileToString(path, 1 << 20);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) return std::vector<BlockRecord>{};
    return text.status();
  }
  return ParseBlockRecords(*text);
}

// The live records only, written to DIR/userns.tmp and renamed over
// DIR/userns: a reader never sees half a file.
absl::Status WriteRecords(const std::string& dir, const std::vector<BlockRecord>& records) {
  const std::string path = dir + "/userns", tmp = dir + "/userns.tmp";
  const std::string text = FormatBlockRecords(records);
  common::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("open(", tmp, ")"));
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return common::ErrnoStatus(err, absl::StrCat("write(", tmp, ")"));
  }
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return common::ErrnoStatus(err, absl::StrCat("rename(", tmp, ", ", path, ")"));
  }
  return absl::OkStatus();
}

// Records with at least one live holder; holders that died are dropped.
std::vector<BlockRecord> LiveRecords(std::vector<BlockRecord> records) {
  std::vector<BlockRecord> live;
  for (BlockRecord& r : records) {
    std::vector<ProcessId> holders;
    for (const ProcessId& p : r.holders) {
      if (StillRunning(p)) holders.push_back(p);
    }
    if (holders.empty()) continue;
    r.holders = std::move(holders);
    live.push_back(std::move(r));
  }
  return live;
}

}  // namespace

SubIdFile ParseSubIds(absl::string_view text) {
  SubIdFile out;
  size_t number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    const absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    const std::vector<absl::string_view> f = absl::StrSplit(trimmed, ':');
    const std::optional<uint64_t> start = f.size() == 3 ? ParseDecimal(f[1]) : std::nullopt;
    const std::optional<uint64_t> count = f.size() == 3 ? ParseDecimal(f[2]) : std::nullopt;
    if (f.size() != 3 || f[0].empty() || !start || !count || *count == 0 || *start >= kIdLimit ||
        *count > kIdLimit - *start) {
      out.bad_lines.push_back(number);
      continue;
    }
    out.ranges.push_back({std::string(f[0]), static_cast<uint32_t>(*start), static_cast<uint32_t>(*count)});
  }
  return out;
}

std::optional<uid_t> UidInPasswd(absl::string_view text, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    // name:password:uid:gid:gecos:home:shell
    const std::vector<absl::string_view> f = absl::StrSplit(line, ':');
    if (f.size() < 4 || f[0] != name) continue;
    const std::optional<uint64_t> uid = ParseDecimal(f[2]);
    if (!uid.has_value() || *uid >= kIdLimit) return std::nullopt;
    return static_cast<uid_t>(*uid);
  }
  return std::nullopt;
}

std::vector<SubIdRange> RangesOf(const SubIdFile& file, absl::string_view owner, std::optional<uid_t> owner_uid) {
  std::vector<SubIdRange> out;
  const std::string uid_text = owner_uid.has_value() ? absl::StrCat(*owner_uid) : std::string();
  for (const SubIdRange& r : file.ranges) {
    if (r.owner == owner || (!uid_text.empty() && r.owner == uid_text)) out.push_back(r);
  }
  return out;
}

std::vector<IdBlock> BlocksOf(const std::vector<SubIdRange>& uids, const std::vector<SubIdRange>& gids) {
  auto starts = [](const std::vector<SubIdRange>& ranges) {
    std::vector<uint32_t> s;
    for (const SubIdRange& r : ranges) {
      for (uint64_t off = 0; off + kBlockSize <= r.count; off += kBlockSize) {
        s.push_back(static_cast<uint32_t>(r.start + off));
        if (s.size() >= (1u << 16)) return s;  // 2^32 ids at most
      }
    }
    return s;
  };
  const std::vector<uint32_t> u = starts(uids), g = starts(gids);
  std::vector<IdBlock> out;
  for (size_t i = 0; i < u.size() && i < g.size(); ++i) out.push_back({u[i], g[i]});
  return out;
}

std::optional<IdBlock> ChooseFreeBlock(const std::vector<IdBlock>& candidates, const std::vector<IdBlock>& used) {
  for (const IdBlock& c : candidates) {
    bool taken = false;
    for (const IdBlock& u : used) {
      if (Overlaps(c.uid_start, u.uid_start) || Overlaps(c.gid_start, u.gid_start)) {
        taken = true;
        break;
      }
    }
    if (!taken) return c;
  }
  return std::nullopt;
}

std::vector<BlockRecord> ParseBlockRecords(absl::string_view text) {
  std::vector<BlockRecord> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    const std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() < 3) continue;
    const std::optional<uint64_t> u = ParseDecimal(f[0]), g = ParseDecimal(f[1]);
    if (!u || !g || *u >= kIdLimit || *g >= kIdLimit) continue;
    BlockRecord r;
    r.block = {static_cast<uint32_t>(*u), static_cast<uint32_t>(*g)};
    bool ok = true;
    for (size_t i = 2; i < f.size() && ok; ++i) {
      const size_t colon = f[i].find(':');
      uint64_t start = 0;
      int64_t pid = 0;
      ok = colon != absl::string_view::npos && absl::SimpleAtoi(f[i].substr(0, colon), &pid) && pid > 0 &&
           pid <= (1 << 22) && absl::SimpleAtoi(f[i].substr(colon + 1), &start);
      if (ok) r.holders.push_back({static_cast<pid_t>(pid), start});
    }
    if (ok) out.push_back(std::move(r));
  }
  return out;
}

std::string FormatBlockRecords(const std::vector<BlockRecord>& records) {
  std::string out;
  for (const BlockRecord& r : records) {
    absl::StrAppend(&out, r.block.uid_start, " ", r.block.gid_start);
    for (const ProcessId& p : r.holders) absl::StrAppend(&out, " ", p.pid, ":", p.start_time);
    out += '\n';
  }
  return out;
}

std::optional<uint64_t> ProcessStartTime(pid_t pid) {
  absl::StatusOr<std::string> stat = common::ReadFileToString(absl::StrCat("/proc/", pid, "/stat"), 4096);
  if (!stat.ok()) return std::nullopt;
  // The command name may hold spaces and ')': fields start after the last ')'.
  const size_t paren = stat->rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  const std::vector<absl::string_view> f =
      absl::StrSplit(absl::string_view(*stat).substr(paren + 1), ' ', absl::SkipEmpty());
  // f[0] is field 3 (state); starttime is field 22.
  if (f.size() < 20 || f[0] == "Z" || f[0] == "X") return std::nullopt;
  uint64_t start = 0;
  if (!absl::SimpleAtoi(f[19], &start)) return std::nullopt;
  return start;
}

bool StillRunning(const ProcessId& p) {
  const std::optional<uint64_t> now = ProcessStartTime(p.pid);
  return now.has_value() && *now == p.start_time;
}

std::string FormatIdMap(const std::vector<IdMapEntry>& map) {
  std::string out;
  for (const IdMapEntry& e : map) absl::StrAppend(&out, e.inside, " ", e.outside, " ", e.count, "\n");
  return out;
}

IdMaps AutoMaps(const IdBlock& block) {
  IdMaps m;
  m.uid = {{0, block.uid_start, kBlockSize}};
  m.gid = {{0, block.gid_start, kBlockSize}};
  return m;
}

namespace {

// keep-id's map of one id kind: `id` onto itself, the rest of 0-65535
// inside onto the block starting at `start` (an id of 65536 or above on
// top of the whole block).
std::vector<IdMapEntry> KeepIdMap(uint32_t id, uint32_t start) {
  std::vector<IdMapEntry> m;
  if (id >= kBlockSize) {
    m.push_back({0, start, kBlockSize});
    m.push_back({id, id, 1});
    return m;
  }
  if (id > 0) m.push_back({0, start, id});
  m.push_back({id, id, 1});
  if (id + 1 < kBlockSize) m.push_back({id + 1, start + id + 1, kBlockSize - id - 1});
  return m;
}

bool SameMap(const std::vector<IdMapEntry>& a, const std::vector<IdMapEntry>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].inside != b[i].inside || a[i].outside != b[i].outside || a[i].count != b[i].count) return false;
  }
  return true;
}

}  // namespace

IdMaps KeepIdMaps(uid_t uid, gid_t gid, const IdBlock& block) {
  IdMaps m;
  m.uid = KeepIdMap(uid, block.uid_start);
  m.gid = KeepIdMap(gid, block.gid_start);
  return m;
}

BlockLease& BlockLease::operator=(BlockLease&& o) noexcept {
  if (this != &o) {
    (void)Release();
    dir_ = std::move(o.dir_);
    block_ = o.block_;
    owner_ = o.owner_;
    added_ = std::move(o.added_);
    held_ = o.held_;
    o.held_ = false;
  }
  return *this;
}

absl::StatusOr<BlockLease> BlockLease::Allocate(const std::string& dir, const std::vector<IdBlock>& candidates,
                                                const ProcessId& owner) {
  ASSIGN_OR_RETURN(RecordLock lock, RecordLock::Take(dir));
  ASSIGN_OR_RETURN(std::vector<BlockRecord> records, ReadRecords(dir));
  records = LiveRecords(std::move(records));
  std::vector<IdBlock> used;
  for (const BlockRecord& r : records) used.push_back(r.block);
  const std::optional<IdBlock> block = ChooseFreeBlock(candidates, used);
  if (!block.has_value()) {
    return absl::ResourceExhaustedError(absl::StrCat("--userns auto: all ", candidates.size(),
                                                     " id blocks are in use by running containers (", dir,
                                                     "/userns); add ids to the minipod entry of /etc/subuid and /etc/subgid"));
  }
  records.push_back({*block, {owner}});
  RETURN_IF_ERROR(WriteRecords(dir, records));
  BlockLease lease;
  lease.dir_ = dir;
  lease.block_ = *block;
  lease.owner_ = owner;
  lease.held_ = true;
  return lease;
}

absl::StatusOr<BlockLease> BlockLease::Join(const std::string& dir, const IdBlock& block, const ProcessId& owner) {
  ASSIGN_OR_RETURN(RecordLock lock, RecordLock::Take(dir));
  ASSIGN_OR_RETURN(std::vector<BlockRecord> records, ReadRecords(dir));
  records = LiveRecords(std::move(records));
  bool found = false;
  for (BlockRecord& r : records) {
    if (r.block == block) {
      r.holders.push_back(owner);
      found = true;
      break;
    }
  }
  if (!found) records.push_back({block, {owner}});
  RETURN_IF_ERROR(WriteRecords(dir, records));
  BlockLease lease;
  lease.dir_ = dir;
  lease.block_ = block;
  lease.owner_ = owner;
  lease.held_ = true;
  return lease;
}

absl::Status BlockLease::AddHolder(const ProcessId& holder) {
  if (!held_) return absl::FailedPreconditionError("no id block held");
  ASSIGN_OR_RETURN(RecordLock lock, RecordLock::Take(dir_));
  ASSIGN_OR_RETURN(std::vector<BlockRecord> records, ReadRecords(dir_));
  bool found = false;
  for (BlockRecord& r : records) {
    if (r.block == block_ && std::find(r.holders.begin(), r.holders.end(), owner_) != r.holders.end()) {
      r.holders.push_back(holder);
      found = true;
    }
  }
  if (!found) records.push_back({block_, {owner_, holder}});
  added_.push_back(holder);
  return WriteRecords(dir_, LiveRecords(std::move(records)));
}

absl::Status BlockLease::Release() {
  if (!held_) return absl::OkStatus();
  held_ = false;
  ASSIGN_OR_RETURN(RecordLock lock, RecordLock::Take(dir_));
  ASSIGN_OR_RETURN(std::vector<BlockRecord> records, ReadRecords(dir_));
  std::vector<BlockRecord> kept;
  for (BlockRecord& r : records) {
    if (r.block == block_ && std::find(r.holders.begin(), r.holders.end(), owner_) != r.holders.end()) {
      // Our holders out; the others (a pod's other members) keep it.
      std::vector<ProcessId> rest;
      for (const ProcessId& h : r.holders) {
        if (!(h == owner_) && std::find(added_.begin(), added_.end(), h) == added_.end()) rest.push_back(h);
      }
      if (rest.empty()) continue;
      r.holders = std::move(rest);
    }
    kept.push_back(std::move(r));
  }
  added_.clear();
  return WriteRecords(dir_, LiveRecords(std::move(kept)));
}

std::optional<uint32_t> BlockStartOfMap(absl::string_view map) {
  // The kernel prints each line as three right-aligned numbers.
  std::vector<IdMapEntry> entries;
  for (absl::string_view line : absl::StrSplit(map, '\n', absl::SkipWhitespace())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    IdMapEntry e;
    if (f.size() != 3 || !absl::SimpleAtoi(f[0], &e.inside) || !absl::SimpleAtoi(f[1], &e.outside) ||
        !absl::SimpleAtoi(f[2], &e.count)) {
      return std::nullopt;
    }
    entries.push_back(e);
  }
  // auto: the block alone.
  if (entries.size() == 1 && entries[0].inside == 0 && entries[0].count == kBlockSize) return entries[0].outside;
  // keep-id: one id onto itself, the rest of the block's ids around it.
  // Whose block it is shows in any other line (outside - inside).
  std::optional<uint32_t> kept, start;
  for (const IdMapEntry& e : entries) {
    if (e.count == 1 && e.inside == e.outside) {
      if (kept.has_value()) return std::nullopt;
      kept = e.inside;
    } else if (!start.has_value() && e.outside >= e.inside) {
      start = e.outside - e.inside;
    }
  }
  if (!kept.has_value() || !start.has_value() || !SameMap(entries, KeepIdMap(*kept, *start))) return std::nullopt;
  return start;
}

std::optional<IdBlock> BlockOfProcess(pid_t pid) {
  absl::StatusOr<std::string> uid_map = common::ReadFileToString(absl::StrCat("/proc/", pid, "/uid_map"), 4096);
  absl::StatusOr<std::string> gid_map = common::ReadFileToString(absl::StrCat("/proc/", pid, "/gid_map"), 4096);
  if (!uid_map.ok() || !gid_map.ok()) return std::nullopt;
  const std::optional<uint32_t> uid = BlockStartOfMap(*uid_map);
  const std::optional<uint32_t> gid = BlockStartOfMap(*gid_map);
  if (!uid.has_value() || !gid.has_value()) return std::nullopt;
  return IdBlock{*uid, *gid};
}

std::optional<std::string> RuntimeDir() {
  if (::geteuid() == 0) return std::string("/run/minipod");
  const char* xdg = ::getenv("XDG_RUNTIME_DIR");
  if (xdg == nullptr || xdg[0] != '/') return std::nullopt;
  return absl::StrCat(xdg, "/minipod");
}

absl::StatusOr<std::vector<IdBlock>> CandidateBlocks(const std::string& subuid_path, const std::string& subgid_path) {
  std::optional<uid_t> owner_uid;
  if (absl::StatusOr<std::string> passwd = common::ReadFileToString("/etc/passwd", 16 << 20); passwd.ok()) {
    owner_uid = UidInPasswd(*passwd, kSubIdOwner);
  }
  auto read = [&](const std::string& path) -> absl::StatusOr<std::vector<SubIdRange>> {
    absl::StatusOr<std::string> text = common::ReadFileToString(path, 16 << 20);
    if (!text.ok()) {
      if (absl::IsNotFound(text.status())) return std::vector<SubIdRange>{};
      return text.status();
    }
    return RangesOf(ParseSubIds(*text), kSubIdOwner, owner_uid);
  };
  ASSIGN_OR_RETURN(const std::vector<SubIdRange> uids, read(subuid_path));
  ASSIGN_OR_RETURN(const std::vector<SubIdRange> gids, read(subgid_path));
  if (uids.empty() && gids.empty()) {
    const std::vector<SubIdRange> def = {{kSubIdOwner, kDefaultRangeStart, kDefaultRangeCount}};
    return BlocksOf(def, def);
  }
  if (uids.empty() || gids.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("--userns auto: ", uids.empty() ? subgid_path : subuid_path,
                                                      " has a '", kSubIdOwner, "' entry but ",
                                                      uids.empty() ? subuid_path : subgid_path,
                                                      " has none (scripts/setup writes both)"));
  }
  std::vector<IdBlock> blocks = BlocksOf(uids, gids);
  if (blocks.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("--userns auto: the '", kSubIdOwner, "' entries of ", subuid_path,
                                                      " and ", subgid_path, " hold no whole block of ", kBlockSize,
                                                      " ids"));
  }
  return blocks;
}

absl::StatusOr<common::UniqueFd> MakeUserNamespace(const IdMaps& maps) {
  int ready[2], hold[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return common::ErrnoStatus(errno, "pipe2");
  common::UniqueFd ready_r(ready[0]), ready_w(ready[1]);
  if (::pipe2(hold, O_CLOEXEC) != 0) return common::ErrnoStatus(errno, "pipe2");
  common::UniqueFd hold_r(hold[0]), hold_w(hold[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return common::ErrnoStatus(errno, "fork");
  if (pid == 0) {
    // The throwaway: a user namespace of its own, then wait to be killed
    // (or for us to die: the pipe's EOF).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    char c = ::unshare(CLONE_NEWUSER) == 0 ? 'u' : 'e';
    (void)!::write(ready[1], &c, 1);
    ::close(hold[1]);
    (void)!::read(hold[0], &c, 1);
    ::_exit(0);
  }
  ready_w.Reset();
  hold_r.Reset();
  auto reap = [pid] {
    ::kill(pid, SIGKILL);
    int ws;
    while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
  };
  char c = 0;
  ssize_t n;
  do {
    n = ::read(ready_r.get(), &c, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1 || c != 'u') {
    reap();
    return absl::FailedPreconditionError("unshare(CLONE_NEWUSER) failed in a helper process (are user namespaces allowed?)");
  }
  absl::Status s = WriteIdMaps(pid, maps);
  common::UniqueFd ns;
  if (s.ok()) {
    const std::string path = absl::StrCat("/proc/", pid, "/ns/user");
    ns = common::UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) s = common::ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  }
  reap();
  if (!s.ok()) return s;
  return ns;
}

absl::Status WriteIdMaps(pid_t pid, const IdMaps& maps) {
  const std::string proc = absl::StrCat("/proc/", pid);
  RETURN_IF_ERROR(WriteProcFile(proc + "/uid_map", FormatIdMap(maps.uid)));
  return WriteProcFile(proc + "/gid_map", FormatIdMap(maps.gid));
}

absl::StatusOr<UsernsSetup> PrepareUserns(UsernsMode mode, bool rootless, uid_t caller_uid, gid_t caller_gid,
                                          uid_t run_uid, gid_t run_gid) {
  UsernsSetup u;
  if (rootless) {
    // Our own ids only: unprivileged, the kernel maps nothing else.
    u.new_userns = true;
    if (mode == UsernsMode::kAuto) {
      return absl::PermissionDeniedError(
          "--userns auto: needs root (without root the sandbox already has its own user namespace, with your uid "
          "as 0 inside; --userns keep-id keeps your uid)");
    }
    if (mode == UsernsMode::kKeepId) {
      u.maps.uid = {{caller_uid, caller_uid, 1}};
      u.maps.gid = {{caller_gid, caller_gid, 1}};
      u.uid = caller_uid;
      u.gid = caller_gid;
    } else {
      u.maps.uid = {{0, caller_uid, 1}};
      u.maps.gid = {{0, caller_gid, 1}};
    }
    return u;
  }
  if (mode == UsernsMode::kHost) return u;
  if (run_uid >= kBlockSize || run_gid >= kBlockSize) {
    return absl::InvalidArgumentError(absl::StrCat("--user ", run_uid, ":", run_gid, ": with --userns ",
                                                   mode == UsernsMode::kAuto ? "auto" : "keep-id",
                                                   " the ids inside are 0 to ", kBlockSize - 1));
  }
  ASSIGN_OR_RETURN(const std::vector<IdBlock> blocks, CandidateBlocks("/etc/subuid", "/etc/subgid"));
  const std::optional<std::string> dir = RuntimeDir();
  if (!dir.has_value()) return absl::FailedPreconditionError("--userns: no runtime directory");
  const std::optional<uint64_t> started = ProcessStartTime(::getpid());
  if (!started.has_value()) return absl::InternalError("--userns: cannot read our own start time from /proc");
  ASSIGN_OR_RETURN(u.lease, BlockLease::Allocate(*dir, blocks, {::getpid(), *started}));
  u.new_userns = true;
  u.as_root = true;
  u.maps = mode == UsernsMode::kAuto ? AutoMaps(u.lease.block()) : KeepIdMaps(caller_uid, caller_gid, u.lease.block());
  ASSIGN_OR_RETURN(u.idmap_ns, MakeUserNamespace(u.maps));
  return u;
}

}  // namespace sandbox
