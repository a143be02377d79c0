// common/backoff.h: the delays, the cap, saturation and the reset after a
// good run.
#include "common/backoff.h"

#include <gtest/gtest.h>

namespace common {
namespace {

TEST(BackoffTest, DoublesUpToTheCap) {
  const int64_t expected[] = {10'000, 20'000, 40'000, 80'000, 160'000, 300'000, 300'000};
  for (uint32_t i = 0; i < 7; ++i) EXPECT_EQ(BackoffDelayMs(10'000, 300'000, i), expected[i]);
  EXPECT_EQ(BackoffDelayMs(0, 300'000, 3), 0);
  EXPECT_EQ(BackoffDelayMs(500, 100, 0), 100);
  EXPECT_EQ(BackoffDelayMs(1, INT64_MAX / 2, 200), INT64_MAX / 2);
}

TEST(BackoffTest, NeverOverflowsNearTheLimit) {
  EXPECT_EQ(BackoffDelayMs(INT64_MAX / 2 + 1, INT64_MAX, 1), INT64_MAX);
  EXPECT_EQ(BackoffDelayMs(INT64_MAX / 3, INT64_MAX, 64), INT64_MAX);
  EXPECT_EQ(BackoffDelayMs(INT64_MAX, INT64_MAX, 3), INT64_MAX);
}

TEST(BackoffTest, LongRunResetsTheSequence) {
  Backoff b{100, 1000, 5000};
  EXPECT_EQ(b.NextDelay(10), 100);
  EXPECT_EQ(b.NextDelay(10), 200);
  EXPECT_EQ(b.NextDelay(10), 400);
  EXPECT_EQ(b.NextDelay(10), 800);
  EXPECT_EQ(b.NextDelay(10), 1000);
  EXPECT_EQ(b.NextDelay(10), 1000);
  EXPECT_EQ(b.NextDelay(5000), 100);  // stayed up long enough
  EXPECT_EQ(b.NextDelay(4999), 200);
}

TEST(BackoffTest, ManyFailuresStayAtTheCap) {
  Backoff b{10'000, 300'000, 600'000};
  for (int i = 0; i < 1000; ++i) b.NextDelay(0);
  EXPECT_EQ(b.NextDelay(0), 300'000);
  EXPECT_EQ(b.NextDelay(600'000), 10'000);
}

}  // namespace
}  // namespace common
