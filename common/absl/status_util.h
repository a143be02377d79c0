// Status helpers for the glibc side (the minipod tool and its libraries;
// never minipod-init). Debian 12's Abseil (20220623) has no status macros,
// so the two everybody needs live here.
#pragma once

#include <errno.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace common {

// absl::ErrnoToStatus with the call and its object named, e.g.
// ErrnoStatus(errno, "open(/etc/ld.so.conf)").
inline absl::Status ErrnoStatus(int err, absl::string_view what) {
  return absl::ErrnoToStatus(err, what);
}

// The same status with context in front: "reading ELF /bin/true: ...".
inline absl::Status Annotate(const absl::Status& s, absl::string_view context) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

}  // namespace common

#define MINIPOD_STATUS_CONCAT_INNER(a, b) a##b
#define MINIPOD_STATUS_CONCAT(a, b) MINIPOD_STATUS_CONCAT_INNER(a, b)

// Returns from the enclosing function when expr (an absl::Status) fails.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    if (absl::Status _st = (expr); !_st.ok()) return _st; \
  } while (0)

// ASSIGN_OR_RETURN(auto x, F()): declares x from a StatusOr or returns its
// error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  MINIPOD_ASSIGN_OR_RETURN_IMPL(MINIPOD_STATUS_CONCAT(_statusor_, __LINE__), lhs, expr)
#define MINIPOD_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()
