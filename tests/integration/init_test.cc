// minipod-init's own command line, run for real: as PID 1 of a new pid
// namespace and as a child subreaper (every TEST_P runs in both places).
// Exit statuses, signal forwarding, the orphan storm, -g, --grace, -r, -e,
// -p, restart policies, pause mode and usage errors. Runs as root.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace itest {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr int kRt = 40;  // a real-time signal, by its kernel number

std::string Sigrec() { return ProbePath("sigrec"); }
std::string Orphans() { return ProbePath("orphans"); }

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> v;
  size_t start = 0;
  for (size_t nl; (nl = s.find('\n', start)) != std::string::npos; start = nl + 1) {
    v.push_back(s.substr(start, nl - start));
  }
  if (start < s.size()) v.push_back(s.substr(start));
  return v;
}

// Waits until fn() is true or the timeout passes; returns fn()'s last value.
template <typename Fn>
bool Eventually(Fn fn, Ms timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (fn()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(Ms(20));
  }
}

class InitTest : public testing::TestWithParam<Where> {
 protected:
  void TearDown() override { KillAllDescendants(); }

  Where where() const { return GetParam(); }
  bool pid1() const { return GetParam() == Where::kPidNs; }

  std::unique_ptr<Proc> StartInit(const std::vector<std::string>& args, SpawnOptions o = {}) {
    o.path = InitPath();
    o.argv = Concat({"minipod-init"}, args);
    o.where = where();
    auto p = Proc::Start(o);
    EXPECT_TRUE(p->started()) << "could not start " << o.path;
    return p;
  }

  // Runs to completion (bounded) and returns the result.
  Result Run(const std::vector<std::string>& args, Ms timeout = Ms(15'000)) {
    auto p = StartInit(args);
    return p->Wait(timeout);
  }

  // The warning a non-PID-1 init prints once; nothing as PID 1.
  void ExpectSubreaperWarning(const Result& r) {
    if (pid1()) {
      EXPECT_THAT(r.err, Not(HasSubstr("not PID 1"))) << Describe(r);
    } else {
      EXPECT_THAT(r.err, HasSubstr("not PID 1")) << Describe(r);
      EXPECT_THAT(r.err, HasSubstr("subreaper")) << Describe(r);
    }
  }
};

std::string WhereParamName(const testing::TestParamInfo<Where>& info) { return WhereName(info.param); }

// ---------------------------------------------------------------------------
// Exit statuses.

struct ExitCase {
  const char* name;
  std::vector<std::string> probe_args;  // for probe_sigrec
  int want;
};

TEST_P(InitTest, ExitStatusOfTheChild) {
  const ExitCase kCases[] = {
      {"exit 0", {"--exit", "0"}, 0},
      {"exit 3", {"--exit", "3"}, 3},
      {"exit 255", {"--exit", "255"}, 255},
      {"killed by HUP", {"--raise", "HUP"}, 128 + SIGHUP},
      {"killed by INT", {"--raise", "INT"}, 128 + SIGINT},
      {"killed by KILL", {"--raise", "KILL"}, 128 + SIGKILL},
      {"killed by USR1", {"--raise", "USR1"}, 128 + SIGUSR1},
      {"killed by TERM", {"--raise", "TERM"}, 128 + SIGTERM},
  };
  for (const ExitCase& c : kCases) {
    SCOPED_TRACE(c.name);
    const Result r = Run(Concat({"--", Sigrec()}, c.probe_args));
    ASSERT_TRUE(r.exited) << Describe(r);
    EXPECT_EQ(r.exit_code, c.want) << Describe(r);
    EXPECT_EQ(r.term_signal, 0) << "the init itself must exit, not die: " << Describe(r);
    EXPECT_THAT(r.out, HasSubstr("child ready")) << Describe(r);
    ExpectSubreaperWarning(r);
  }
}

TEST_P(InitTest, CommandNotFoundOrNotExecutable) {
  TempDir dir;
  const std::string not_exec = dir.WriteFile("not-executable", "#!/bin/sh\nexit 0\n", 0644);
  const std::string subdir = dir.Join("a-directory");
  ASSERT_EQ(mkdir(subdir.c_str(), 0755), 0);
  const struct {
    std::string cmd;
    int want;
  } kCases[] = {
      {"/nonexistent/minipod-test-cmd", 127},
      {"minipod-no-such-command-in-path", 127},
      {not_exec, 126},
      {subdir, 126},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.cmd);
    const Result r = Run({"--", c.cmd, "arg"});
    ASSERT_TRUE(r.exited) << Describe(r);
    EXPECT_EQ(r.exit_code, c.want) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr(c.cmd)) << "the error names the command: " << Describe(r);
    EXPECT_THAT(r.out, IsEmpty());
  }
}

// ---------------------------------------------------------------------------
// Signal forwarding: every signal but SIGCHLD reaches the child.

class ForwardTest : public testing::TestWithParam<std::tuple<Where, int>> {
 protected:
  void TearDown() override { KillAllDescendants(); }
};

