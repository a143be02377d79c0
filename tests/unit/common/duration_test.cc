#include "common/duration.h"

#include <gtest/gtest.h>

namespace common {
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

}  // namespace
}  // namespace common
