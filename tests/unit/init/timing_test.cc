#include "init/timing.h"

#include <gtest/gtest.h>

namespace init {
namespace {

TEST(ParseDurationTest, Table) {
  struct Case {
    const char* text;
    int64_t ms;
  } cases[] = {
      {"0", 0},          {"1", 1000},        {"10s", 10'000},    {"250ms", 250},
      {"1.5s", 1500},    {"0.001s", 1},      {"0.0001s", 0},     {"5m", 300'000},
      {"1h", 3'600'000}, {"1m30s", 90'000},  {"1h1m1s1ms", 3'661'001},
      {"8760h", kMaxDurationMs},
      {"", -1},          {"s", -1},          {"ms", -1},         {"-1s", -1},
      {"1x", -1},        {"1s2", -1},        {"1 s", -1},        {"8761h", -1},
      {"99999999999999999999s", -1},         {".s", -1},
  };
  for (const Case& c : cases) EXPECT_EQ(ParseDurationMs(c.text), c.ms) << c.text;
  EXPECT_EQ(ParseDurationMs(nullptr), -1);
}

TEST(BackoffTest, DoublesUpToTheCap) {
  const int64_t expected[] = {10'000, 20'000, 40'000, 80'000, 160'000, 300'000, 300'000};
  for (uint32_t i = 0; i < 7; ++i) EXPECT_EQ(BackoffDelayMs(10'000, 300'000, i), expected[i]);
  EXPECT_EQ(BackoffDelayMs(0, 300'000, 3), 0);
  EXPECT_EQ(BackoffDelayMs(500, 100, 0), 100);
  EXPECT_EQ(BackoffDelayMs(1, INT64_MAX / 2, 200), INT64_MAX / 2);
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

}  // namespace
}  // namespace init
