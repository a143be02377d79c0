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
  EXPECT_EQ(p->spec.init_args, 1);
}

// The words after "--" are counted as the kernel splits them (a quoted
// stretch is one word); words before it that the kernel did not know are not.
TEST(KernelCmdline, CountsTheInitArgumentsAfterTheDoubleDash) {
  EXPECT_EQ(Parse("console=ttyS0 nokaslr stray")->spec.init_args, 0);
  EXPECT_EQ(Parse("nokaslr -- busybox sh -c \"exit 3\"\n")->spec.init_args, 4);
  EXPECT_EQ(Parse("quiet --")->spec.init_args, 0);
  EXPECT_EQ(Parse("-- -- a=b")->spec.init_args, 2);
  EXPECT_EQ(Parse("a --x b")->spec.init_args, 0);
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

TEST(KernelCmdline, SharesRootWaitAllTermDelay) {
  auto p = Parse("minipod.share=data:/mnt/data minipod.share=out:/tmp/a/out:rw "
                 "minipod.share=x:/srv/a:b:ro minipod.root=hostroot minipod.wait_all "
                 "minipod.term_delay=1.5s");
  EXPECT_EQ(p->spec.error, nullptr);
  ASSERT_EQ(p->spec.sharec, 3);
  EXPECT_STREQ(p->spec.shares[0].tag, "data");
  EXPECT_STREQ(p->spec.shares[0].dir, "/mnt/data");
  EXPECT_FALSE(p->spec.shares[0].rw);
  EXPECT_STREQ(p->spec.shares[1].tag, "out");
  EXPECT_STREQ(p->spec.shares[1].dir, "/tmp/a/out");
  EXPECT_TRUE(p->spec.shares[1].rw);
  EXPECT_STREQ(p->spec.shares[2].dir, "/srv/a:b");  // only a last :rw/:ro is a flag
  EXPECT_FALSE(p->spec.shares[2].rw);
  EXPECT_STREQ(p->spec.root, "hostroot");
  EXPECT_TRUE(p->spec.wait_all);
  EXPECT_EQ(p->spec.term_delay_ms, 1500);
}

TEST(KernelCmdline, WaitAllForms) {
  EXPECT_TRUE(Parse("minipod.wait_all=1")->spec.wait_all);
  EXPECT_FALSE(Parse("minipod.wait_all minipod.wait_all=0")->spec.wait_all);
  EXPECT_FALSE(Parse("minipod.wait_allx")->spec.wait_all);
  EXPECT_FALSE(Parse("")->spec.wait_all);
  EXPECT_EQ(Parse("")->spec.root, nullptr);
  EXPECT_EQ(Parse("minipod.root=")->spec.root, nullptr);
}

TEST(KernelCmdline, MalformedSharesAndDelays) {
  for (const char* bad : {"minipod.share=data", "minipod.share=:/x", "minipod.share=t:rel",
                          "minipod.share="}) {
    auto p = Parse(bad);
    EXPECT_EQ(p->spec.sharec, 0) << bad;
    EXPECT_STREQ(p->spec.error, "minipod.share: expected TAG:/DIR[:rw]") << bad;
  }
  std::string nine;
  for (int i = 0; i < 9; ++i) nine += "minipod.share=t" + std::to_string(i) + ":/d ";
  auto p = Parse(nine);
  EXPECT_EQ(p->spec.sharec, BootSpec::kMaxShares);
  EXPECT_STREQ(p->spec.error, "minipod.share: too many");
  auto d = Parse("minipod.term_delay=2s minipod.term_delay=soon");
  EXPECT_STREQ(d->spec.error, "minipod.term_delay: expected a duration");
  EXPECT_EQ(d->spec.term_delay_ms, 0);
}

// /etc/minipod/argv as ParseArgvFile() sees it: the file's bytes plus a NUL.
std::unique_ptr<Parsed> ParseArgv(const std::string& bytes) {
  auto p = std::make_unique<Parsed>();
  p->buf = bytes;
  ParseArgvFile(p->buf.data(), bytes.size(), p->spec);
  for (int i = 0; i < p->spec.argc; ++i) p->argv.emplace_back(p->spec.argv[i]);
  EXPECT_EQ(p->spec.argv[p->spec.argc], nullptr);
  return p;
}

TEST(ArgvFile, WordsEndWithNul) {
  using namespace std::string_literals;
  auto p = ParseArgv("sh\0-c\0echo 'hi' \"there\"\n\0"s);
  EXPECT_EQ(p->spec.error, nullptr);
  EXPECT_THAT(p->argv, ElementsAre("sh", "-c", "echo 'hi' \"there\"\n"));
  EXPECT_THAT(ParseArgv("a\0\0b\0"s)->argv, ElementsAre("a", "", "b"));
}

TEST(ArgvFile, MalformedOrTooLong) {
  using namespace std::string_literals;
  for (const std::string& bad : {""s, "sh"s, "sh\0-c"s}) {
    auto p = ParseArgv(bad);
    EXPECT_EQ(p->spec.argc, 0);
    EXPECT_STREQ(p->spec.error, "/etc/minipod/argv: expected NUL-terminated words");
  }
  std::string many;
  for (int i = 0; i < BootSpec::kMaxArgs; ++i) many += "w"s + '\0';
  EXPECT_EQ(ParseArgv(many)->spec.argc, BootSpec::kMaxArgs);
  auto p = ParseArgv(many + "w"s + '\0');
  EXPECT_EQ(p->spec.argc, 0);
  EXPECT_STREQ(p->spec.error, "/etc/minipod/argv: too many words");
}

}  // namespace
}  // namespace init
