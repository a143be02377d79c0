// Durations on the command line (minipod-init's --grace, --term-delay,
// minipod.term_delay=; minipod vm --timeout), as pure constexpr arithmetic
// so the unit tests can pin every edge (the restart back-off is
// common/backoff.h). Builds for musl and glibc.
#pragma once

#include <stdint.h>

namespace common {

inline constexpr int64_t kMaxDurationMs = int64_t{365} * 24 * 3600 * 1000;

// Parses "250ms", "10s", "1.5s", "5m", "2h", "1m30s" or a bare number of
// seconds ("10"). Returns milliseconds, or -1 when s is not a duration or
// exceeds a year. Fractions below a millisecond are truncated.
constexpr int64_t ParseDurationMs(const char* s) {
  if (s == nullptr || *s == '\0') return -1;
  int64_t total = 0;
  bool any = false;
  while (*s != '\0') {
    int64_t whole = 0;
    int64_t frac = 0;   // fractional digits as an integer
    int64_t scale = 1;  // 10^(number of fractional digits)
    bool digits = false;
    while (*s >= '0' && *s <= '9') {
      whole = whole * 10 + (*s++ - '0');
      digits = true;
      if (whole > kMaxDurationMs) return -1;
    }
    if (*s == '.') {
      ++s;
      while (*s >= '0' && *s <= '9') {
        if (scale < 1'000'000) {
          frac = frac * 10 + (*s - '0');
          scale *= 10;
        }
        ++s;
        digits = true;
      }
    }
    if (!digits) return -1;
    int64_t unit_ms = 0;
    if (s[0] == 'm' && s[1] == 's') {
      unit_ms = 1;
      s += 2;
    } else if (*s == 'h') {
      unit_ms = 3'600'000;
      ++s;
    } else if (*s == 'm') {
      unit_ms = 60'000;
      ++s;
    } else if (*s == 's') {
      unit_ms = 1000;
      ++s;
    } else if (*s == '\0' && !any) {
      unit_ms = 1000;  // a bare number means seconds
    } else {
      return -1;
    }
    if (whole > kMaxDurationMs / unit_ms) return -1;
    total += whole * unit_ms + frac * unit_ms / scale;
    if (total > kMaxDurationMs) return -1;
    any = true;
  }
  return total;
}

static_assert(ParseDurationMs("10s") == 10'000);
static_assert(ParseDurationMs("250ms") == 250);
static_assert(ParseDurationMs("1m30s") == 90'000);
static_assert(ParseDurationMs("1.5s") == 1'500);
static_assert(ParseDurationMs("2") == 2'000);
static_assert(ParseDurationMs("s") == -1);
static_assert(ParseDurationMs("5x") == -1);
static_assert(ParseDurationMs("1s2") == -1);

}  // namespace common
