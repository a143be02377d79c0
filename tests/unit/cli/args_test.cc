#include "cli/args.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace minipod::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::vector<OptionSpec> kSpecs = {
    {"output", 'o', ArgKind::kValue, "OUT", "where to write"},
    {"add", 0, ArgKind::kList, "SRC[:DST]", "copy a file"},
    {"force", 'f', ArgKind::kFlag, "", "replace OUT"},
    {"strip", 's', ArgKind::kFlag, "", "strip copies"},
};

absl::StatusOr<ParsedArgs> P(std::vector<std::string> args) { return Parse(kSpecs, args); }

TEST(CliParse, LongShortAndOperandsInAnyOrder) {
  auto r = P({"bash", "--output", "out1", "-f", "ls", "--add=a:b", "--add", "c", "-oout2"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Value("output"), "out2") << "the last value wins";
  EXPECT_TRUE(r->Has("force"));
  EXPECT_FALSE(r->Has("strip"));
  EXPECT_THAT(r->Values("add"), ElementsAre("a:b", "c"));
  EXPECT_THAT(r->operands(), ElementsAre("bash", "ls"));
  EXPECT_FALSE(r->help());
}

TEST(CliParse, GroupedShortFlagsAndValue) {
  auto r = P({"-fso", "x"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->Has("force"));
  EXPECT_TRUE(r->Has("strip"));
  EXPECT_EQ(r->Value("output"), "x");
  r = P({"-fsoy"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Value("output"), "y");
}

TEST(CliParse, DoubleDashEndsOptions) {
  auto r = P({"-f", "--", "-o", "--add", "-"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->operands(), ElementsAre("-o", "--add", "-"));
  EXPECT_FALSE(r->Has("output"));
}

TEST(CliParse, EmptyValueIsAValue) {
  auto r = P({"--output="});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Has("output"));
  EXPECT_EQ(r->Value("output", "fallback"), "");
  EXPECT_EQ(r->Value("missing", "fallback"), "fallback");
  EXPECT_THAT(r->Values("missing"), IsEmpty());
}

TEST(CliParse, HelpStopsParsing) {
  auto r = P({"--output", "x", "--help", "--bogus"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->help());
  r = P({"-h"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->help());
}

TEST(CliParse, ErrorsNameTheOptionAndTheReason) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  } cases[] = {
      {{"--bogus"}, "unknown option '--bogus'"},
      {{"--bogus=1"}, "unknown option '--bogus'"},
      {{"--out", "x"}, "unknown option '--out'"},  // no abbreviations
      {{"-x"}, "unknown option '-x'"},
      {{"-fx"}, "unknown option '-x'"},
      {{"--force=yes"}, "option '--force' takes no value"},
      {{"--output"}, "option '--output' needs a value (OUT)"},
      {{"bin", "-o"}, "option '-o' needs a value (OUT)"},
      {{"--add"}, "option '--add' needs a value (SRC[:DST])"},
  };
  for (const Case& c : cases) {
    auto r = P(c.args);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message);
  }
}

TEST(CliUsage, ListsEveryOptionAligned) {
  const std::string u = Usage("minipod rootfs build", "[OPTIONS] BIN...", "Bundle binaries.", kSpecs);
  EXPECT_THAT(u, HasSubstr("Usage: minipod rootfs build [OPTIONS] BIN...\nBundle binaries.\n"));
  EXPECT_THAT(u, HasSubstr("  -o, --output OUT     where to write\n"));
  EXPECT_THAT(u, HasSubstr("      --add SRC[:DST]  copy a file (repeatable)\n"));
  EXPECT_THAT(u, HasSubstr("  -f, --force          replace OUT\n"));
  EXPECT_THAT(u, HasSubstr("  -h, --help           show this help\n"));
}

}  // namespace
}  // namespace minipod::cli

namespace minipod::cli {
namespace {

TEST(ParseStopAtOperand, TheCommandKeepsItsOwnOptions) {
  const OptionSpec specs[] = {{"rootfs", 0, ArgKind::kValue, "DIR", ""}, {"ro", 'r', ArgKind::kFlag, "", ""}};
  const std::vector<std::string> args = {"--rootfs", "/r", "-r", "ls", "-l", "--rootfs", "x"};
  auto p = Parse(specs, args, /*stop_at_operand=*/true);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->Value("rootfs"), "/r");
  EXPECT_TRUE(p->Has("ro"));
  EXPECT_EQ(p->operands(), (std::vector<std::string>{"ls", "-l", "--rootfs", "x"}));
  p = Parse(specs, {"-r", "--", "--rootfs"}, true);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->operands(), (std::vector<std::string>{"--rootfs"}));
  EXPECT_FALSE(Parse(specs, args, false).ok());  // "-l" is no option of ours
}

}  // namespace
}  // namespace minipod::cli

namespace minipod::cli {
namespace {

TEST(ParsedArgsOrdered, KeepsTheOrderAcrossOptions) {
  const OptionSpec specs[] = {{"bind", 0, ArgKind::kList, "B", ""},
                              {"tmpfs", 't', ArgKind::kList, "T", ""},
                              {"out", 0, ArgKind::kValue, "O", ""},
                              {"ro", 'r', ArgKind::kFlag, "", ""}};
  auto p = Parse(specs, {"--tmpfs", "/a", "--bind=x:/a/b", "-r", "-t/c", "--out", "1", "--out", "2", "op"});
  ASSERT_TRUE(p.ok()) << p.status();
  using Pair = std::pair<std::string, std::string>;
  EXPECT_THAT(p->ordered(), ElementsAre(Pair("tmpfs", "/a"), Pair("bind", "x:/a/b"), Pair("tmpfs", "/c"),
                                        Pair("out", "1"), Pair("out", "2")));
  // Per option, as before.
  EXPECT_THAT(p->Values("tmpfs"), ElementsAre("/a", "/c"));
  EXPECT_EQ(p->Value("out"), "2");
}

}  // namespace
}  // namespace minipod::cli
