// The namespace table (see ns_table.h): ReadNamespaces runs in the caller
// (open, fstatat and read under /proc, poll on a pidfd); classifying and
// rendering are pure.
#include "runtime/ns_table.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "sandbox/namespaces.h"
#include "absl/strings/str_join.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"

namespace runtime {

const char* NsKindName(NsKind kind) {
  switch (kind) {
    case NsKind::kCgroup: return "cgroup";
    case NsKind::kIpc: return "ipc";
    case NsKind::kMnt: return "mnt";
    case NsKind::kNet: return "net";
    case NsKind::kPid: return "pid";
    case NsKind::kTime: return "time";
    case NsKind::kUser: return "user";
    case NsKind::kUts: return "uts";
  }
  return "?";
}

const char* ColumnRoleName(ColumnRole role) {
  switch (role) {
    case ColumnRole::kHost: return "host";
    case ColumnRole::kHolder: return "holder";
    case ColumnRole::kContainer: return "container";
  }
  return "?";
}

const char* NsOwnerName(NsOwner owner) {
  switch (owner) {
    case NsOwner::kAbsent: return "absent";
    case NsOwner::kHost: return "host";
    case NsOwner::kPod: return "pod";
    case NsOwner::kOwn: return "own";
    case NsOwner::kShared: return "shared";
  }
  return "?";
}

namespace {

bool Exited(int pidfd) {
  struct pollfd pfd = {pidfd, POLLIN, 0};
  return ::poll(&pfd, 1, 0) != 0;
}

}  // namespace

absl::StatusOr<NsInodes> ReadNamespaces(pid_t pid, int pidfd) {
  const std::optional<pid_t> of_pidfd = sandbox::PidOfPidfd(pidfd);
  if (!of_pidfd.has_value()) return absl::InvalidArgumentError(absl::StrCat("descriptor ", pidfd, " is not a pidfd"));
  const absl::Status gone = absl::NotFoundError(absl::StrCat("process ", pid, " has exited"));
  if (*of_pidfd <= 0 || Exited(pidfd)) return gone;
  if (*of_pidfd != pid) {
    return absl::InvalidArgumentError(absl::StrCat("the pidfd names process ", *of_pidfd, ", not ", pid));
  }
  const std::string dir = absl::StrCat("/proc/", pid, "/ns");
  common::UniqueFd ns_dir(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!ns_dir) {
    if (errno == ENOENT || errno == ESRCH) return gone;
    return common::ErrnoStatus(errno, absl::StrCat("open(", dir, ")"));
  }
  NsInodes out{};
  for (size_t i = 0; i < kNsKinds; ++i) {
    const char* name = NsKindName(static_cast<NsKind>(i));
    struct stat st;
    // Following the magic link: its target is the namespace itself.
    if (::fstatat(ns_dir.get(), name, &st, 0) == 0) {
      out[i] = static_cast<uint64_t>(st.st_ino);
      continue;
    }
    const int err = errno;
    if (Exited(pidfd)) return gone;
    // A type this kernel lacks has no file; any other failure is an error.
    struct stat link;
    if (err == ENOENT && ::fstatat(ns_dir.get(), name, &link, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) continue;
    return common::ErrnoStatus(err, absl::StrCat("stat(", dir, "/", name, ")"));
  }
  // Only now is it sure that /proc/PID was the pidfd's process throughout.
  if (Exited(pidfd)) return gone;
  return out;
}

NsTable ClassifyNamespaces(std::vector<NsColumn> columns) {
  NsTable table;
  table.columns = std::move(columns);
  const std::vector<NsColumn>& cols = table.columns;
  for (size_t k = 0; k < kNsKinds; ++k) {
    auto any = [&](ColumnRole role, uint64_t inode) {
      return std::any_of(cols.begin(), cols.end(),
                         [&](const NsColumn& c) { return c.role == role && c.ns[k] == inode; });
    };
    for (size_t i = 0; i < cols.size(); ++i) {
      NsCell cell;
      cell.inode = cols[i].ns[k];
      if (!cell.inode.has_value()) {
        table.cells[k].push_back(std::move(cell));
        continue;
      }
      const uint64_t inode = *cell.inode;
      if (cols[i].role == ColumnRole::kHost || any(ColumnRole::kHost, inode)) {
        cell.owner = NsOwner::kHost;
      } else if (cols[i].role == ColumnRole::kHolder || any(ColumnRole::kHolder, inode)) {
        cell.owner = NsOwner::kPod;
      } else {
        for (size_t j = 0; j < cols.size(); ++j) {
          if (j != i && cols[j].role == ColumnRole::kContainer && cols[j].ns[k] == inode) {
            cell.shared_with.push_back(cols[j].label);
          }
        }
        cell.owner = cell.shared_with.empty() ? NsOwner::kOwn : NsOwner::kShared;
      }
      table.cells[k].push_back(std::move(cell));
    }
  }
  return table;
}

std::string RenderNsTable(const NsTable& table) {
  // Every cell as text first, then each column padded to its widest.
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"NAMESPACE"};
  for (const NsColumn& c : table.columns) {
    header.push_back(c.role == ColumnRole::kHolder ? absl::StrCat(c.label, " (holder)") : c.label);
  }
  rows.push_back(std::move(header));
  for (size_t k = 0; k < kNsKinds; ++k) {
    std::vector<std::string> row = {NsKindName(static_cast<NsKind>(k))};
    for (size_t i = 0; i < table.columns.size() && i < table.cells[k].size(); ++i) {
      const NsCell& cell = table.cells[k][i];
      if (!cell.inode.has_value()) {
        row.push_back("-");
      } else if (table.columns[i].role == ColumnRole::kHost) {
        row.push_back(absl::StrCat(*cell.inode));
      } else if (cell.owner == NsOwner::kShared) {
        row.push_back(absl::StrCat(*cell.inode, " shared:", absl::StrJoin(cell.shared_with, ",")));
      } else {
        row.push_back(absl::StrCat(*cell.inode, " ", NsOwnerName(cell.owner)));
      }
    }
    rows.push_back(std::move(row));
  }
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line.append("  ");
      line.append(row[i]);
      if (i + 1 < row.size()) line.append(width[i] - row[i].size(), ' ');
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

nlohmann::ordered_json NsTableJson(const NsTable& table) {
  nlohmann::ordered_json columns = nlohmann::ordered_json::array();
  for (const NsColumn& c : table.columns) {
    columns.push_back({{"label", c.label}, {"role", ColumnRoleName(c.role)}});
  }
  nlohmann::ordered_json namespaces = nlohmann::ordered_json::object();
  for (size_t k = 0; k < kNsKinds; ++k) {
    nlohmann::ordered_json row = nlohmann::ordered_json::array();
    for (const NsCell& cell : table.cells[k]) {
      nlohmann::ordered_json j;
      j["inode"] = cell.inode.has_value() ? nlohmann::ordered_json(*cell.inode) : nlohmann::ordered_json(nullptr);
      j["owner"] = NsOwnerName(cell.owner);
      if (cell.owner == NsOwner::kShared) j["with"] = cell.shared_with;
      row.push_back(std::move(j));
    }
    namespaces[NsKindName(static_cast<NsKind>(k))] = std::move(row);
  }
  return {{"columns", std::move(columns)}, {"namespaces", std::move(namespaces)}};
}

}  // namespace runtime
