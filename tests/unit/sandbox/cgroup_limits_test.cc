// Unit tests of --memory, --pids and --cpus parsing (cgroup_limits.h).
#include "sandbox/cgroup_limits.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sandbox {
namespace {

using ::testing::HasSubstr;

TEST(ParseMemorySize, Accepted) {
  const struct {
    const char* text;
    int64_t bytes;
  } kCases[] = {
      {"512m", 512LL << 20},        {"512M", 512LL << 20},        {"512mb", 512LL << 20},
      {"512MiB", 512LL << 20},      {"1g", 1LL << 30},            {"1G", 1LL << 30},
      {"1.5g", 3LL << 29},          {"0.5G", 512LL << 20},        {"6m", 6LL << 20},
      {"6144k", 6LL << 20},         {"6291456", 6291456},         {"6291456b", 6291456},
      {"6291456B", 6291456},        {"2t", 2LL << 40},            {"1.000000001t", (1LL << 40) + 1099},
      {".5g", 512LL << 20},         {"8388608", 8LL << 20},       {"100000000k", 100000000LL << 10},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<int64_t> r = ParseMemorySize(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status();
    EXPECT_EQ(*r, c.bytes) << c.text;
  }
}

TEST(ParseMemorySize, Rejected) {
  const struct {
    const char* text;
    const char* message;
  } kCases[] = {
      {"12x", "--memory '12x': not a size (use e.g. 512m, 2g)"},
      {"", "not a size"},
      {"m", "not a size"},
      {"-1", "not a size"},
      {"1.g", "not a size"},
      {"1.5.5g", "not a size"},
      {" 512m", "not a size"},
      {"512m ", "not a size"},
      {"512mm", "not a size"},
      {"512bb", "not a size"},
      {"512ib", "not a size"},
      {"0x10m", "not a size"},
      {"1.0000000001g", "not a size"},  // more than 9 fraction digits
      {"1e9", "not a size"},
      {"5m", "--memory '5m': below the minimum of 6m (6291456 bytes)"},
      {"0", "below the minimum"},
      {"6291455", "below the minimum"},
      {"1.5", "below the minimum"},
      {"9999999999t", "too large"},
      {"999999999999999999k", "too large"},
      {"9999999999999999999", "not a size"},  // 19 digits
  };
  for (const auto& c : kCases) {
    absl::StatusOr<int64_t> r = ParseMemorySize(c.text);
    ASSERT_FALSE(r.ok()) << c.text << " gave " << *r;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message)) << c.text;
  }
}

TEST(ParsePidsLimit, AcceptedAndRejected) {
  EXPECT_EQ(*ParsePidsLimit("1"), 1);
  EXPECT_EQ(*ParsePidsLimit("64"), 64);
  EXPECT_EQ(*ParsePidsLimit("007"), 7);
  EXPECT_EQ(*ParsePidsLimit("4194304"), kMaxPids);
  for (const char* bad : {"", "0", "-1", "+5", "1.5", "5k", "4194305", "99999999999999999999", " 5", "max"}) {
    absl::StatusOr<int64_t> r = ParsePidsLimit(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(absl::StrCat("--pids '", bad, "'")));
  }
  EXPECT_THAT(std::string(ParsePidsLimit("0").status().message()), HasSubstr("at least 1"));
  EXPECT_THAT(std::string(ParsePidsLimit("4194305").status().message()), HasSubstr("PID_MAX_LIMIT"));
}

TEST(ParseCpus, AcceptedAndRejected) {
  EXPECT_DOUBLE_EQ(*ParseCpus("0.5", 2), 0.5);
  EXPECT_DOUBLE_EQ(*ParseCpus("2", 2), 2.0);
  EXPECT_DOUBLE_EQ(*ParseCpus(".25", 2), 0.25);
  EXPECT_DOUBLE_EQ(*ParseCpus("0.01", 1), 0.01);
  EXPECT_DOUBLE_EQ(*ParseCpus("64", 0), 64.0) << "0: no upper check";
  EXPECT_THAT(std::string(ParseCpus("3", 2).status().message()),
              HasSubstr("--cpus '3': more than the 2 CPUs available"));
  EXPECT_THAT(std::string(ParseCpus("2.000000001", 2).status().message()), HasSubstr("more than"));
  EXPECT_THAT(std::string(ParseCpus("0.009", 2).status().message()), HasSubstr("at least 0.01"));
  EXPECT_THAT(std::string(ParseCpus("0", 2).status().message()), HasSubstr("at least"));
  for (const char* bad : {"", "x", "-1", "1.", "1/2", "1e0", "0.5 ", "0.0000000001", "1,5", "2000000"}) {
    absl::StatusOr<double> r = ParseCpus(bad, 0);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("not a number of CPUs")) << bad;
  }
  // The one-argument form checks against this machine's CPUs.
  EXPECT_TRUE(ParseCpus("1").ok());
  EXPECT_FALSE(ParseCpus("100000").ok());
}

TEST(CpuQuota, RoundsToMicroseconds) {
  EXPECT_EQ(CpuQuotaUs(0.5), 50000);
  EXPECT_EQ(CpuQuotaUs(2), 200000);
  EXPECT_EQ(CpuQuotaUs(0.01), 1000);
  EXPECT_EQ(CpuQuotaUs(0.333333333), 33333);
  EXPECT_EQ(CpuQuotaUs(1.5, 1000000), 1500000);
}

TEST(ParseLimits, AllOrNothing) {
  absl::StatusOr<Limits> l = ParseLimits(std::string("32m"), std::string("10"), std::nullopt);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->memory_bytes, 32LL << 20);
  EXPECT_EQ(l->pids, 10);
  EXPECT_FALSE(l->cpus.has_value());
  EXPECT_TRUE(l->any());
  EXPECT_FALSE(ParseLimits(std::nullopt, std::nullopt, std::nullopt)->any());
  EXPECT_FALSE(ParseLimits(std::string("32m"), std::string("0"), std::nullopt).ok());
}

}  // namespace
}  // namespace sandbox
