#include "init/option_scanner.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace init {
namespace {

// Owns a mutable argv, as the kernel hands one to main().
class Argv {
 public:
  explicit Argv(std::vector<std::string> args) : storage_(std::move(args)) {
    for (auto& s : storage_) ptrs_.push_back(s.data());
    ptrs_.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(storage_.size()); }
  char** argv() { return ptrs_.data(); }

 private:
  std::vector<std::string> storage_;
  std::vector<char*> ptrs_;
};

struct Scan {
  std::vector<std::string> events;  // "a", "p=15", "long=x", "error"
  std::vector<std::string> operands;
  std::string errors;
};

constexpr LongOption kLong[] = {
    {"help", false, 'h'}, {"rewrite", true, 'r'}, {"single-child", false, 'c'},
    {"setsid", false, 1000}, {"set", true, 1001}};

Scan ScanArgs(std::vector<std::string> args, bool permute, const char* shortopts = "ab:c") {
  Argv a(std::move(args));
  OptionScanner s(a.argc(), a.argv(), shortopts, kLong, sizeof kLong / sizeof kLong[0], permute);
  Scan out;
  char err[512];
  common::Formatter f(err, sizeof err);
  for (;;) {
    const int opt = s.Next(f);
    if (opt == OptionScanner::kEnd) break;
    if (opt == OptionScanner::kError) {
      out.events.push_back("error");
      continue;
    }
    std::string e = opt < 256 ? std::string(1, static_cast<char>(opt)) : std::to_string(opt);
    if (s.arg() != nullptr) e += "=" + std::string(s.arg());
    out.events.push_back(e);
  }
  for (int i = 0; i < s.OperandCount(); ++i) out.operands.emplace_back(s.Operands()[i]);
  EXPECT_EQ(s.Operands()[s.OperandCount()], nullptr);
  out.errors = f.data();
  return out;
}

using V = std::vector<std::string>;

TEST(OptionScannerTest, ClustersAndArguments) {
  Scan s = ScanArgs({"p", "-ab", "15", "-b16", "-cab", "x", "cmd"}, false);
  EXPECT_EQ(s.events, (V{"a", "b=15", "b=16", "c", "a", "b=x"}));
  EXPECT_EQ(s.operands, (V{"cmd"}));
}

TEST(OptionScannerTest, StopsAtFirstOperandWithoutPermutation) {
  Scan s = ScanArgs({"p", "-a", "ls", "-l", "-a"}, false);
  EXPECT_EQ(s.events, (V{"a"}));
  EXPECT_EQ(s.operands, (V{"ls", "-l", "-a"}));
}

TEST(OptionScannerTest, PermutesLikeGlibc) {
  // glibc's getopt moves operands after the options: "-c" after "ls" is
  // still an option, and "--" ends the scan.
  Scan s = ScanArgs({"p", "ls", "-c", "x", "--", "-a", "y"}, true);
  EXPECT_EQ(s.events, (V{"c"}));
  EXPECT_EQ(s.operands, (V{"ls", "x", "-a", "y"}));
}

TEST(OptionScannerTest, DashAloneIsAnOperand) {
  Scan s = ScanArgs({"p", "-", "-a"}, true);
  EXPECT_EQ(s.events, (V{"a"}));
  EXPECT_EQ(s.operands, (V{"-"}));
}

TEST(OptionScannerTest, DoubleDashFirst) {
  Scan s = ScanArgs({"p", "--", "-a"}, false);
  EXPECT_TRUE(s.events.empty());
  EXPECT_EQ(s.operands, (V{"-a"}));
}

TEST(OptionScannerTest, NoOperands) {
  Scan s = ScanArgs({"p", "-a"}, true);
  EXPECT_TRUE(s.operands.empty());
  Scan t = ScanArgs({"p"}, false);
  EXPECT_TRUE(t.operands.empty());
}

TEST(OptionScannerTest, LongOptions) {
  Scan s = ScanArgs({"p", "--help", "--rewrite=1:2", "--rewrite", "3:4", "--single", "--setsid", "c"},
               false);
  EXPECT_EQ(s.events, (V{"h", "r=1:2", "r=3:4", "c", "1000"}));
  EXPECT_EQ(s.operands, (V{"c"}));
}

TEST(OptionScannerTest, ExactLongMatchBeatsPrefix) {
  Scan s = ScanArgs({"p", "--set=1"}, false);
  EXPECT_EQ(s.events, (V{"1001=1"}));
}

TEST(OptionScannerTest, Errors) {
  EXPECT_EQ(ScanArgs({"prog", "-z"}, false).errors, "prog: invalid option -- 'z'\n");
  EXPECT_EQ(ScanArgs({"prog", "-b"}, false).errors, "prog: option requires an argument -- 'b'\n");
  EXPECT_EQ(ScanArgs({"prog", "--nope"}, false).errors, "prog: unrecognized option '--nope'\n");
  EXPECT_EQ(ScanArgs({"prog", "--help=1"}, false).errors,
            "prog: option '--help' doesn't allow an argument\n");
  EXPECT_EQ(ScanArgs({"prog", "--rewrite"}, false).errors,
            "prog: option '--rewrite' requires an argument\n");
  EXPECT_EQ(ScanArgs({"prog", "--se"}, false).errors,
            "prog: option '--se' is ambiguous; possibilities: '--setsid' '--set'\n");
  EXPECT_EQ(ScanArgs({"prog", "--nope=1"}, false).errors, "prog: unrecognized option '--nope=1'\n");
}

TEST(OptionScannerTest, ArgumentMayStartWithDash) {
  Scan s = ScanArgs({"p", "-b", "-a", "cmd"}, false);
  EXPECT_EQ(s.events, (V{"b=-a"}));
  EXPECT_EQ(s.operands, (V{"cmd"}));
}

TEST(OptionScannerTest, NoLongOptionsTreatsDoubleDashPrefixAsShortCluster) {
  // Without long options "--x" is an invalid short option '-', as in getopt.
  Argv a({"p", "--x"});
  OptionScanner s(a.argc(), a.argv(), "a", nullptr, 0, false);
  char err[128];
  common::Formatter f(err, sizeof err);
  EXPECT_EQ(s.Next(f), OptionScanner::kError);
}

}  // namespace
}  // namespace init