TEST_P(ForwardTest, SignalReachesTheChild) {
  const auto [where, sig] = GetParam();
  const std::string name = ProbeSignalName(sig);
  SpawnOptions o;
  o.path = InitPath();
  o.argv = {"minipod-init", "--", Sigrec(), "--exit-on", std::to_string(sig) + ":7"};
  o.where = where;
  auto p = Proc::Start(o);
  ASSERT_TRUE(p->started());
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  ASSERT_TRUE(p->Signal(sig));
  const Result r = p->Wait(Ms(10'000));
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 7) << Describe(r);
  EXPECT_EQ(r.out, "child ready\nchild " + name + "\nchild exit 7\n") << Describe(r);
}

std::string ForwardParamName(const testing::TestParamInfo<std::tuple<Where, int>>& info) {
  return std::string(WhereName(std::get<0>(info.param))) + "_" + ProbeSignalName(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(Signals, ForwardTest,
                         testing::Combine(testing::Values(Where::kSubreaper, Where::kPidNs),
                                          testing::Values(SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2,
                                                          SIGTERM, SIGALRM, SIGWINCH, SIGCONT, kRt)),
                         ForwardParamName);

TEST_P(InitTest, SigchldIsNotForwarded) {
  auto p = StartInit({"--", Sigrec(), "--exit-on", "USR1:7"});
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  ASSERT_TRUE(p->Signal(SIGCHLD));
  p->Pump(Ms(200));
  ASSERT_TRUE(p->Signal(SIGUSR1));
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 7) << Describe(r);
  EXPECT_EQ(r.out, "child ready\nchild USR1\nchild exit 7\n") << Describe(r);
}

TEST_P(InitTest, SeveralSignalsInARowArriveInOrder) {
  auto p = StartInit({"--", Sigrec(), "--exit-on", "TERM:0"});
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  for (int sig : {SIGUSR1, SIGHUP, SIGWINCH, SIGUSR2}) {
    ASSERT_TRUE(p->Signal(sig));
    ASSERT_TRUE(p->WaitForLine("child " + ProbeSignalName(sig))) << p->out();
  }
  ASSERT_TRUE(p->Signal(SIGTERM));
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "child ready\nchild USR1\nchild HUP\nchild WINCH\nchild USR2\nchild TERM\nchild exit 0\n")
      << Describe(r);
}

// ---------------------------------------------------------------------------
// Reaping: 10,000 orphans, no zombie left while the init still runs.

TEST_P(InitTest, OrphanStormIsFullyReaped) {
  constexpr int kOrphans = 10'000;
  const int strays_before = StrayZombiesReaped();
  auto p = StartInit({"--", Orphans(), "--count", std::to_string(kOrphans), "--batch", "100", "--hold",
                      "--exit", "42"});
  ASSERT_TRUE(p->WaitForLine("orphans done " + std::to_string(kOrphans), Ms(90'000)))
      << p->out() << p->err();
  const pid_t init = p->pid();
  // The last batch may still be exiting: give the init a moment, bounded.
  const bool clean = Eventually(
      [&] { return ZombieDescendants(init).empty() && Descendants(init).size() == 1; }, Ms(10'000));
  const std::vector<pid_t> zombies = ZombieDescendants(init);
  EXPECT_TRUE(clean) << zombies.size() << " zombies and " << Descendants(init).size()
                     << " descendants left below the init";
  if (pid1()) {
    EXPECT_THAT(ZombiesInPidNsOf(init), IsEmpty());
    EXPECT_EQ(ProcessesInPidNsOf(init), 2) << "only the init and the probe should be left";
  }
  // Orphans that reached the test process instead (it is a subreaper too)
  // escaped the init.
  EXPECT_EQ(StrayZombiesReaped() - strays_before, 0) << "orphans were not re-parented to the init";
  EXPECT_EQ(ChildrenOf(getpid()), std::vector<pid_t>{init}) << "orphans were not re-parented to the init";
  ASSERT_TRUE(p->Running()) << "the init must still run while its child does";
  ASSERT_TRUE(p->Signal(SIGTERM));
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 42) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("orphans TERM")) << Describe(r);
}

// ---------------------------------------------------------------------------
// -g: signals go to the child's process group.

TEST_P(InitTest, ProcessGroupFlagReachesTheGrandchild) {
  // The child exits on USR2 only: as PID 1 the init's exit takes the whole
  // namespace with it, so the grandchild must have reported first.
  auto p = StartInit({"-g", "--", Sigrec(), "--exit-on", "USR2:0", "--fork", "--exit-on", "TERM:0"});
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  ASSERT_TRUE(p->Signal(SIGUSR1));
  EXPECT_TRUE(p->WaitForLine("grandchild USR1")) << p->out();
  EXPECT_TRUE(p->WaitForLine("child USR1")) << p->out();
  ASSERT_TRUE(p->Signal(SIGTERM));
  EXPECT_TRUE(p->WaitForLine("grandchild exit 0")) << p->out();
  EXPECT_TRUE(p->WaitForLine("child TERM")) << p->out();
  ASSERT_TRUE(p->Signal(SIGUSR2));
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("\nchild USR2\nchild exit 0\n")) << Describe(r);
}

TEST_P(InitTest, WithoutProcessGroupFlagOnlyTheChildIsSignalled) {
  auto p = StartInit({"--", Sigrec(), "--exit-on", "TERM:0", "--fork", "--exit-on", "TERM:0"});
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  ASSERT_TRUE(p->Signal(SIGUSR1));
  EXPECT_TRUE(p->WaitForLine("child USR1")) << p->out();
  p->Pump(Ms(200));
  EXPECT_EQ(p->CountLines("grandchild USR1"), 0) << p->out();
  ASSERT_TRUE(p->Signal(SIGTERM));
  // The grandchild keeps the pipe open until TearDown kills it.
  const Result r = p->Wait(Ms(10'000), Ms(100));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, Not(HasSubstr("grandchild TERM"))) << Describe(r);
}

// ---------------------------------------------------------------------------
// --grace.

TEST_P(InitTest, GraceKillsAChildThatIgnoresSigterm) {
  auto p = StartInit({"--grace", "300ms", "--", Sigrec(), "--ignore", "TERM", "--exit-on", "USR1:0"});
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  const auto sent = Clock::now();
  ASSERT_TRUE(p->Signal(SIGTERM));
  const Result r = p->Wait();
  const auto took = std::chrono::duration_cast<Ms>(Clock::now() - sent);
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << Describe(r);
  EXPECT_GE(took.count(), 290) << "SIGKILL came before the grace expired";
  EXPECT_LT(took.count(), 5'000);
  EXPECT_THAT(r.out, Not(HasSubstr("child TERM")));
}

TEST_P(InitTest, GraceDoesNotDelayAChildThatObeysSigterm) {
  auto p = StartInit({"--grace", "10s", "--", Sigrec(), "--exit-on", "TERM:9"});
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  const auto sent = Clock::now();
  ASSERT_TRUE(p->Signal(SIGTERM));
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 9) << Describe(r);
  EXPECT_LT(std::chrono::duration_cast<Ms>(Clock::now() - sent).count(), 5'000);
}

TEST_P(InitTest, GraceWaitsForABackgroundProcessThatObeysSigterm) {
  // The background process takes 300ms to exit after SIGTERM.
  auto p = StartInit({"--grace", "10s", "--", Sigrec(), "--exit", "5", "--fork", "--exit-on", "TERM:0",
                      "--sleep-ms", "300"});
  const Result r = p->Wait();
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 5) << Describe(r);
  // The init sent SIGTERM to the leftover, and waited for it to exit.
  EXPECT_THAT(r.out, HasSubstr("grandchild TERM\ngrandchild exit 0\n")) << Describe(r);
  const std::vector<Ms> bg_exit = p->LineTimes("grandchild exit");
  ASSERT_EQ(bg_exit.size(), 1u) << Describe(r);
  EXPECT_LE(bg_exit[0].count(), r.elapsed.count() + 20) << "the init exited before the background process";
  EXPECT_GE(r.elapsed.count(), 290) << Describe(r);
  EXPECT_LT(r.elapsed.count(), 5'000) << "waited for the whole grace instead of the process";
  EXPECT_THAT(Descendants(getpid()), IsEmpty()) << "the background process outlived the init";
}

TEST_P(InitTest, GraceKillsABackgroundProcessThatIgnoresSigterm) {
  auto p = StartInit(
      {"--grace", "400ms", "--", Sigrec(), "--exit", "5", "--fork", "--ignore", "TERM", "--exit-on", "USR1:0"});
  ASSERT_TRUE(p->WaitForLine("child exit 5")) << p->out() << p->err();
  const auto child_exit = Clock::now();
  const Result r = p->Wait();
  const auto took = std::chrono::duration_cast<Ms>(Clock::now() - child_exit);
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 5) << Describe(r);
  EXPECT_GE(took.count(), 300) << "did not wait for the grace";
  EXPECT_LT(took.count(), 5'000);
  EXPECT_THAT(r.out, Not(HasSubstr("grandchild timeout")));
  EXPECT_THAT(Descendants(getpid()), IsEmpty()) << "the background process outlived the init";
}

TEST_P(InitTest, GraceWithNothingLeftExitsAtOnce) {
  const Result r = Run({"--grace", "10s", "--", Sigrec(), "--exit", "3"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_LT(r.elapsed.count(), 5'000) << Describe(r);
}

TEST_P(InitTest, WithoutGraceTheInitExitsWithTheChild) {
  // The background process is not waited for (it stays, then TearDown kills
  // it when the init is not PID 1; as PID 1 the kernel kills it).
  auto p = StartInit({"--", Sigrec(), "--exit", "4", "--fork", "--exit-on", "TERM:0"});
  const Result r = p->Wait(Ms(10'000), Ms(100));
  EXPECT_EQ(r.exit_code, 4) << Describe(r);
  EXPECT_LT(r.elapsed.count(), 5'000) << Describe(r);
  EXPECT_THAT(r.out, Not(HasSubstr("grandchild TERM")));
}

// ---------------------------------------------------------------------------
// -r and -e.

// --wait-all: the main child's leftovers are waited for, not signalled.
TEST_P(InitTest, WaitAllWaitsForABackgroundProcessWithoutSignallingIt) {
  auto p = StartInit({"--wait-all", "--grace", "10s", "--", Sigrec(), "--exit", "5", "--fork",
                      "--exit", "0", "--sleep-ms", "300"});
  const Result r = p->Wait();
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 5) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("grandchild exit 0")) << Describe(r);
  EXPECT_THAT(r.out, Not(HasSubstr("grandchild TERM"))) << Describe(r);
  // Still running when the init exited, it would be here now.
  EXPECT_THAT(Descendants(getpid()), IsEmpty()) << "the init exited before the background process";
}

TEST_P(InitTest, WaitAllForwardsTermToEveryDescendant) {
  auto p = StartInit({"-v", "--wait-all", "--", Sigrec(), "--exit", "5", "--fork", "--exit-on", "TERM:0"});
  // Once the init has reaped the command: a SIGTERM before that is the
  // command's alone.
  ASSERT_TRUE(Eventually(
      [&] {
        p->Pump(Ms(50));
        return p->err().find("waiting for every descendant") != std::string::npos;
      },
      Ms(10'000)))
      << p->out() << p->err();
  ASSERT_TRUE(p->Running()) << "did not wait for the background process";
  ASSERT_TRUE(p->Signal(SIGTERM));
  const Result r = p->Wait();
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 5) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("grandchild exit 0")) << Describe(r);
  EXPECT_THAT(Descendants(getpid()), IsEmpty());
}

// --term-delay 1h: only a second SIGTERM (or a SIGINT) lets the first one go.
class TermDelayTest : public InitTest {
 protected:
  // Starts the init, sends SIGTERM, and waits until the init says it holds it.
  std::unique_ptr<Proc> StartHolding(const std::vector<std::string>& command) {
    auto p = StartInit(Concat({"-v", "--term-delay", "1h", "--"}, command));
    EXPECT_TRUE(p->WaitForLine("child ready")) << p->err();
    EXPECT_TRUE(p->Signal(SIGTERM));
    EXPECT_TRUE(Eventually(
        [&] {
          p->Pump(Ms(50));
          return p->err().find("holding SIGTERM for 3600000ms") != std::string::npos;
        },
        Ms(10'000)))
        << p->err();
    return p;
  }
};

TEST_P(TermDelayTest, SecondSigtermReleasesTheFirst) {
  auto p = StartHolding({Sigrec(), "--exit-on", "TERM:7", "--exit-on", "USR2:9"});
  // Other signals still pass, and the held SIGTERM has not.
  ASSERT_TRUE(p->Signal(SIGUSR1));
  ASSERT_TRUE(p->WaitForLine("child USR1")) << p->out() << p->err();
  EXPECT_EQ(p->CountLines("child exit"), 0) << p->out();
  ASSERT_TRUE(p->Signal(SIGTERM));
  const Result r = p->Wait();
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 7) << Describe(r);
}

TEST_P(TermDelayTest, SigintReleasesTheHeldSigterm) {
  auto p = StartHolding({Sigrec(), "--exit-on", "TERM:7", "--ignore", "INT"});
  ASSERT_TRUE(p->Signal(SIGINT));
  const Result r = p->Wait();
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 7) << Describe(r);
}

TEST_P(TermDelayTest, PersonalitiesTakeItFromTheEnvironment) {
  SpawnOptions o;
  o.path = InitPath();
  o.argv = {"tini", "-v", "--", Sigrec(), "--exit-on", "TERM:7", "--exit-on", "USR1:8"};
  o.env = {"MINIPOD_TERM_DELAY=1h"};
  o.where = where();
  auto p = Proc::Start(o);
  ASSERT_TRUE(p->started());
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  ASSERT_TRUE(p->Signal(SIGTERM));
  ASSERT_TRUE(Eventually(
      [&] {
        p->Pump(Ms(50));
        return p->out().find("holding SIGTERM") != std::string::npos;  // tini: INFO to stdout
      },
      Ms(10'000)))
      << p->out() << p->err();
  ASSERT_TRUE(p->Signal(SIGTERM));
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 7) << Describe(r);
}

TEST_P(InitTest, RewriteTurnsOneSignalIntoAnother) {
  for (const std::vector<std::string>& flag :
       {std::vector<std::string>{"-r", "USR1:USR2"}, {"-r", "10:12"}, {"--rewrite", "SIGUSR1:SIGUSR2"}}) {
    SCOPED_TRACE(flag[1]);
    auto p = StartInit(Concat(flag, {"--", Sigrec(), "--exit-on", "USR2:7", "--exit-on", "USR1:8"}));
    ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
    ASSERT_TRUE(p->Signal(SIGUSR1));
    const Result r = p->Wait();
    EXPECT_EQ(r.exit_code, 7) << Describe(r);
    EXPECT_EQ(r.out, "child ready\nchild USR2\nchild exit 7\n");
  }
}

TEST_P(InitTest, RewriteToZeroDropsTheSignal) {
  auto p = StartInit({"-r", "HUP:0", "-r", "WINCH:0", "--", Sigrec(), "--exit-on", "USR1:7"});
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  ASSERT_TRUE(p->Signal(SIGHUP));
  ASSERT_TRUE(p->Signal(SIGWINCH));
  p->Pump(Ms(200));
  ASSERT_TRUE(p->Running()) << "a dropped SIGHUP must not end the init";
  ASSERT_TRUE(p->Signal(SIGUSR1));
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 7) << Describe(r);
  EXPECT_EQ(r.out, "child ready\nchild USR1\nchild exit 7\n");
}

TEST_P(InitTest, RewriteOfTermStillEndsTheChildViaTheNewSignal) {
  auto p = StartInit({"-r", "TERM:INT", "--", Sigrec(), "--exit-on", "INT:3"});
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  ASSERT_TRUE(p->Signal(SIGTERM));
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(r.out, "child ready\nchild INT\nchild exit 3\n");
}

TEST_P(InitTest, ExpectedExitCodesBecomeZero) {
  const struct {
    std::vector<std::string> args;
    int want;
  } kCases[] = {
      {{"-e", "3", "--", Sigrec(), "--exit", "3"}, 0},
      {{"-e", "3", "-e", "4", "--", Sigrec(), "--exit", "4"}, 0},
      {{"--expect-exit", "4", "--", Sigrec(), "--exit", "4"}, 0},
      {{"-e", "3", "--", Sigrec(), "--exit", "5"}, 5},
      {{"-e", "0", "--", Sigrec(), "--exit", "0"}, 0},
      {{"-e", "143", "--", Sigrec(), "--raise", "TERM"}, 0},
      {{"-e", "3", "--", "/nonexistent/minipod-test-cmd"}, 127},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(testing::PrintToString(c.args));
    const Result r = Run(c.args);
    EXPECT_EQ(r.exit_code, c.want) << Describe(r);
  }
}

// ---------------------------------------------------------------------------
// -p: the init's parent dies, the init gets the signal and forwards it.

TEST_P(InitTest, ParentDeathSignalIsForwardedToTheChild) {
  SpawnOptions o;
  o.with_shim = true;
  auto p = StartInit({"-p", "USR1", "--", Sigrec(), "--exit-on", "USR1:7"}, o);
  ASSERT_GT(p->shim_pid(), 0);
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  p->KillShim();
  const Result r = p->Wait();
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 7) << Describe(r);
  EXPECT_EQ(r.out, "child ready\nchild USR1\nchild exit 7\n") << Describe(r);
}

TEST_P(InitTest, WithoutParentDeathSignalTheInitOutlivesItsParent) {
  SpawnOptions o;
  o.with_shim = true;
  auto p = StartInit({"--", Sigrec(), "--exit-on", "USR2:6"}, o);
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  p->KillShim();
  p->Pump(Ms(200));
  ASSERT_TRUE(p->Running());
  ASSERT_TRUE(p->Signal(SIGUSR2));
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 6) << Describe(r);
  EXPECT_EQ(r.out, "child ready\nchild USR2\nchild exit 6\n");
}

// ---------------------------------------------------------------------------
// Restart policies (short back-off).

TEST_P(InitTest, RestartAlwaysRestartsWithGrowingBackoff) {
  TempDir dir;
  auto p = StartInit({"--restart", "always", "--backoff-initial", "100ms", "--backoff-max", "200ms", "--",
                      Sigrec(), "--counter", dir.Join("runs"), "--exit-seq", "3"});
  ASSERT_TRUE(p->WaitForLine("child run 4", Ms(10'000))) << p->out() << p->err();
  ASSERT_TRUE(p->Signal(SIGTERM));
  const Result r = p->Wait();
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 3) << "the last run's status: " << Describe(r);
  // Gaps between the end of one run and the start of the next:
  // 100ms, 200ms, then capped at 200ms.
  auto exits = p->LineTimes("child exit");
  auto runs = p->LineTimes("child run");
  ASSERT_GE(runs.size(), 5u);
  ASSERT_GE(exits.size(), 4u);
  const long want_min[] = {100, 200, 200, 200};
  for (size_t i = 0; i < 4; ++i) {
    const long gap = (runs[i + 1] - exits[i]).count();
    EXPECT_GE(gap, want_min[i] - 15) << "gap " << i;
    EXPECT_LT(gap, 1'500) << "gap " << i << " (max back-off is 200ms)";
  }
}

TEST_P(InitTest, RestartOnFailureStopsAtExitZero) {
  TempDir dir;
  const Result r = Run({"--restart", "on-failure", "--backoff-initial", "100ms", "--", Sigrec(), "--counter",
                        dir.Join("runs"), "--exit-seq", "1,2,0,9"});
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Lines(r.out), (std::vector<std::string>{"child run 0", "child ready", "child exit 1",
                                                    "child run 1", "child ready", "child exit 2",
                                                    "child run 2", "child ready", "child exit 0"}))
      << Describe(r);
  EXPECT_GE(r.elapsed.count(), 280) << "100ms + 200ms of back-off";
}

TEST_P(InitTest, RestartOnFailureRestartsAfterDeathBySignal) {
  TempDir dir;
  auto p = StartInit({"--restart", "on-failure", "--backoff-initial", "100ms", "--", Sigrec(), "--counter",
                      dir.Join("runs"), "--exit-seq", "5,0"});
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(p->CountLines("child run"), 2) << Describe(r);
}

TEST_P(InitTest, RestartNeverRunsOnce) {
  for (const std::vector<std::string>& policy :
       {std::vector<std::string>{"--restart", "never"}, std::vector<std::string>{}}) {
    TempDir dir;
    const Result r = Run(Concat(policy, {"--backoff-initial", "100ms", "--", Sigrec(), "--counter",
                                         dir.Join("runs"), "--exit-seq", "3"}));
    EXPECT_EQ(r.exit_code, 3) << Describe(r);
    EXPECT_EQ(Lines(r.out), (std::vector<std::string>{"child run 0", "child ready", "child exit 3"}));
  }
}

TEST_P(InitTest, RestartBackoffResetsAfterALongRun) {
  TempDir dir;
  // Runs last 300ms, longer than the 150ms reset: every delay is the initial
  // 100ms again (without the reset the fourth would be 800ms).
  auto p = StartInit({"--restart", "always", "--backoff-initial", "100ms", "--backoff-max", "2s",
                      "--backoff-reset", "150ms", "--", Sigrec(), "--counter", dir.Join("runs"), "--exit-seq",
                      "1", "--sleep-ms", "300"});
  ASSERT_TRUE(p->WaitForLine("child run 4", Ms(10'000))) << p->out() << p->err();
  ASSERT_TRUE(p->Signal(SIGTERM));
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  auto exits = p->LineTimes("child exit");
  auto runs = p->LineTimes("child run");
  ASSERT_GE(exits.size(), 4u);
  ASSERT_GE(runs.size(), 5u);
  for (size_t i = 0; i < 4; ++i) {
    const long gap = (runs[i + 1] - exits[i]).count();
    EXPECT_GE(gap, 85) << "gap " << i;
  }
  const long gap4 = (runs[4] - exits[3]).count();
  EXPECT_LT(gap4, 500) << "the back-off was not reset by runs longer than --backoff-reset";
}

TEST_P(InitTest, SigtermDuringARunEndsSupervision) {
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(ProbeSignalName(sig));
    TempDir dir;
    auto p = StartInit({"--restart", "always", "--backoff-initial", "100ms", "--", Sigrec(), "--counter",
                        dir.Join("runs"), "--exit-on", "TERM:7", "--exit-on", "INT:8"});
    ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
    ASSERT_TRUE(p->Signal(sig));
    const Result r = p->Wait();
    ASSERT_TRUE(r.exited) << Describe(r);
    EXPECT_EQ(r.exit_code, sig == SIGTERM ? 7 : 8) << Describe(r);
    EXPECT_EQ(p->CountLines("child run"), 1) << "restarted after SIGTERM: " << Describe(r);
  }
}

TEST_P(InitTest, SigtermDuringBackoffExitsAtOnce) {
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(ProbeSignalName(sig));
    TempDir dir;
    auto p = StartInit({"--restart", "always", "--backoff-initial", "3s", "--backoff-max", "3s", "--", Sigrec(),
                        "--counter", dir.Join("runs"), "--exit-seq", "3"});
    ASSERT_TRUE(p->WaitForLine("child exit 3")) << p->err();
    const pid_t init = p->pid();
    // In the back-off wait once the run is reaped.
    ASSERT_TRUE(Eventually([&] { return ChildrenOf(init).empty(); }, Ms(2'000)));
    const auto sent = Clock::now();
    ASSERT_TRUE(p->Signal(sig));
    const Result r = p->Wait();
    ASSERT_TRUE(r.exited) << Describe(r);
    EXPECT_EQ(r.exit_code, 3) << Describe(r);
    EXPECT_LT(std::chrono::duration_cast<Ms>(Clock::now() - sent).count(), 2'000)
        << "waited for the back-off instead of exiting at once";
    EXPECT_EQ(p->CountLines("child run"), 1) << Describe(r);
  }
}

TEST_P(InitTest, RestartGivesEveryRunItsOwnListenPid) {
  // Socket activation: LISTEN_PID names the init (a shell sets it to its own
  // pid, then execs the init), so each run of the command, the first and
  // every restart, must find its own pid there.
  SpawnOptions o;
  o.path = "/bin/sh";
  o.argv = {"sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\"", InitPath(), "--restart", "always",
            "--backoff-initial", "50ms", "--backoff-max", "50ms", "--", ProbePath("pidinfo"), "--relations",
            "--exit", "3"};
  o.where = where();
  auto p = Proc::Start(o);
  ASSERT_TRUE(p->started());
  ASSERT_TRUE(p->WaitForLine("listen_pid=", Ms(10'000), 3)) << p->out() << p->err();
  ASSERT_TRUE(p->Signal(SIGTERM));
  const Result r = p->Wait();
  ASSERT_TRUE(r.exited) << Describe(r);
  int runs = 0;
  for (const std::string& line : Lines(r.out)) {
    if (line.rfind("listen_pid=", 0) != 0) continue;
    ++runs;
    EXPECT_EQ(line, "listen_pid=self") << "run " << runs << ": " << Describe(r);
  }
  EXPECT_GE(runs, 3) << Describe(r);
}

TEST_P(InitTest, CommandNotFoundIsNotRestarted) {
  const Result r = Run({"--restart", "always", "--backoff-initial", "100ms", "--", "/nonexistent/minipod-test-cmd"});
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 127) << Describe(r);
  EXPECT_LT(r.elapsed.count(), 3'000) << Describe(r);
  size_t mentions = 0;
  for (size_t at = 0; (at = r.err.find("/nonexistent/minipod-test-cmd", at)) != std::string::npos; ++at) {
    ++mentions;
  }
  EXPECT_EQ(mentions, 1u) << "one failed exec, one message: " << Describe(r);
}

// ---------------------------------------------------------------------------
// Pause mode: no command.

TEST_P(InitTest, PauseModeIgnoresOtherSignalsAndExitsZeroOnTermOrInt) {
  for (int stop : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(ProbeSignalName(stop));
    auto p = StartInit({});
    p->Pump(Ms(100));
    for (int sig : {SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH, SIGCONT, SIGCHLD, SIGPIPE, kRt}) {
      ASSERT_TRUE(p->Signal(sig)) << ProbeSignalName(sig);
    }
    p->Pump(Ms(300));
    ASSERT_TRUE(p->Running()) << p->err();
    ASSERT_TRUE(p->Signal(stop));
    const Result r = p->Wait(Ms(5'000));
    ASSERT_TRUE(r.exited) << Describe(r);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_EQ(r.term_signal, 0);
    EXPECT_THAT(r.out, IsEmpty());
  }
}

// Puts a process into the init's pid namespace whose parent exits at once,
// so the init inherits it; the process exits right after. Both are forked
// inside the namespace: had the parent been outside, the orphan would go to
// the nearest subreaper above that parent (this test process), not the init.
// Returns false if it could not be done.
bool InjectOrphanInto(pid_t init) {
  const std::string ns = "/proc/" + std::to_string(init) + "/ns/pid";
  const int nsfd = open(ns.c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) return false;
  const pid_t helper = fork();
  if (helper == 0) {
    if (setns(nsfd, CLONE_NEWPID) != 0) _exit(1);
    const pid_t parent = fork();  // the first process we make in the namespace
    if (parent < 0) _exit(2);
    if (parent == 0) {
      int p[2];
      if (pipe(p) != 0) _exit(2);
      const pid_t orphan = fork();
      if (orphan == 0) {
        close(p[1]);
        char c;
        (void)!read(p[0], &c, 1);  // returns once `parent` has exited
        _exit(0);
      }
      _exit(orphan > 0 ? 0 : 3);
    }
    int status = 0;
    if (waitpid(parent, &status, 0) != parent) _exit(4);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 5);
  }
  close(nsfd);
  int status = 0;
  if (helper < 0 || waitpid(helper, &status, 0) != helper) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Only a PID 1 inherits orphans from outside its own tree, so these run in
// a pid namespace only.
class Pid1Test : public InitTest {};

TEST_P(Pid1Test, PauseModeReapsOrphansInItsNamespace) {
  auto p = StartInit({});
  p->Pump(Ms(100));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(InjectOrphanInto(p->pid()));
  const pid_t init = p->pid();
  EXPECT_TRUE(Eventually([&] { return ProcessesInPidNsOf(init) == 1; }, Ms(5'000)))
      << ProcessesInPidNsOf(init) << " processes, " << ZombiesInPidNsOf(init).size() << " zombies";
  ASSERT_TRUE(p->Running());
  ASSERT_TRUE(p->Signal(SIGTERM));
  const Result r = p->Wait(Ms(5'000));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

TEST_P(Pid1Test, CommandModeReapsOrphansHandedToPid1) {
  auto p = StartInit({"--", Sigrec(), "--exit-on", "TERM:0"});
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(InjectOrphanInto(p->pid()));
  const pid_t init = p->pid();
  EXPECT_TRUE(Eventually([&] { return ProcessesInPidNsOf(init) == 2; }, Ms(5'000)))
      << ProcessesInPidNsOf(init) << " processes, " << ZombiesInPidNsOf(init).size() << " zombies";
  ASSERT_TRUE(p->Signal(SIGTERM));
  EXPECT_EQ(p->Wait().exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(Where, InitTest, testing::Values(Where::kSubreaper, Where::kPidNs), WhereParamName);
INSTANTIATE_TEST_SUITE_P(Where, TermDelayTest, testing::Values(Where::kSubreaper, Where::kPidNs),
                         WhereParamName);
INSTANTIATE_TEST_SUITE_P(Where, Pid1Test, testing::Values(Where::kPidNs), WhereParamName);

// ---------------------------------------------------------------------------
// The command line itself (no namespace needed).

class CommandLineTest : public testing::Test {
 protected:
  void TearDown() override { KillAllDescendants(); }
  Result Run(const std::vector<std::string>& args) {
    SpawnOptions o;
    o.path = InitPath();
    o.argv = Concat({"minipod-init"}, args);
    auto p = Proc::Start(o);
    EXPECT_TRUE(p->started());
    return p->Wait(Ms(10'000));
  }
};

TEST_F(CommandLineTest, UsageErrorsExitTwoWithOneLineAndAHint) {
  const struct {
    std::vector<std::string> args;
    const char* names;  // the first line must mention this
  } kCases[] = {
      {{"--bogus"}, "bogus"},
      {{"-x", "true"}, "x"},
      {{"-e"}, "e"},
      {{"-e", "256", "true"}, "256"},
      {{"-e", "abc", "true"}, "abc"},
      {{"-r", "USR1", "true"}, "USR1"},
      {{"-r", "NOPE:0", "true"}, "NOPE"},
      {{"-r", "USR1:NOPE", "true"}, "NOPE"},
      {{"-p", "NOPE", "true"}, "NOPE"},
      {{"--restart", "sometimes", "true"}, "sometimes"},
      {{"--grace", "soon", "true"}, "soon"},
      {{"--grace"}, "grace"},
      {{"--backoff-initial", "2s", "--backoff-max", "1s", "true"}, "backoff"},
      {{"--restart", "always"}, "COMMAND"},
      {{"--help=yes"}, "help"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(testing::PrintToString(c.args));
    const Result r = Run(c.args);
    ASSERT_TRUE(r.exited) << Describe(r);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_THAT(r.out, IsEmpty());
    const std::vector<std::string> lines = Lines(r.err);
    ASSERT_EQ(lines.size(), 2u) << Describe(r);
    EXPECT_THAT(lines[0], HasSubstr(c.names));
    EXPECT_EQ(lines[1], "Try 'minipod-init --help' for more information.");
  }
}

TEST_F(CommandLineTest, HelpAndVersionGoToStdout) {
  for (const char* flag : {"-h", "--help"}) {
    const Result r = Run({flag});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_THAT(r.out, testing::StartsWith("Usage: minipod-init "));
    EXPECT_THAT(r.out, HasSubstr("--grace"));
    EXPECT_THAT(r.err, IsEmpty());
  }
  for (const char* flag : {"-V", "--version"}) {
    const Result r = Run({flag});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_THAT(r.out, testing::MatchesRegex("minipod-init [0-9][^\n]*\n"));
    EXPECT_THAT(r.err, IsEmpty());
  }
}

TEST_F(CommandLineTest, OptionsStopAtTheFirstOperand) {
  // "--exit 3" belongs to the probe, not to the init.
  const Result r = Run({Sigrec(), "--exit", "3"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(r.out, "child ready\nchild exit 3\n");
}

TEST_F(CommandLineTest, ChildGetsItsOwnProcessGroupAndTheInheritedSignalState) {
  SpawnOptions o;
  o.path = InitPath();
  o.argv = {"minipod-init", "--", ProbePath("pidinfo"), "--relations"};
  o.blocked = {SIGUSR2};
  o.ignored = {SIGHUP};
  auto p = Proc::Start(o);
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("pgrp_leader=1\n"));
  EXPECT_THAT(r.out, HasSubstr("session_leader=0\n"));
  EXPECT_THAT(r.out, HasSubstr("parent_session=1\n"));
  EXPECT_THAT(r.out, HasSubstr("sigblk=0000000000000800\n")) << "USR2 blocked, as the init was started";
  EXPECT_THAT(r.out, HasSubstr("sigign=0000000000000001\n")) << "HUP ignored, as the init was started";
  EXPECT_THAT(r.out, HasSubstr("fds=none\n"));
}

TEST_F(CommandLineTest, ChildGetsEveryInheritedBlockedNumberBack) {
  // 34 and 35 are real-time signals for glibc; musl reserves 34 and its
  // sigprocmask leaves 32-34 out of the old mask it reports.
  SpawnOptions o;
  o.path = InitPath();
  o.argv = {"minipod-init", "--", ProbePath("pidinfo"), "--relations"};
  o.blocked = {SIGUSR2, 34, 35};
  auto p = Proc::Start(o);
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("sigblk=0000000600000800\n")) << "USR2, 34 and 35 blocked, as the init was started";
}

// --status-fd, through a shell that opens the descriptor and then execs the
// init (so the init is the process the test waits for).
class StatusFdTest : public CommandLineTest {
 protected:
  // Runs `minipod-init --status-fd 3 ARGS...` with fd 3 open on a file and
  // returns the result; the file's content lands in status_.
  Result RunWithStatusFile(const std::vector<std::string>& args) {
    const std::string file = dir_.Join("status");
    SpawnOptions o;
    o.path = "/bin/sh";
    o.argv = Concat({"sh", "-c", "f=$1; shift; exec \"$0\" --status-fd 3 \"$@\" 3>\"$f\"", InitPath(), file},
                    args);
    auto p = Proc::Start(o);
    EXPECT_TRUE(p->started());
    const Result r = p->Wait(Ms(15'000));
    status_ = ReadAll(file);
    return r;
  }
  static std::string ReadAll(const std::string& path) {
    std::string s;
    if (FILE* f = fopen(path.c_str(), "r")) {
      char buf[256];
      size_t n;
      while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
      fclose(f);
    }
    return s;
  }
  TempDir dir_;
  std::string status_;
};

TEST_F(StatusFdTest, ExitStatusIsOneLine) {
  const Result r = RunWithStatusFile({"--", Sigrec(), "--exit", "5"});
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 5) << Describe(r);
  EXPECT_EQ(status_, "exit 5\n");
}

TEST_F(StatusFdTest, DeathBySignalIsReportedAsTheSignal) {
  for (const auto& [name, sig] : {std::pair{"TERM", SIGTERM}, std::pair{"KILL", SIGKILL}, std::pair{"USR1", SIGUSR1}}) {
    SCOPED_TRACE(name);
    const Result r = RunWithStatusFile({"--", Sigrec(), "--raise", name});
    ASSERT_TRUE(r.exited) << Describe(r);
    EXPECT_EQ(r.exit_code, 128 + sig) << Describe(r);
    EXPECT_EQ(status_, "signal " + std::to_string(sig) + "\n");
  }
}

TEST_F(StatusFdTest, TheRawStatusEvenWhenExpectedExitMapsItToZero) {
  const Result r = RunWithStatusFile({"-e", "7", "--", Sigrec(), "--exit", "7"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(status_, "exit 7\n");
}

TEST_F(StatusFdTest, SupervisionWritesOnlyTheLastRun) {
  const Result r = RunWithStatusFile({"--restart", "on-failure", "--backoff-initial", "50ms", "--", Sigrec(),
                                      "--counter", dir_.Join("runs"), "--exit-seq", "3,4,0"});
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("child run 2\n")) << Describe(r);
  EXPECT_EQ(status_, "exit 0\n");
}

TEST_F(StatusFdTest, TheCommandDoesNotInheritIt) {
  const Result r = RunWithStatusFile({"--", ProbePath("pidinfo"), "--relations"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("fds=none\n")) << Describe(r);
  EXPECT_EQ(status_, "exit 0\n");
}

TEST_F(StatusFdTest, ClosedReaderOrBadDescriptorIsIgnored) {
  // The pipe's reader (`true`) is gone long before the child exits: the
  // write fails with EPIPE, and the SIGPIPE must not kill the init. bash's
  // pipefail returns the init's own status.
  SpawnOptions o;
  o.path = "/bin/bash";
  o.argv = {"bash", "-c", "set -o pipefail; \"$0\" --status-fd 3 -- \"$1\" --sleep-ms 1000 --exit 5 3>&1 >/dev/null | true",
            InitPath(), Sigrec()};
  auto p = Proc::Start(o);
  const Result r = p->Wait(Ms(15'000));
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 5) << "141 would be death by SIGPIPE: " << Describe(r);

  const Result bad = Run({"--status-fd", "99", "--", Sigrec(), "--exit", "5"});
  ASSERT_TRUE(bad.exited) << Describe(bad);
  EXPECT_EQ(bad.exit_code, 5) << Describe(bad);
  EXPECT_EQ(bad.term_signal, 0) << Describe(bad);
}

TEST_F(CommandLineTest, SigpipeOfTheInitsOwnWriteIsNotForwarded) {
  // The init's stderr is a pipe whose reader is gone (bash waits for it to
  // exit first): its messages raise SIGPIPE in the init, which is the
  // init's, not something to hand to the child.
  SpawnOptions o;
  o.path = "/bin/bash";
  o.argv = {"bash", "-c", "exec 2> >(exec true); wait $!; exec \"$0\" -v -- \"$1\" --exit-on USR1:0", InitPath(),
            Sigrec()};
  auto p = Proc::Start(o);
  ASSERT_TRUE(p->started());
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->out();
  p->Pump(Ms(200));
  ASSERT_TRUE(p->Signal(SIGUSR1));
  const Result r = p->Wait();
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "child ready\nchild USR1\nchild exit 0\n") << Describe(r);
}

TEST_F(CommandLineTest, InheritedIgnoredSigchldStillReportsTheExitStatus) {
  // With SIGCHLD ignored the kernel would reap the child by itself and the
  // status would be lost (tini and catatonit hang there). The init takes
  // SIGCHLD over and gives the child its inherited SIG_IGN back.
  SpawnOptions o;
  o.path = InitPath();
  o.argv = {"minipod-init", "--", ProbePath("pidinfo"), "--relations"};
  o.ignored = {SIGCHLD};
  auto p = Proc::Start(o);
  const Result r = p->Wait(Ms(10'000));
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("sigign=0000000000010000\n")) << "CHLD ignored, as the init was started";

  o.argv = {"minipod-init", "--", "/bin/sh", "-c", "exit 5"};
  auto q = Proc::Start(o);
  const Result s = q->Wait(Ms(10'000));
  ASSERT_TRUE(s.exited) << Describe(s);
  EXPECT_EQ(s.exit_code, 5) << Describe(s);
}

TEST_F(CommandLineTest, SubreaperWarningIsSilencedByQuietOrExplicitFlag) {
  for (const char* flag : {"-q", "-s", "--subreaper", "--quiet"}) {
    SCOPED_TRACE(flag);
    const Result r = Run({flag, "--", Sigrec(), "--exit", "0"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_THAT(r.err, IsEmpty()) << Describe(r);
  }
}

TEST_F(CommandLineTest, VerboseReportsTheChild) {
  const Result r = Run({"-v", "--", Sigrec(), "--exit", "3"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("INFO")) << Describe(r);
  EXPECT_THAT(r.out, Not(HasSubstr("INFO"))) << "messages belong on stderr";
}

TEST_F(CommandLineTest, SetsidPutsTheChildInANewSessionAndSignalsItsGroup) {
  {
    const Result r = Run({"--setsid", "--", ProbePath("pidinfo"), "--relations"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_THAT(r.out, HasSubstr("pgrp_leader=1\nsession_leader=1\n")) << Describe(r);
  }
  SpawnOptions o;
  o.path = InitPath();
  o.argv = {"minipod-init", "--setsid", "--", Sigrec(), "--exit-on", "USR2:0", "--fork", "--exit-on", "USR1:0"};
  auto p = Proc::Start(o);
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  ASSERT_TRUE(p->Signal(SIGUSR1));
  EXPECT_TRUE(p->WaitForLine("grandchild exit 0")) << "--setsid forwards to the group: " << p->out();
  EXPECT_TRUE(p->WaitForLine("child USR1")) << p->out();
  ASSERT_TRUE(p->Signal(SIGUSR2));
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

TEST_F(CommandLineTest, SetsidTstpStopsTheChildsGroupAndTheInit) {
  SpawnOptions o;
  o.path = InitPath();
  o.argv = {"minipod-init", "--setsid", "--", Sigrec(), "--exit-on", "TERM:7"};
  auto p = Proc::Start(o);
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  ASSERT_TRUE(p->Signal(SIGTSTP));
  ASSERT_TRUE(p->WaitStopped()) << "the init did not stop itself";
  std::vector<pid_t> children = ChildrenOf(p->pid());
  ASSERT_EQ(children.size(), 1u);
  EXPECT_TRUE(Eventually([&] { return ProcState(children[0]) == 'T'; }, Ms(2'000)))
      << "the child's group was not stopped";
  ASSERT_TRUE(p->Signal(SIGCONT));
  EXPECT_TRUE(p->WaitForLine("child CONT")) << p->out();
  ASSERT_TRUE(p->Signal(SIGTERM));
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 7) << Describe(r);
  EXPECT_EQ(r.out, "child ready\nchild CONT\nchild TERM\nchild exit 7\n") << Describe(r);
}

TEST_F(CommandLineTest, ChildIsTheTerminalsForegroundGroup) {
  SpawnOptions o;
  o.path = InitPath();
  o.argv = {"minipod-init", "--", ProbePath("pidinfo"), "--relations"};
  o.with_tty = true;
  auto p = Proc::Start(o);
  const Result r = p->Wait();
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("pgrp_leader=1\nsession_leader=0\nparent_pgrp=0\nparent_session=1\nctty=1\n"
                               "foreground=1\n"))
      << Describe(r);
}

}  // namespace
}  // namespace itest
