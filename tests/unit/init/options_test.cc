#include "init/options.h"

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

namespace init {
namespace {

struct Parsed {
  ParseResult result;
  Config config;
  std::string text;
  std::vector<std::string> command;
  std::string program;  // Config::program_name points into the argv
  bool pause = false;
};

Parsed Parse(std::vector<std::string> args, std::vector<std::string> env = {}) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  Parsed p;
  char buf[8192];
  common::Formatter out(buf, sizeof buf);
  p.result = ParseCommandLine(static_cast<int>(args.size()), argv.data(), envp.data(), p.config, out);
  p.text = out.data();
  p.pause = p.config.command == nullptr;
  p.program = p.config.program_name;
  if (p.result.run && p.config.command != nullptr) {
    for (char** c = p.config.command; *c != nullptr; ++c) p.command.emplace_back(*c);
  }
  return p;
}

using V = std::vector<std::string>;

TEST(PersonalityTest, ChosenByBasename) {
  EXPECT_EQ(PersonalityFromArgv0("/usr/bin/tini"), Personality::kTini);
  EXPECT_EQ(PersonalityFromArgv0("tini-static"), Personality::kTini);
  EXPECT_EQ(PersonalityFromArgv0("/sbin/docker-init"), Personality::kTini);
  EXPECT_EQ(PersonalityFromArgv0("dumb-init"), Personality::kDumbInit);
  EXPECT_EQ(PersonalityFromArgv0("./catatonit"), Personality::kCatatonit);
  EXPECT_EQ(PersonalityFromArgv0("/pause"), Personality::kPause);
  EXPECT_EQ(PersonalityFromArgv0("minipod-init"), Personality::kMinipod);
  EXPECT_EQ(PersonalityFromArgv0("/init"), Personality::kMinipod);
  EXPECT_EQ(PersonalityFromArgv0("tini/init"), Personality::kMinipod);
  EXPECT_EQ(PersonalityFromArgv0(nullptr), Personality::kMinipod);
}

TEST(GetEnvTest, FindsExactNames) {
  std::string a = "FOO=1", b = "FOOBAR=2", c = "EMPTY=";
  char* env[] = {a.data(), b.data(), c.data(), nullptr};
  EXPECT_STREQ(GetEnv(env, "FOO"), "1");
  EXPECT_STREQ(GetEnv(env, "FOOBAR"), "2");
  EXPECT_STREQ(GetEnv(env, "EMPTY"), "");
  EXPECT_EQ(GetEnv(env, "FO"), nullptr);
  EXPECT_EQ(GetEnv(nullptr, "FOO"), nullptr);
}

TEST(MinipodOptionsTest, Defaults) {
  Parsed p = Parse({"minipod-init", "ls", "-l"});
  ASSERT_TRUE(p.result.run);
  EXPECT_EQ(p.command, (V{"ls", "-l"}));
  const Config& c = p.config;
  EXPECT_EQ(c.personality, Personality::kMinipod);
  EXPECT_FALSE(c.forward_to_group);
  EXPECT_EQ(c.placement, Placement::kOwnGroup);
  EXPECT_EQ(c.subreaper, Subreaper::kWhenNotPid1);
  EXPECT_EQ(c.restart, RestartPolicy::kNever);
  EXPECT_EQ(c.grace_ms, kNoGrace);
  EXPECT_EQ(c.exit_not_found, 127);
  EXPECT_EQ(c.exit_not_executable, 126);
  for (int s = 1; s <= kMaxSignalNumber; ++s) EXPECT_EQ(c.rewrite[s], s);
  for (int code = 0; code < 256; ++code) EXPECT_FALSE(IsExpectedExit(c, code));
  EXPECT_EQ(c.status_fd, -1);
  EXPECT_TRUE(c.listen_fds) << "socket activation passes through to the command";
}

TEST(MinipodOptionsTest, StatusFd) {
  EXPECT_EQ(Parse({"minipod-init", "--status-fd", "3", "x"}).config.status_fd, 3);
  EXPECT_EQ(Parse({"minipod-init", "--status-fd=0", "x"}).config.status_fd, 0);
  Parsed p = Parse({"minipod-init", "--status-fd", "7", "--restart", "always", "x"});
  ASSERT_TRUE(p.result.run) << p.text;
  EXPECT_EQ(p.config.status_fd, 7);
  EXPECT_NE(Parse({"minipod-init", "-h"}).text.find("--status-fd FD"), std::string::npos);
}

TEST(MinipodOptionsTest, EveryOption) {
  Parsed p = Parse({"/sbin/minipod-init", "-g", "-s", "-e", "3", "--expect-exit=143", "-r",
                    "TERM:INT", "-r", "USR1:0", "-p", "SIGKILL", "-vv", "--grace", "2s",
                    "--restart", "on-failure", "--backoff-initial", "100ms", "--backoff-max",
                    "1s", "--backoff-reset", "1m", "--", "cmd", "--grace"});
  ASSERT_TRUE(p.result.run) << p.text;
  const Config& c = p.config;
  EXPECT_EQ(p.command, (V{"cmd", "--grace"}));
  EXPECT_TRUE(c.forward_to_group);
  EXPECT_EQ(c.subreaper, Subreaper::kAlways);
  EXPECT_TRUE(IsExpectedExit(c, 3));
  EXPECT_TRUE(IsExpectedExit(c, 143));
  EXPECT_FALSE(IsExpectedExit(c, 4));
  EXPECT_EQ(c.rewrite[SIGTERM], SIGINT);
  EXPECT_EQ(c.rewrite[SIGUSR1], 0);
  EXPECT_EQ(c.pdeathsig, SIGKILL);
  EXPECT_EQ(c.verbosity, 3);
  EXPECT_EQ(c.grace_ms, 2000);
  EXPECT_EQ(c.restart, RestartPolicy::kOnFailure);
  EXPECT_EQ(c.backoff_initial_ms, 100);
  EXPECT_EQ(c.backoff_max_ms, 1000);
  EXPECT_EQ(c.backoff_reset_ms, 60'000);
  EXPECT_EQ(p.program, "minipod-init");
}

TEST(MinipodOptionsTest, WaitAllAndTermDelay) {
  Parsed none = Parse({"minipod-init", "x"});
  EXPECT_FALSE(none.config.wait_all);
  EXPECT_EQ(none.config.term_delay_ms, 0);
  Parsed p = Parse({"minipod-init", "--wait-all", "--term-delay", "1m30s", "x"});
  ASSERT_TRUE(p.result.run) << p.text;
  EXPECT_TRUE(p.config.wait_all);
  EXPECT_EQ(p.config.term_delay_ms, 90'000);
  // Both mean something in pause mode and under supervision too.
  Parsed pause = Parse({"minipod-init", "--wait-all", "--term-delay=250ms"});
  ASSERT_TRUE(pause.result.run) << pause.text;
  EXPECT_TRUE(pause.pause);
  EXPECT_EQ(pause.config.term_delay_ms, 250);
  EXPECT_TRUE(Parse({"minipod-init", "--restart", "always", "--wait-all", "x"}).result.run);
  // The environment is for the personalities: minipod's own options win.
  EXPECT_FALSE(Parse({"minipod-init", "x"}, {"MINIPOD_WAIT_ALL=1"}).config.wait_all);
  const std::string help = Parse({"minipod-init", "-h"}).text;
  EXPECT_NE(help.find("--wait-all"), std::string::npos);
  EXPECT_NE(help.find("--term-delay D"), std::string::npos);
}

TEST(PersonalityEnvTest, WaitAllAndTermDelayFromTheEnvironment) {
  for (const char* argv0 : {"tini", "dumb-init", "catatonit"}) {
    SCOPED_TRACE(argv0);
    Parsed p = Parse({argv0, "x"}, {"MINIPOD_WAIT_ALL=1", "MINIPOD_TERM_DELAY=2s"});
    ASSERT_TRUE(p.result.run) << p.text;
    EXPECT_TRUE(p.config.wait_all);
    EXPECT_EQ(p.config.term_delay_ms, 2000);
    Parsed off = Parse({argv0, "x"}, {"MINIPOD_WAIT_ALL=0"});
    EXPECT_FALSE(off.config.wait_all);
    EXPECT_EQ(off.config.term_delay_ms, 0);
    Parsed bad = Parse({argv0, "x"}, {"MINIPOD_TERM_DELAY=soon"});
    EXPECT_FALSE(bad.result.run);
    EXPECT_EQ(bad.result.exit_code, kExitUsage);
    EXPECT_NE(bad.text.find("invalid duration 'soon' in MINIPOD_TERM_DELAY"), std::string::npos)
        << bad.text;
  }
  Parsed pause = Parse({"pause"}, {"MINIPOD_WAIT_ALL=1"});
  ASSERT_TRUE(pause.result.run) << pause.text;
  EXPECT_TRUE(pause.config.wait_all);
  // A personality's own usage error comes first, as before.
  EXPECT_EQ(Parse({"tini", "-Z"}, {"MINIPOD_TERM_DELAY=soon"}).text.find("MINIPOD"), std::string::npos);
}

TEST(MinipodOptionsTest, SetsidIsDumbInitJobControl) {
  Parsed p = Parse({"minipod-init", "--setsid", "-r", "TSTP:USR1", "sh"});
  ASSERT_TRUE(p.result.run);
  const Config& c = p.config;
  EXPECT_EQ(c.placement, Placement::kNewSession);
  EXPECT_TRUE(c.forward_to_group);
  EXPECT_EQ(c.job_control, JobControl::kStopSelf);
  EXPECT_EQ(c.rewrite[SIGTSTP], SIGUSR1);  // the user's rewrite wins
  EXPECT_EQ(c.rewrite[SIGTTIN], SIGSTOP);
  EXPECT_EQ(c.rewrite[SIGTTOU], SIGSTOP);
}

TEST(MinipodOptionsTest, QuietAndRestartPolicies) {
  EXPECT_EQ(Parse({"m", "-q", "x"}).config.verbosity, 0);
  EXPECT_EQ(Parse({"m", "--restart=always", "x"}).config.restart, RestartPolicy::kAlways);
  EXPECT_EQ(Parse({"m", "--restart", "never", "x"}).config.restart, RestartPolicy::kNever);
}

TEST(MinipodOptionsTest, NoCommandIsPauseMode) {
  Parsed p = Parse({"minipod-init"});
  ASSERT_TRUE(p.result.run);
  EXPECT_TRUE(p.pause);
  Parsed q = Parse({"minipod-init", "-v", "--"});
  ASSERT_TRUE(q.result.run);
  EXPECT_TRUE(q.pause);
}

TEST(MinipodOptionsTest, HelpAndVersionGoToStdout) {
  Parsed h = Parse({"minipod-init", "--help", "--bogus"});
  EXPECT_FALSE(h.result.run);
  EXPECT_EQ(h.result.exit_code, 0);
  EXPECT_EQ(h.result.out_fd, 1);
  EXPECT_NE(h.text.find("Usage: minipod-init [OPTIONS]"), std::string::npos);
  Parsed v = Parse({"minipod-init", "-V"});
  EXPECT_FALSE(v.result.run);
  EXPECT_EQ(v.result.out_fd, 1);
  EXPECT_EQ(v.text, std::string("minipod-init ") + kVersion + "\n");
}

struct BadCase {
  std::vector<std::string> args;
  const char* message;  // the first line must contain this
};

TEST(MinipodOptionsTest, BadInputIsOneLinePlusHintAndExit2) {
  const BadCase cases[] = {
      {{"minipod-init", "--bogus", "x"}, "unrecognized option '--bogus'"},
      {{"minipod-init", "-z", "x"}, "invalid option -- 'z'"},
      {{"minipod-init", "-e"}, "option requires an argument -- 'e'"},
      {{"minipod-init", "-e", "256", "x"}, "invalid exit code (0-255) '256' for --expect-exit"},
      {{"minipod-init", "-e", "-1", "x"}, "invalid exit code (0-255) '-1'"},
      {{"minipod-init", "-e", "1x", "x"}, "invalid exit code (0-255) '1x'"},
      {{"minipod-init", "-r", "TERM", "x"}, "invalid FROM:TO 'TERM' for --rewrite"},
      {{"minipod-init", "-r", "NOPE:1", "x"}, "invalid FROM:TO 'NOPE:1'"},
      {{"minipod-init", "-r", "0:TERM", "x"}, "invalid FROM:TO '0:TERM'"},
      {{"minipod-init", "-r", "TERM:99", "x"}, "invalid FROM:TO 'TERM:99'"},
      {{"minipod-init", "-p", "FOO", "x"}, "invalid signal 'FOO' for --pdeathsig"},
      {{"minipod-init", "--grace", "soon", "x"}, "invalid duration 'soon' for --grace"},
      {{"minipod-init", "--restart", "sometimes", "x"}, "invalid policy 'sometimes' for --restart"},
      {{"minipod-init", "--backoff-initial", "10s", "--backoff-max", "1s", "x"},
       "shorter than --backoff-initial"},
      {{"minipod-init", "--restart", "always"}, "need a COMMAND"},
      {{"minipod-init", "--status-fd", "x", "x"}, "invalid file descriptor 'x' for --status-fd"},
      {{"minipod-init", "--status-fd", "-1", "x"}, "invalid file descriptor '-1'"},
      {{"minipod-init", "--status-fd", "", "x"}, "invalid file descriptor ''"},
      {{"minipod-init", "--status-fd"}, "option '--status-fd' requires an argument"},
      {{"minipod-init", "--term-delay", "later", "x"}, "invalid duration 'later' for --term-delay"},
      {{"minipod-init", "--wait-all=1", "x"}, "option '--wait-all' doesn't allow an argument"},
  };
  for (const BadCase& c : cases) {
    Parsed p = Parse(c.args);
    EXPECT_FALSE(p.result.run) << c.message;
    EXPECT_EQ(p.result.exit_code, kExitUsage) << c.message;
    EXPECT_EQ(p.result.out_fd, 2) << c.message;
    const std::string first = p.text.substr(0, p.text.find('\n'));
    EXPECT_NE(first.find(c.message), std::string::npos) << p.text;
    EXPECT_NE(p.text.find("Try 'minipod-init --help'"), std::string::npos) << p.text;
  }
}

}  // namespace
}  // namespace init
