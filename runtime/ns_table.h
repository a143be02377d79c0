// The namespace table of `minipod inspect --namespaces` and `minipod pod
// inspect`: which namespace each process of a pod is in, and whose it is
// (the host's, the pod's, the container's own, shared with another
// container), for the eight types lsns knows. ReadNamespaces reads one
// process's from /proc (stat, poll on its pidfd); the rest is pure.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace runtime {

// The rows of the table, in this order (alphabetical, as lsns sorts them).
enum class NsKind : int { kCgroup, kIpc, kMnt, kNet, kPid, kTime, kUser, kUts };
inline constexpr size_t kNsKinds = 8;
// "cgroup", "ipc", ... as in /proc/PID/ns.
const char* NsKindName(NsKind kind);

// A process's namespaces by inode (all nsfs files share one device); nullopt
// where the kernel has no such type (time before 5.6).
using NsInodes = std::array<std::optional<uint64_t>, kNsKinds>;

// Reads /proc/PID/ns/* (stat: st_ino) of the process pidfd refers to, then
// checks that the pidfd still names a live process (it polls readable once
// the process has exited), so a pid reused meanwhile never yields a
// stranger's namespaces. Errors: pidfd is not a pidfd of pid
// (InvalidArgument), the process has exited (NotFound), a namespace file
// we may not read (PermissionDenied: another user's process, without root).
absl::StatusOr<NsInodes> ReadNamespaces(pid_t pid, int pidfd);

enum class ColumnRole { kHost, kHolder, kContainer };
const char* ColumnRoleName(ColumnRole role);  // "host", "holder", "container"

// One column of the table: a process (or the host) and its namespaces.
struct NsColumn {
  std::string label;  // "host", the holder's or the container's name
  ColumnRole role = ColumnRole::kContainer;
  NsInodes ns{};
};

// Whose a namespace is, in one column.
enum class NsOwner {
  kAbsent,  // no inode (the kernel lacks the type)
  kHost,    // the host column's (any host column's)
  kPod,     // a holder's, and not the host's
  kOwn,     // neither, and no other container is in it
  kShared,  // neither, and other containers are in it too (shared_with)
};
const char* NsOwnerName(NsOwner owner);  // "absent", "host", "pod", "own", "shared"

struct NsCell {
  std::optional<uint64_t> inode;
  NsOwner owner = NsOwner::kAbsent;
  std::vector<std::string> shared_with;  // kShared: the other containers' labels, in column order
};

struct NsTable {
  std::vector<NsColumn> columns;
  // cells[kind][column], kinds in NsKind order.
  std::array<std::vector<NsCell>, kNsKinds> cells;
};

// Classifies every cell: a host column's namespaces are the host's; any
// other column's are the host's when a host column has the same inode,
// else the pod's when it is a holder or a holder has the same inode, else
// shared with the other containers (not host, not holder columns) that have
// the same inode, else its own.
NsTable ClassifyNamespaces(std::vector<NsColumn> columns);

// Aligned text, one row per type, one column per process:
//
//   NAMESPACE  host        pause (holder)   web              shell
//   cgroup     4026531835  4026531835 host  4026531835 host  4026531835 host
//   ipc        4026531839  4026532301 pod   4026532301 pod   4026532301 pod
//   mnt        4026531841  4026532299 pod   4026532310 own   4026532320 own
//   uts        4026531838  4026532298 pod   4026532311 shared:shell ...
//
// A host column's cells show the inode alone; an absent one is "-".
std::string RenderNsTable(const NsTable& table);

// The JSON form, a stable schema:
//
//   {"columns": [{"label": "host", "role": "host"},
//                {"label": "pause", "role": "holder"},
//                {"label": "web", "role": "container"}, ...],
//    "namespaces": {"cgroup": [CELL, ...], "ipc": [...], "mnt": [...],
//                   "net": [...], "pid": [...], "time": [...],
//                   "user": [...], "uts": [...]}}
//
// with the eight types always present, in that order, and one CELL per
// column, in column order:
//
//   {"inode": 4026532301, "owner": "pod"}
//   {"inode": 4026532320, "owner": "shared", "with": ["shell"]}
//   {"inode": null, "owner": "absent"}
//
// "owner" is one of host, pod, own, shared, absent; "with" appears only
// with shared. role is one of host, holder, container.
nlohmann::ordered_json NsTableJson(const NsTable& table);

}  // namespace runtime
