// The restart back-off shared by minipod-init's supervise mode and the pod
// supervisor: the kubelet's crash-loop delay (10 s, 20 s, 40 s ... capped),
// forgotten after a run that stayed up long enough. Pure constexpr
// arithmetic, libc only: builds for the musl init and the glibc tools.
#pragma once

#include <stdint.h>

namespace common {

// The first restart waits `initial`, each later one twice the previous,
// never more than `max`. `failures` counts the restarts before this one.
constexpr int64_t BackoffDelayMs(int64_t initial, int64_t max, uint32_t failures) {
  if (initial <= 0) return 0;
  if (failures == 0) return initial < max ? initial : max;
  int64_t d = initial;
  // Doubling stops at the cap and saturates, so d never overflows even
  // when max is near INT64_MAX.
  for (uint32_t i = 0; i < failures && d < max; ++i) d = d > INT64_MAX / 2 ? INT64_MAX : d * 2;
  return d < max ? d : max;
}

static_assert(BackoffDelayMs(10'000, 300'000, 0) == 10'000);
static_assert(BackoffDelayMs(10'000, 300'000, 1) == 20'000);
static_assert(BackoffDelayMs(10'000, 300'000, 4) == 160'000);
static_assert(BackoffDelayMs(10'000, 300'000, 5) == 300'000);
static_assert(BackoffDelayMs(10'000, 300'000, 4000) == 300'000);
static_assert(BackoffDelayMs(INT64_MAX / 2 + 1, INT64_MAX, 1) == INT64_MAX);

// Restart accounting across runs: a run that stayed up at least reset_ms
// starts the back-off over, as the kubelet forgets old crashes.
struct Backoff {
  int64_t initial_ms;
  int64_t max_ms;
  int64_t reset_ms;
  uint32_t consecutive = 0;  // restarts since the last good run

  // Called when a run that lasted run_ms ended and will be restarted;
  // returns how long to wait before starting the next run.
  constexpr int64_t NextDelay(int64_t run_ms) {
    if (run_ms >= reset_ms) consecutive = 0;
    const int64_t d = BackoffDelayMs(initial_ms, max_ms, consecutive);
    if (consecutive < 64) ++consecutive;
    return d;
  }
};

}  // namespace common
