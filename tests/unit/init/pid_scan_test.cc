// PidScanner: a list of pids read in pieces yields the same pids wherever
// the read boundaries fall.
#include "init/pid_scan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace init {
namespace {

std::vector<int> ScanInPieces(const std::string& text, const std::vector<size_t>& cuts) {
  std::vector<int> pids;
  const auto add = [&pids](int pid) { pids.push_back(pid); };
  PidScanner scan;
  size_t at = 0;
  for (size_t cut : cuts) {
    scan.Feed(text.data() + at, cut - at, add);
    at = cut;
  }
  scan.Feed(text.data() + at, text.size() - at, add);
  scan.Finish(add);
  return pids;
}

const std::string kChildren = "1 23 4567 89012 4194304 7 ";
const std::vector<int> kPids = {1, 23, 4567, 89012, 4194304, 7};

TEST(PidScannerTest, WholeText) { EXPECT_EQ(ScanInPieces(kChildren, {}), kPids); }

TEST(PidScannerTest, OneCutAtEveryPosition) {
  for (size_t cut = 0; cut <= kChildren.size(); ++cut) {
    EXPECT_EQ(ScanInPieces(kChildren, {cut}), kPids) << "cut at " << cut;
  }
}

TEST(PidScannerTest, TwoCutsAtEveryPair) {
  for (size_t a = 0; a <= kChildren.size(); ++a) {
    for (size_t b = a; b <= kChildren.size(); ++b) {
      EXPECT_EQ(ScanInPieces(kChildren, {a, b}), kPids) << "cuts at " << a << ", " << b;
    }
  }
}

TEST(PidScannerTest, OneByteAtATime) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < kChildren.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(ScanInPieces(kChildren, cuts), kPids);
}

TEST(PidScannerTest, LastNumberWithoutSeparatorEndsAtFinish) {
  const std::string text = "12 345";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    EXPECT_EQ(ScanInPieces(text, {cut}), (std::vector<int>{12, 345})) << "cut at " << cut;
  }
}

TEST(PidScannerTest, ZeroEmptyAndOversizedNumbersAreNotPids) {
  EXPECT_EQ(ScanInPieces("", {}), std::vector<int>{});
  EXPECT_EQ(ScanInPieces("  \n", {1}), std::vector<int>{});
  EXPECT_EQ(ScanInPieces("0 00 5", {}), std::vector<int>{5});
  // Beyond PID_MAX_LIMIT (2^22), however long: never a pid, never a wrap.
  EXPECT_EQ(ScanInPieces("4194305 99999999999999999999999 6", {3, 12}), std::vector<int>{6});
}

}  // namespace
}  // namespace init
