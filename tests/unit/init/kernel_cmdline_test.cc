// Boot mode's kernel command line parser: the two quoting levels, repeated
// and malformed parameters, limits.
#include "init/kernel_cmdline.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace init {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Parsed {
  std::string buf;
  BootSpec spec;
  std::vector<std::string> argv, env;
};

// Parses a copy of line; the spec's pointers stay valid in the result.
std::unique_ptr<Parsed> Parse(const std::string& line) {
  auto p = std::make_unique<Parsed>();
  p->buf = line;
  ParseKernelCmdline(p->buf.data(), p->spec);
  for (int i = 0; i < p->spec.argc; ++i) p->argv.emplace_back(p->spec.argv[i]);
  for (int i = 0; i < p->spec.envc; ++i) p->env.emplace_back(p->spec.env[i]);
  EXPECT_EQ(p->spec.argv[p->spec.argc], nullptr);
  EXPECT_EQ(p->spec.env[p->spec.envc], nullptr);
  return p;
}

TEST(KernelCmdline, NothingOfOurs) {
  auto p = Parse("BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n");
  EXPECT_EQ(p->spec.argc, 0);
  EXPECT_EQ(p->spec.envc, 0);
  EXPECT_EQ(p->spec.workdir, nullptr);
  EXPECT_EQ(p->spec.hostname, nullptr);
  EXPECT_EQ(p->spec.error, nullptr);
}

TEST(KernelCmdline, EmptyLine) {
  auto p = Parse("");
  EXPECT_EQ(p->spec.argc, 0);
  EXPECT_EQ(p->spec.error, nullptr);
}

TEST(KernelCmdline, PlainCommandIsOneWord) {
  auto p = Parse("console=ttyS0 minipod.cmd=/bin/true panic=-1\n");
  EXPECT_THAT(p->argv, ElementsAre("/bin/true"));
}

TEST(KernelCmdline, DoubleQuotesGroupAndAreRemoved) {
  auto p = Parse("quiet minipod.cmd=\"/bin/sh -c 'exit 3'\" panic=-1");
  EXPECT_THAT(p->argv, ElementsAre("/bin/sh", "-c", "exit 3"));
}

TEST(KernelCmdline, WholeParameterQuotedAsTheKernelAllows) {
  auto p = Parse("\"minipod.cmd=echo a  b\"");
  EXPECT_THAT(p->argv, ElementsAre("echo", "a", "b"));
}

TEST(KernelCmdline, BackslashEscapesOutsideSingleQuotes) {
  auto p = Parse("minipod.cmd=\"printf a\\ b 'c\\d' \\'\"");
  EXPECT_THAT(p->argv, ElementsAre("printf", "a b", "c\\d", "'"));
}

TEST(KernelCmdline, EmptyQuotedWordIsKept) {
  auto p = Parse("minipod.cmd=\"cmd '' x\"");
  EXPECT_THAT(p->argv, ElementsAre("cmd", "", "x"));
}

TEST(KernelCmdline, UnclosedQuotesRunToTheEnd) {
  auto p = Parse("minipod.cmd=\"sh -c 'echo a b");
  EXPECT_THAT(p->argv, ElementsAre("sh", "-c", "echo a b"));
  auto q = Parse("minipod.cmd=x\\");
  EXPECT_THAT(q->argv, ElementsAre("x\\"));
}

TEST(KernelCmdline, LaterCommandWins) {
  auto p = Parse("minipod.cmd=\"a b c\" minipod.cmd=d");
  EXPECT_THAT(p->argv, ElementsAre("d"));
}

TEST(KernelCmdline, EmptyCommandMeansNone) {
  auto p = Parse("minipod.cmd= minipod.cmd=\"  \"");
  EXPECT_EQ(p->spec.argc, 0);
}

TEST(KernelCmdline, EnvWorkdirHostname) {
  auto p = Parse(
      "minipod.env=A=1 minipod.env=\"B=two words\" minipod.env=C= "
      "minipod.workdir=/tmp minipod.hostname=box");
  EXPECT_THAT(p->env, ElementsAre("A=1", "B=two words", "C="));
  EXPECT_STREQ(p->spec.workdir, "/tmp");
  EXPECT_STREQ(p->spec.hostname, "box");
  EXPECT_EQ(p->spec.error, nullptr);
}

TEST(KernelCmdline, MalformedEnvIsReportedAndSkipped) {
  auto p = Parse("minipod.env=NOEQUALS minipod.env==v minipod.env=K=V");
  EXPECT_THAT(p->env, ElementsAre("K=V"));
  EXPECT_STREQ(p->spec.error, "minipod.env: expected K=V");
}

TEST(KernelCmdline, PrefixMustMatchExactly) {
  auto p = Parse("xminipod.cmd=a minipod.cmdx=b minipod.cmd");
  EXPECT_EQ(p->spec.argc, 0);
}

TEST(KernelCmdline, DoubleDashEndsTheParameters) {
  auto p = Parse("minipod.cmd=a -- minipod.cmd=b");
  EXPECT_THAT(p->argv, ElementsAre("a"));
}

TEST(KernelCmdline, TooManyWordsKeepsTheFirstAndSaysSo) {
  std::string line = "minipod.cmd=\"";
  for (int i = 0; i < BootSpec::kMaxArgs + 5; ++i) line += "w ";
  line += "\"";
  auto p = Parse(line);
  EXPECT_EQ(p->spec.argc, BootSpec::kMaxArgs);
  EXPECT_STREQ(p->spec.error, "minipod.cmd: too many words");
}

TEST(KernelCmdline, TooManyEnvEntries) {
  std::string line;
  for (int i = 0; i < BootSpec::kMaxEnv + 1; ++i) line += "minipod.env=K" + std::to_string(i) + "=v ";
  auto p = Parse(line);
  EXPECT_EQ(p->spec.envc, BootSpec::kMaxEnv);
  EXPECT_STREQ(p->spec.error, "minipod.env: too many entries");
}

TEST(KernelCmdline, TabsAndNewlinesSeparate) {
  auto p = Parse("a\tminipod.workdir=/w\nminipod.cmd=\"x\ty\"\n");
  EXPECT_STREQ(p->spec.workdir, "/w");
  EXPECT_THAT(p->argv, ElementsAre("x", "y"));
  EXPECT_THAT(p->env, IsEmpty());
}

}  // namespace
}  // namespace init
