// Capabilities of `minipod run`: names, Docker's default set and its
// --cap-add/--cap-drop rules (parent, pure), and the two child-side steps
// that apply a mask (prctl(PR_CAPBSET_DROP), capset, prctl(PR_CAP_AMBIENT)).
// The child side allocates nothing and returns errno; no libcap.
#pragma once

#include <stdint.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace sandbox {

using CapMask = uint64_t;  // bit N set: capability N

inline constexpr CapMask CapBit(int cap) { return CapMask{1} << cap; }

// The last capability this build knows a name for (CAP_CHECKPOINT_RESTORE,
// 40, Linux 5.9).
int LastKnownCap();

// /proc/sys/kernel/cap_last_cap of the running kernel, read once and
// cached; LastKnownCap() when it cannot be read. Never above 63.
int LastCap();

// "NET_ADMIN", "net_admin", "CAP_NET_ADMIN" -> 21. Unknown names and
// capabilities the running kernel (last_cap) does not have are
// InvalidArgument. "ALL" is not a single capability and is rejected here;
// ComputeCaps handles it.
absl::StatusOr<int> ParseCapName(absl::string_view name, int last_cap);
inline absl::StatusOr<int> ParseCapName(absl::string_view name) { return ParseCapName(name, LastCap()); }

// "CAP_NET_ADMIN"; a number without a name gives "CAP_41".
std::string CapName(int cap);

// Every capability 0..last_cap.
CapMask AllCaps(int last_cap);

// Docker's default set: CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID
// SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE.
CapMask DockerDefaultCaps();

// Docker's --cap-add/--cap-drop rules: start from DockerDefaultCaps(); "ALL"
// (any case) in `add` gives every capability minus those in `drop`; "ALL" in
// `drop` starts from nothing and the adds apply on top. A capability named
// in both lists (ALL in both included) is InvalidArgument, as is an unknown
// name.
absl::StatusOr<CapMask> ComputeCaps(absl::Span<const std::string> add, absl::Span<const std::string> drop,
                                    int last_cap);
inline absl::StatusOr<CapMask> ComputeCaps(absl::Span<const std::string> add,
                                           absl::Span<const std::string> drop) {
  return ComputeCaps(add, drop, LastCap());
}

// "CAP_CHOWN,CAP_KILL" in bit order, for messages and --status-fd; "" for
// an empty mask.
std::string DescribeCaps(CapMask mask);

// ---- Child side: no heap, no Status. Each returns 0 or an errno and, on
// failure, points *step (when step is not null) at a static string naming
// the call that failed.

// Drops from the bounding set every capability 0..last_cap not in keep
// (prctl(PR_CAPBSET_DROP)); ones already gone are skipped. Needs
// CAP_SETPCAP (in the current user namespace), so it must run before
// SetCapsInChild takes CAP_SETPCAP away. Pass LastCap() from the parent.
int DropBoundingSetInChild(CapMask keep, int last_cap, const char** step);

// capset(2) (version 3, two 32-bit words): permitted = effective = keep, or
// nothing at all when !uid_is_root (as Docker does for a non-root user);
// inheritable is always empty (Docker >= 20.10.14, runc >= 1.1.2:
// CVE-2022-24769); then prctl(PR_CAP_AMBIENT_CLEAR_ALL). Call after the
// uid/gid change: lowering never needs a privilege, but keep must be a
// subset of the current permitted set.
int SetCapsInChild(CapMask keep, bool uid_is_root, const char** step);

}  // namespace sandbox
