// The --cmd splitter (a shell's quoting without expansions) and the
// /etc/minipod/argv encoding, table-driven.
#include "rootfs/image_argv.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rootfs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Words = std::vector<std::string>;

struct SplitCase {
  const char* cmd;
  Words want;
};

TEST(SplitCommandTest, SplitsLikeAShellWithoutExpansions) {
  const SplitCase cases[] = {
      {"true", {"true"}},
      {"  sh   -c\t'echo hi; exit 3'\n", {"sh", "-c", "echo hi; exit 3"}},
      {"echo \"a b\" c", {"echo", "a b", "c"}},
      {"echo \"\\\"q\\\" \\\\ \\$HOME \\`x\\`\"", {"echo", "\"q\" \\ $HOME `x`"}},
      {"echo \"\\n stays\"", {"echo", "\\n stays"}},
      {"echo 'a\\b'", {"echo", "a\\b"}},
      {"echo a\\ b \\'c\\' \\\\", {"echo", "a b", "'c'", "\\"}},
      {"a\"b\"'c'd", {"abcd"}},
      {"x \"\" ''", {"x", "", ""}},
      {"one\\\ntwo", {"onetwo"}},
      {"\"line\\\njoined\"", {"linejoined"}},
      {"echo $HOME * ~ ; | >", {"echo", "$HOME", "*", "~", ";", "|", ">"}},
      {"'\"'", {"\""}},
      {"\"'\"", {"'"}},
  };
  for (const SplitCase& c : cases) {
    absl::StatusOr<Words> got = SplitCommand(c.cmd);
    ASSERT_TRUE(got.ok()) << c.cmd << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.cmd;
  }
}

TEST(SplitCommandTest, RefusesUnbalancedQuotesAndEmptyCommands) {
  const struct {
    absl::string_view cmd;
    const char* message;
  } cases[] = {
      {"echo 'oops", "unbalanced single quote at offset 5"},
      {"echo \"oops", "unbalanced double quote at offset 5"},
      {"echo \"a\\\"", "unbalanced double quote"},
      {"echo \\", "backslash at the end"},
      {"", "no command"},
      {" \t\n", "no command"},
      {absl::string_view("a\0b", 3), "NUL"},
      {absl::string_view("'a\0b'", 5), "NUL"},
      {absl::string_view("\"a\0b\"", 5), "NUL"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<Words> got = SplitCommand(c.cmd);
    ASSERT_FALSE(got.ok()) << c.cmd;
    EXPECT_TRUE(absl::IsInvalidArgument(got.status())) << got.status();
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(c.message)) << c.cmd;
  }
}

TEST(QuoteCommandTest, SplitGivesTheWordsBack) {
  const Words cases[] = {
      {"true"},
      {"sh", "-c", "echo 'hi'; exit 3"},
      {"a b", "", "'", "\"", "\\", "$x", "`y`", "\n", "tab\there", "ok/path=1,2:3@%+_."},
  };
  for (const Words& words : cases) {
    const std::string quoted = QuoteCommand(words);
    absl::StatusOr<Words> back = SplitCommand(quoted);
    ASSERT_TRUE(back.ok()) << quoted << ": " << back.status();
    EXPECT_EQ(*back, words) << quoted;
  }
  EXPECT_EQ(QuoteCommand({"sh", "-c", "it's"}), "sh -c 'it'\\''s'");
}

TEST(ArgvFileTest, EncodesEachWordWithANulAndDecodesBack) {
  absl::StatusOr<std::string> bytes = EncodeArgv({"sh", "-c", "echo hi", ""});
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, std::string("sh\0-c\0echo hi\0\0", 15));
  absl::StatusOr<Words> back = DecodeArgv(*bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_THAT(*back, ElementsAre("sh", "-c", "echo hi", ""));
}

TEST(ArgvFileTest, LimitsAreTheInitsOwn) {
  EXPECT_FALSE(EncodeArgv({}).ok());
  EXPECT_FALSE(EncodeArgv({std::string("a\0b", 3)}).ok());
  EXPECT_TRUE(EncodeArgv(Words(kMaxArgvWords, "x")).ok());
  EXPECT_FALSE(EncodeArgv(Words(kMaxArgvWords + 1, "x")).ok());
  EXPECT_TRUE(EncodeArgv({std::string(kMaxArgvBytes - 1, 'a')}).ok());
  absl::StatusOr<std::string> big = EncodeArgv({std::string(kMaxArgvBytes, 'a')});
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(std::string(big.status().message()), HasSubstr("4097 bytes; at most 4096"));
  EXPECT_FALSE(DecodeArgv("").ok());
  EXPECT_FALSE(DecodeArgv("no-nul").ok());
  EXPECT_FALSE(DecodeArgv(std::string(kMaxArgvBytes + 1, '\0')).ok());
}

}  // namespace
}  // namespace rootfs
