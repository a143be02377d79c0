// Durations on the command line and the restart back-off, as pure constexpr
// arithmetic so the unit tests can pin every edge. Builds for musl and glibc.
#pragma once

#include <stdint.h>

namespace init {

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

// The kubelet's crash-loop back-off: the first restart waits `initial`, each
// later one twice the previous, never more than `max`.
constexpr int64_t BackoffDelayMs(int64_t initial, int64_t max, uint32_t failures) {
  if (initial <= 0) return 0;
  if (failures == 0) return initial < max ? initial : max;
  int64_t d = initial;
  for (uint32_t i = 0; i < failures && d < max; ++i) d *= 2;
  return d < max ? d : max;
}

static_assert(BackoffDelayMs(10'000, 300'000, 0) == 10'000);
static_assert(BackoffDelayMs(10'000, 300'000, 1) == 20'000);
static_assert(BackoffDelayMs(10'000, 300'000, 4) == 160'000);
static_assert(BackoffDelayMs(10'000, 300'000, 5) == 300'000);
static_assert(BackoffDelayMs(10'000, 300'000, 4000) == 300'000);

// Restart accounting across runs: a run that stayed up at least reset_ms
// starts the back-off over, as the kubelet forgets old crashes.
struct Backoff {
  int64_t initial_ms;
  int64_t max_ms;
  int64_t reset_ms;
  uint32_t consecutive = 0;

  // Called when a run that lasted run_ms ended and will be restarted;
  // returns how long to wait before starting the next run.
  constexpr int64_t NextDelay(int64_t run_ms) {
    if (run_ms >= reset_ms) consecutive = 0;
    const int64_t d = BackoffDelayMs(initial_ms, max_ms, consecutive);
    if (consecutive < 64) ++consecutive;
    return d;
  }
};

}  // namespace init
