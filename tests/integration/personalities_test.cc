// minipod-init's personalities side by side with the real tools: for each
// case, run /usr/bin/tini, dumb-init or catatonit and then minipod-init
// symlinked under the same basename, with the same arguments, environment,
// signal state and signals sent at the same points, and compare the exit
// code, stdout (exactly) and stderr (modulo pids and temp paths). Kubernetes'
// pause has no binary here: its cases compare against pause.c's documented
// behaviour. Runs as root.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <regex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace itest {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// What the harness does to the running init, in order.
struct Action {
  enum Kind { kWaitLine, kWaitStopped, kWaitOneDescendant, kSignal, kPump, kKillShim } kind;
  std::string text;
  int value = 0;  // signal or milliseconds
};
Action WaitLine(std::string s) { return {Action::kWaitLine, std::move(s), 0}; }
Action WaitStopped() { return {Action::kWaitStopped, "", 0}; }
// Until the init has exactly one descendant left (its child): every orphan
// has been reaped.
Action WaitOneDescendant() { return {Action::kWaitOneDescendant, "", 0}; }
Action Sig(int sig) { return {Action::kSignal, "", sig}; }
Action Pump(int ms) { return {Action::kPump, "", ms}; }
Action KillShim() { return {Action::kKillShim, "", 0}; }

// How much of the output must match.
enum class Compare {
  kExact,     // exit code, stdout exactly, stderr modulo pids and paths
  // Help texts: minipod-init words its own help, so compare exactly only the
  // lines up to and including the "Usage:" line (the error and version lines
  // before it), then the set of options named, and check that every
  // environment variable the tool documents is documented.
  kHelp,
  // Exit code, and which streams carry output (own license text, own
  // wording of verbose messages).
  kExitAndStreams,
};

struct SideCase {
  std::string name;   // test name suffix
  std::string tool;   // basename: tini, docker-init, dumb-init, catatonit
  // Arguments after argv[0]; @SIGREC @PIDINFO @ORPHANS @NOEXEC @DIR @TMP
  // are replaced by paths.
  std::vector<std::string> args;
  std::vector<Action> actions = {};
  Where where = Where::kSubreaper;
  std::vector<std::string> env = {};
  std::vector<int> blocked = {};
  std::vector<int> ignored = {};
  bool with_shim = false;
  bool sort_stdout = false;  // lines from several processes: order is racy
  Compare compare = Compare::kExact;
  bool with_tty = false;  // the init starts with a controlling terminal
};

// gtest prints the case by name instead of as raw bytes.
[[maybe_unused]] void PrintTo(const SideCase& c, std::ostream* os) { *os << c.name; }

// The lines up to and including the first "Usage:"/"usage:" line.
std::string HelpHead(const std::string& s) {
  const size_t usage = s.find("sage: ");
  if (usage == std::string::npos) return s;
  const size_t nl = s.find('\n', usage);
  return s.substr(0, nl == std::string::npos ? s.size() : nl + 1);
}

// The names a help text mentions after its usage line, sorted and unique:
// options ("-g", "--version") when want_env is false, environment variables
// ("TINI_SUBREAPER") when it is true.
std::vector<std::string> HelpNames(const std::string& s, bool want_env) {
  static const std::regex kOption(R"((?:^|[\s,\[])(--?[A-Za-z][A-Za-z-]*))");
  static const std::regex kEnv(R"(\b([A-Z]+_[A-Z_]*[A-Z])\b)");
  const std::string tail = s.substr(HelpHead(s).size());
  std::vector<std::string> names;
  for (auto it = std::sregex_iterator(tail.begin(), tail.end(), want_env ? kEnv : kOption);
       it != std::sregex_iterator(); ++it) {
    names.push_back((*it)[1].str());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string RealBinary(const std::string& tool) {
  if (tool == "tini" || tool == "docker-init") return "/usr/bin/tini";
  return "/usr/bin/" + tool;
}

std::string SortedLines(const std::string& s) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = s.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(s.substr(start, nl - start));
  }
  if (start < s.size()) lines.push_back(s.substr(start));
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// minipod-init's personalities append their own version to the tool's
// version string ("tini version 0.19.0 - minipod-init 0.1.0", like tini's
// own " - git.<hash>" suffix); that suffix is the one accepted difference.
std::string StripOwnVersion(const std::string& s) {
  static const std::regex kSuffix(R"( - minipod-init [0-9][0-9A-Za-z.+~-]*)");
  return std::regex_replace(s, kSuffix, "");
}

class SideBySideTest : public testing::TestWithParam<SideCase> {
 protected:
  void SetUp() override {
    real_dir_ = tmp_.Join("real");
    ours_dir_ = tmp_.Join("ours");
    ASSERT_EQ(mkdir(real_dir_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(ours_dir_.c_str(), 0755), 0);
    noexec_ = tmp_.WriteFile("not-executable", "#!/bin/sh\nexit 0\n", 0644);
    dir_ = tmp_.Join("a-directory");
    ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
  }
  void TearDown() override { KillAllDescendants(); }

  std::vector<std::string> Expand(const std::vector<std::string>& args) const {
    std::vector<std::string> out;
    for (const std::string& a : args) {
      if (a == "@SIGREC") {
        out.push_back(ProbePath("sigrec"));
      } else if (a == "@PIDINFO") {
        out.push_back(ProbePath("pidinfo"));
      } else if (a == "@ORPHANS") {
        out.push_back(ProbePath("orphans"));
      } else if (a == "@NOEXEC") {
        out.push_back(noexec_);
      } else if (a == "@DIR") {
        out.push_back(dir_);
      } else if (a == "@TMP") {
        out.push_back(tmp_.path());
      } else {
        out.push_back(a);
      }
    }
    return out;
  }

  // Runs one side; failures to reach an action's condition are reported
  // (with `side` named) but the run still completes.
  Result RunSide(const SideCase& c, const std::string& side, const std::string& binary) {
    const std::string dir = side == "real" ? real_dir_ : ours_dir_;
    const std::string link = dir + "/" + c.tool;
    if (access(link.c_str(), F_OK) != 0) {
      EXPECT_EQ(symlink(binary.c_str(), link.c_str()), 0) << link;
    }
    SpawnOptions o;
    o.path = link;
    o.argv = {link};
    for (const std::string& a : Expand(c.args)) o.argv.push_back(a);
    o.env = c.env;
    o.where = c.where;
    o.blocked = c.blocked;
    o.ignored = c.ignored;
    o.with_shim = c.with_shim;
    o.with_tty = c.with_tty;
    o.cwd = tmp_.path();
    auto p = Proc::Start(o);
    EXPECT_TRUE(p->started()) << side;
    if (!p->started()) return Result{};
    for (const Action& a : c.actions) {
      bool ok = true;
      switch (a.kind) {
        case Action::kWaitLine:
          ok = p->WaitForLine(a.text, Ms(5'000));
          break;
        case Action::kWaitStopped:
          ok = p->WaitStopped();
          break;
        case Action::kWaitOneDescendant: {
          const auto deadline = Clock::now() + Ms(5'000);
          while (!(ok = Descendants(p->pid()).size() == 1) && Clock::now() < deadline) p->Pump(Ms(20));
          break;
        }
        case Action::kSignal:
          ok = p->Signal(a.value);
          break;
        case Action::kPump:
          p->Pump(Ms(a.value));
          break;
        case Action::kKillShim:
          p->KillShim();
          break;
      }
      if (!ok) {
        ADD_FAILURE() << side << ": action " << static_cast<int>(a.kind) << " '" << a.text << "' " << a.value
                      << " failed\n--- stdout ---\n" << p->out() << "--- stderr ---\n" << p->err();
        break;
      }
    }
    return p->Wait(Ms(10'000), Ms(2'000));
  }

  TempDir tmp_;
  std::string real_dir_, ours_dir_, noexec_, dir_;
};

TEST_P(SideBySideTest, SameAsTheRealTool) {
  const SideCase& c = GetParam();
  const std::string real_bin = RealBinary(c.tool);
  if (access(real_bin.c_str(), X_OK) != 0) GTEST_SKIP() << real_bin << " is not installed";

  const Result real = RunSide(c, "real", real_bin);
  const Result ours = RunSide(c, "ours", InitPath());
  ASSERT_TRUE(real.exited) << "the real tool did not finish; the case is broken:\n" << Describe(real);

  const std::vector<std::string> real_dirs = {real_dir_ + "/", real_dir_, tmp_.path()};
  const std::vector<std::string> our_dirs = {ours_dir_ + "/", ours_dir_, tmp_.path()};
  auto norm_out = [&](const std::string& s, const std::vector<std::string>& dirs) {
    std::string n = Normalize(StripOwnVersion(s), dirs);
    return c.sort_stdout ? SortedLines(n) : n;
  };
  const std::string context = "\n=== real ===\n" + Describe(real) + "\n=== minipod-init as " + c.tool +
                              " ===\n" + Describe(ours);
  EXPECT_TRUE(ours.exited) << context;
  EXPECT_EQ(ours.exit_code, real.exit_code) << context;
  const std::string real_out = norm_out(real.out, real_dirs);
  const std::string our_out = norm_out(ours.out, our_dirs);
  const std::string real_err = Normalize(real.err, real_dirs);
  const std::string our_err = Normalize(StripOwnVersion(ours.err), our_dirs);
  switch (c.compare) {
    case Compare::kExact:
      EXPECT_EQ(our_out, real_out) << "stdout differs" << context;
      EXPECT_EQ(our_err, real_err) << "stderr differs" << context;
      break;
    case Compare::kHelp:
      EXPECT_EQ(HelpHead(our_out), HelpHead(real_out)) << "stdout differs" << context;
      EXPECT_EQ(HelpHead(our_err), HelpHead(real_err)) << "stderr differs" << context;
      EXPECT_EQ(HelpNames(our_out, false), HelpNames(real_out, false)) << "options on stdout differ" << context;
      EXPECT_EQ(HelpNames(our_err, false), HelpNames(real_err, false)) << "options on stderr differ" << context;
      // Every environment variable the tool documents is documented too.
      for (const std::string& env : HelpNames(real_out + real_err, true)) {
        EXPECT_THAT(HelpNames(our_out + our_err, true), testing::Contains(env)) << context;
      }
      break;
    case Compare::kExitAndStreams:
      EXPECT_EQ(ours.out.empty(), real.out.empty()) << "stdout differs in having output" << context;
      EXPECT_EQ(ours.err.empty(), real.err.empty()) << "stderr differs in having output" << context;
      break;
  }
}

constexpr int kRt = 40;

SideCase Help(SideCase c) {
  c.compare = Compare::kHelp;
  return c;
}
SideCase Tty(SideCase c) {
  c.with_tty = true;
  return c;
}
SideCase Streams(SideCase c) {
  c.compare = Compare::kExitAndStreams;
  return c;
}

std::vector<SideCase> TiniCases() {
  const std::vector<Action> usr1_then_exit = {WaitLine("child ready"), Sig(SIGUSR1)};
  return {
      {"tini_version", "tini", {"--version"}},
      Help({"tini_help", "tini", {"-h"}}),
      Help({"tini_long_help_is_invalid", "tini", {"--help"}}),
      Help({"tini_bad_option", "tini", {"-x", "true"}}),
      Help({"tini_missing_command", "tini", {}}),
      Help({"tini_only_options", "tini", {"-s", "-g"}}),
      Streams({"tini_license", "tini", {"-l"}}),
      {"tini_not_found", "tini", {"--", "/nonexistent/minipod-cmd"}},
      {"tini_not_found_in_path", "tini", {"-s", "--", "minipod-no-such-command"}},
      {"tini_not_executable", "tini", {"-s", "--", "@NOEXEC"}},
      {"tini_directory", "tini", {"-s", "--", "@DIR"}},
      {"tini_exit_code", "tini", {"--", "@SIGREC", "--exit", "3"}},
      {"tini_exit_code_subreaper", "tini", {"-s", "--", "@SIGREC", "--exit", "3"}},
      {"tini_exit_code_env_subreaper", "tini", {"--", "@SIGREC", "--exit", "3"}, {}, Where::kSubreaper,
       {"TINI_SUBREAPER=1"}},
      {"tini_exit_code_quiet", "tini", {"--", "@SIGREC", "--exit", "3"}, {}, Where::kSubreaper,
       {"TINI_VERBOSITY=0"}},
      {"tini_exit_code_pid1", "tini", {"--", "@SIGREC", "--exit", "3"}, {}, Where::kPidNs},
      {"tini_killed_by_signal", "tini", {"-s", "--", "@SIGREC", "--raise", "USR1"}},
      {"tini_killed_by_sigkill_pid1", "tini", {"--", "@SIGREC", "--raise", "KILL"}, {}, Where::kPidNs},
      {"tini_forwards_usr1", "tini", {"-s", "--", "@SIGREC", "--exit-on", "USR1:7"}, usr1_then_exit},
      {"tini_forwards_term_pid1", "tini", {"--", "@SIGREC", "--exit-on", "TERM:7"},
       {WaitLine("child ready"), Sig(SIGTERM)}, Where::kPidNs},
      {"tini_forwards_rt_signal", "tini", {"-s", "--", "@SIGREC", "--exit-on", "40:7"},
       {WaitLine("child ready"), Sig(kRt)}},
      {"tini_forwards_cont_and_winch", "tini", {"-s", "--", "@SIGREC", "--exit-on", "WINCH:7"},
       {WaitLine("child ready"), Sig(SIGCONT), WaitLine("child CONT"), Sig(SIGWINCH)}},
      {"tini_does_not_forward_chld", "tini", {"-s", "--", "@SIGREC", "--exit-on", "USR1:7"},
       {WaitLine("child ready"), Sig(SIGCHLD), Pump(150), Sig(SIGUSR1)}},
      {"tini_killed_by_forwarded_term", "tini", {"-s", "--", "@SIGREC", "--die-on", "TERM"},
       {WaitLine("child ready"), Sig(SIGTERM)}},
      {"tini_expect_exit", "tini", {"-s", "-e", "3", "--", "@SIGREC", "--exit", "3"}},
      {"tini_expect_exit_other_code", "tini", {"-s", "-e", "3", "--", "@SIGREC", "--exit", "4"}},
      {"tini_expect_exit_signal_code", "tini", {"-s", "-e", "143", "--", "@SIGREC", "--raise", "TERM"}},
      {"tini_expect_exit_invalid", "tini", {"-e", "256", "true"}},
      {"tini_pdeathsig_invalid", "tini", {"-p", "BOGUS", "true"}},
      {"tini_pdeathsig", "tini", {"-s", "-p", "SIGUSR1", "--", "@SIGREC", "--exit-on", "USR1:7"},
       {WaitLine("child ready"), KillShim()}, Where::kSubreaper, {}, {}, {}, /*with_shim=*/true},
      {"tini_group", "tini",
       {"-s", "-g", "--", "@SIGREC", "--exit-on", "USR2:0", "--fork", "--exit-on", "TERM:0"},
       {WaitLine("child ready"), Sig(SIGUSR1), WaitLine("grandchild USR1"), WaitLine("child USR1"),
        Sig(SIGTERM), WaitLine("grandchild exit"), WaitLine("child TERM"), Sig(SIGUSR2)},
       Where::kSubreaper, {}, {}, {}, false, /*sort_stdout=*/true},
      {"tini_group_env", "tini",
       {"-s", "--", "@SIGREC", "--exit-on", "USR2:0", "--fork", "--exit-on", "USR1:0"},
       {WaitLine("child ready"), Sig(SIGUSR1), WaitLine("grandchild exit"), WaitLine("child USR1"),
        Sig(SIGUSR2)},
       Where::kSubreaper, {"TINI_KILL_PROCESS_GROUP=1"}, {}, {}, false, /*sort_stdout=*/true},
      {"tini_no_group", "tini",
       {"-s", "--", "@SIGREC", "--exit-on", "USR2:0", "--fork", "--exit-on", "TERM:0"},
       {WaitLine("child ready"), Sig(SIGUSR1), WaitLine("child USR1"), Pump(150), Sig(SIGUSR2)},
       Where::kPidNs},
      {"tini_child_placement_and_signal_state", "tini", {"-s", "--", "@PIDINFO", "--relations"}, {},
       Where::kSubreaper, {}, {SIGUSR2, SIGWINCH}, {SIGHUP, SIGPIPE}},
      Help({"tini_options_are_permuted", "tini", {"@SIGREC", "-s", "--exit", "3"}}),
      {"tini_reaps_orphans_pid1", "tini", {"--", "@ORPHANS", "--count", "300", "--exit", "5"}, {},
       Where::kPidNs},
      {"tini_warns_on_reap", "tini", {"-s", "-w", "--", "@ORPHANS", "--count", "3", "--batch", "3", "--hold"},
       {WaitLine("orphans done"), WaitOneDescendant(), Sig(SIGTERM)}},
      Streams({"tini_verbose", "tini", {"-s", "-vv", "--", "@SIGREC", "--exit", "3"}}),
      Tty({"tini_tty_foreground", "tini", {"-s", "--", "@PIDINFO", "--relations"}}),
      {"tini_tstp_forwarded", "tini", {"-s", "--", "@SIGREC", "--exit-on", "USR1:7"},
       {WaitLine("child ready"), Sig(SIGTSTP), WaitLine("child TSTP"), Sig(SIGUSR1)}},
      {"tini_ttin_ttou_dropped", "tini", {"-s", "--", "@SIGREC", "--exit-on", "USR1:7"},
       {WaitLine("child ready"), Sig(SIGTTIN), Sig(SIGTTOU), Pump(150), Sig(SIGUSR1)}},
      {"tini_listen_pid_untouched", "tini", {"-s", "--", "@PIDINFO", "--relations"}, {}, Where::kSubreaper,
       {"LISTEN_FDS=1", "LISTEN_PID=1"}},
      {"docker_init_version", "docker-init", {"--version"}},
      {"docker_init_exit_code", "docker-init", {"--", "@SIGREC", "--exit", "3"}, {}, Where::kPidNs},
  };
}

std::vector<SideCase> DumbInitCases() {
  return {
      {"dumb_init_version", "dumb-init", {"--version"}},
      {"dumb_init_short_version", "dumb-init", {"-V"}},
      Help({"dumb_init_help", "dumb-init", {"-h"}}),
      Help({"dumb_init_long_help", "dumb-init", {"--help"}}),
      {"dumb_init_bad_long_option", "dumb-init", {"--bogus"}},
      {"dumb_init_bad_option", "dumb-init", {"-x", "true"}},
      {"dumb_init_missing_command", "dumb-init", {}},
      {"dumb_init_bad_rewrite", "dumb-init", {"-r", "99:1", "true"}},
      {"dumb_init_bad_rewrite_syntax", "dumb-init", {"-r", "USR1", "true"}},
      {"dumb_init_not_found", "dumb-init", {"/nonexistent/minipod-cmd"}},
      {"dumb_init_not_found_in_path", "dumb-init", {"minipod-no-such-command"}},
      {"dumb_init_not_executable", "dumb-init", {"@NOEXEC"}},
      {"dumb_init_directory", "dumb-init", {"--", "@DIR"}},
      {"dumb_init_exit_code", "dumb-init", {"@SIGREC", "--exit", "3"}},
      {"dumb_init_exit_code_pid1", "dumb-init", {"@SIGREC", "--exit", "3"}, {}, Where::kPidNs},
      {"dumb_init_options_stop_at_command", "dumb-init", {"@SIGREC", "-c", "--exit", "3"}},
      {"dumb_init_killed_by_signal", "dumb-init", {"@SIGREC", "--raise", "USR1"}},
      {"dumb_init_forwards_term", "dumb-init", {"@SIGREC", "--exit-on", "TERM:7"},
       {WaitLine("child ready"), Sig(SIGTERM)}},
      {"dumb_init_forwards_usr1_pid1", "dumb-init", {"@SIGREC", "--exit-on", "USR1:7"},
       {WaitLine("child ready"), Sig(SIGUSR1)}, Where::kPidNs},
      {"dumb_init_forwards_rt_signal", "dumb-init", {"@SIGREC", "--exit-on", "40:7"},
       {WaitLine("child ready"), Sig(kRt)}},
      {"dumb_init_does_not_forward_chld", "dumb-init", {"@SIGREC", "--exit-on", "USR1:7"},
       {WaitLine("child ready"), Sig(SIGCHLD), Pump(150), Sig(SIGUSR1)}},
      {"dumb_init_rewrite", "dumb-init", {"-r", "15:10", "@SIGREC", "--exit-on", "USR1:7", "--exit-on", "TERM:8"},
       {WaitLine("child ready"), Sig(SIGTERM)}},
      {"dumb_init_rewrite_long", "dumb-init",
       {"--rewrite", "10:12", "--", "@SIGREC", "--exit-on", "USR2:7", "--exit-on", "USR1:8"},
       {WaitLine("child ready"), Sig(SIGUSR1)}},
      {"dumb_init_rewrite_drop", "dumb-init", {"-r", "10:0", "@SIGREC", "--exit-on", "USR2:7"},
       {WaitLine("child ready"), Sig(SIGUSR1), Pump(150), Sig(SIGUSR2)}},
      {"dumb_init_signals_the_group", "dumb-init",
       {"@SIGREC", "--exit-on", "USR2:0", "--fork", "--exit-on", "USR1:0"},
       {WaitLine("child ready"), Sig(SIGUSR1), WaitLine("grandchild exit"), WaitLine("child USR1"),
        Sig(SIGUSR2)},
       Where::kSubreaper, {}, {}, {}, false, /*sort_stdout=*/true},
      {"dumb_init_single_child", "dumb-init",
       {"-c", "@SIGREC", "--exit-on", "USR2:0", "--fork", "--exit-on", "USR1:0"},
       {WaitLine("child ready"), Sig(SIGUSR1), WaitLine("child USR1"), Pump(150), Sig(SIGUSR2)},
       Where::kPidNs},
      {"dumb_init_terms_the_group_when_the_child_exits", "dumb-init",
       {"@SIGREC", "--exit", "5", "--fork", "--exit-on", "TERM:0"}},
      {"dumb_init_child_placement_setsid", "dumb-init", {"@PIDINFO", "--relations"}, {}, Where::kSubreaper, {},
       {SIGUSR2, SIGWINCH}, {SIGHUP, SIGPIPE}},
      {"dumb_init_child_placement_single_child", "dumb-init", {"-c", "@PIDINFO", "--relations"}},
      {"dumb_init_child_placement_env", "dumb-init", {"@PIDINFO", "--relations"}, {}, Where::kSubreaper,
       {"DUMB_INIT_SETSID=0"}},
      Tty({"dumb_init_tty", "dumb-init", {"@PIDINFO", "--relations"}}),
      Tty({"dumb_init_tty_single_child", "dumb-init", {"-c", "@PIDINFO", "--relations"}}),
      {"dumb_init_tstp_stops_the_group", "dumb-init", {"@SIGREC", "--exit-on", "TERM:7"},
       {WaitLine("child ready"), Sig(SIGTSTP), WaitStopped(), Sig(SIGCONT), WaitLine("child CONT"), Sig(SIGTERM)}},
      {"dumb_init_tstp_single_child", "dumb-init", {"-c", "@SIGREC", "--exit-on", "TERM:7"},
       {WaitLine("child ready"), Sig(SIGTSTP), WaitLine("child TSTP"), WaitStopped(), Sig(SIGCONT),
        WaitLine("child CONT"), Sig(SIGTERM)}},
      Streams({"dumb_init_verbose", "dumb-init", {"-v", "@SIGREC", "--exit", "3"}}),
  };
}

std::vector<SideCase> CatatonitCases() {
  return {
      {"catatonit_version", "catatonit", {"--version"}},
      {"catatonit_short_version", "catatonit", {"-V"}},
      Help({"catatonit_help", "catatonit", {"-h"}}),
      Help({"catatonit_long_help_is_invalid", "catatonit", {"--help"}}),
      Help({"catatonit_bad_option", "catatonit", {"-x", "true"}}),
      Help({"catatonit_missing_command", "catatonit", {}}),
      {"catatonit_not_found", "catatonit", {"--", "/nonexistent/minipod-cmd"}},
      {"catatonit_not_executable", "catatonit", {"--", "@NOEXEC"}},
      {"catatonit_exit_code", "catatonit", {"--", "@SIGREC", "--exit", "3"}},
      {"catatonit_exit_code_pid1", "catatonit", {"--", "@SIGREC", "--exit", "3"}, {}, Where::kPidNs},
      {"catatonit_options_are_permuted", "catatonit", {"@SIGREC", "--exit", "3"}},
      {"catatonit_killed_by_signal", "catatonit", {"--", "@SIGREC", "--raise", "USR1"}},
      {"catatonit_forwards_usr1", "catatonit", {"--", "@SIGREC", "--exit-on", "USR1:7"},
       {WaitLine("child ready"), Sig(SIGUSR1)}},
      {"catatonit_forwards_term_pid1", "catatonit", {"--", "@SIGREC", "--exit-on", "TERM:7"},
       {WaitLine("child ready"), Sig(SIGTERM)}, Where::kPidNs},
      {"catatonit_forwards_rt_signal", "catatonit", {"--", "@SIGREC", "--exit-on", "40:7"},
       {WaitLine("child ready"), Sig(kRt)}},
      {"catatonit_does_not_forward_chld", "catatonit", {"--", "@SIGREC", "--exit-on", "USR1:7"},
       {WaitLine("child ready"), Sig(SIGCHLD), Pump(150), Sig(SIGUSR1)}},
      {"catatonit_group", "catatonit",
       {"-g", "--", "@SIGREC", "--exit-on", "USR2:0", "--fork", "--exit-on", "USR1:0"},
       {WaitLine("child ready"), Sig(SIGUSR1), WaitLine("grandchild exit"), WaitLine("child USR1"),
        Sig(SIGUSR2)},
       Where::kSubreaper, {}, {}, {}, false, /*sort_stdout=*/true},
      {"catatonit_child_placement_and_signal_state", "catatonit", {"--", "@PIDINFO", "--relations"}, {},
       Where::kSubreaper, {}, {SIGUSR2, SIGWINCH}, {SIGHUP, SIGPIPE}},
      Tty({"catatonit_tty_foreground", "catatonit", {"--", "@PIDINFO", "--relations"}}),
      {"catatonit_job_control_dropped", "catatonit", {"--", "@SIGREC", "--exit-on", "USR1:7"},
       {WaitLine("child ready"), Sig(SIGTSTP), Sig(SIGTTIN), Sig(SIGTTOU), Pump(150), Sig(SIGUSR1)}},
      // LISTEN_PID=1 names some other process; as PID 1 it names the init.
      {"catatonit_listen_pid_other", "catatonit", {"--", "@PIDINFO", "--relations"}, {}, Where::kSubreaper,
       {"LISTEN_FDS=1", "LISTEN_PID=1"}},
      {"catatonit_listen_pid_pid1", "catatonit", {"--", "@PIDINFO", "--relations"}, {}, Where::kPidNs,
       {"LISTEN_FDS=1", "LISTEN_PID=1"}},
      {"catatonit_reaps_orphans", "catatonit", {"--", "@ORPHANS", "--count", "300", "--exit", "5"}},
      {"catatonit_pause_term", "catatonit", {"-P"}, {Pump(150), Sig(SIGTERM)}},
      {"catatonit_pause_int_pid1", "catatonit", {"-P"}, {Pump(150), Sig(SIGINT)}, Where::kPidNs},
      {"catatonit_pause_ignores_others", "catatonit", {"-P"},
       {Pump(150), Sig(SIGHUP), Sig(SIGUSR1), Sig(SIGWINCH), Sig(SIGCHLD), Pump(150), Sig(SIGTERM)},
       Where::kPidNs},
  };
}

std::vector<SideCase> AllCases() {
  std::vector<SideCase> all;
  for (auto* f : {TiniCases, DumbInitCases, CatatonitCases}) {
    for (SideCase& c : f()) all.push_back(std::move(c));
  }
  return all;
}

INSTANTIATE_TEST_SUITE_P(Tools, SideBySideTest, testing::ValuesIn(AllCases()),
                         [](const testing::TestParamInfo<SideCase>& i) { return i.param.name; });

// ---------------------------------------------------------------------------
// Every signal number, 1..64, sent to the init one at a time: the child
// receives each one the tool forwards, and nothing for the ones it drops.
// musl's sigfillset leaves out 32-34 (glibc's SIGRTMIN is 34), so an init
// that trusted it died of 34 when not PID 1 and never saw it as PID 1.

struct NumberCase {
  std::string name;
  std::string tool;  // argv[0]'s basename
  std::vector<std::string> options;
  Where where;
};

[[maybe_unused]] void PrintTo(const NumberCase& c, std::ostream* os) { *os << c.name; }

// What the child receives for sig, as FIELD-NOTES describes each tool; 0:
// nothing. dumb-init forwards TSTP/TTIN/TTOU (as SIGSTOP for the group in
// setsid mode) and then stops itself, which its own side-by-side cases
// cover: they are not sent here (kSkip).
constexpr int kSkip = -1;
int Expected(const NumberCase& c, int sig) {
  if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD) return kSkip;
  if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU) return sig;
  if (c.tool == "catatonit") return 0;
  if (c.tool == "dumb-init") return kSkip;
  return sig == SIGTSTP ? sig : 0;  // tini and minipod-init drop TTIN/TTOU
}

class EveryNumberTest : public testing::TestWithParam<NumberCase> {
 protected:
  void TearDown() override { KillAllDescendants(); }
  TempDir tmp_;
};

TEST_P(EveryNumberTest, ChildReceivesEachForwardedNumber) {
  const NumberCase& c = GetParam();
  SpawnOptions o;
  o.path = c.tool == "minipod-init" ? InitPath() : tmp_.Symlink(c.tool, InitPath());
  o.argv = {o.path};
  o.argv.insert(o.argv.end(), c.options.begin(), c.options.end());
  // The last signal sent, 64, ends the run.
  for (const char* a : {"--", "@SIGREC", "--exit-on", "64:0", "--timeout", "60"}) {
    o.argv.push_back(std::string(a) == "@SIGREC" ? ProbePath("sigrec") : a);
  }
  o.where = c.where;
  auto p = Proc::Start(o);
  ASSERT_TRUE(p->started());
  ASSERT_TRUE(p->WaitForLine("child ready")) << p->err();
  std::string want = "child ready\n";
  for (int sig = 1; sig <= 64; ++sig) {
    const int expected = Expected(c, sig);
    if (expected == kSkip) continue;
    ASSERT_TRUE(p->Signal(sig)) << sig;
    if (expected == 0) continue;  // checked by its absence from the output
    const std::string line = "child " + ProbeSignalName(expected);
    want += line + "\n";
    ASSERT_TRUE(p->WaitForLine(line)) << "signal " << sig << " did not reach the child\n"
                                      << p->out() << p->err();
  }
  const Result r = p->Wait(Ms(10'000));
  ASSERT_TRUE(r.exited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.term_signal, 0) << Describe(r);
  EXPECT_EQ(r.out, want + "child exit 0\n") << Describe(r);
}

std::vector<NumberCase> NumberCases() {
  const struct {
    const char* name;
    const char* tool;
    std::vector<std::string> options;
  } tools[] = {
      {"native", "minipod-init", {}},
      {"tini", "tini", {}},
      {"dumb_init", "dumb-init", {}},
      {"dumb_init_single_child", "dumb-init", {"-c"}},
      {"catatonit", "catatonit", {}},
  };
  std::vector<NumberCase> cases;
  for (const auto& t : tools) {
    for (Where w : {Where::kSubreaper, Where::kPidNs}) {
      cases.push_back({std::string(t.name) + "_" + WhereName(w), t.tool, t.options, w});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Personalities, EveryNumberTest, testing::ValuesIn(NumberCases()),
                         [](const testing::TestParamInfo<NumberCase>& i) { return i.param.name; });

// ---------------------------------------------------------------------------
// Kubernetes' pause: no binary to compare with, so pause.c's behaviour:
// "-v" prints "pause.c <version>"; when not PID 1 it warns on stderr;
// SIGINT/SIGTERM print "Shutting down, got signal: <strsignal>" (psignal, on
// stderr) and exit 0; it reaps its children.

class PauseTest : public testing::TestWithParam<Where> {
 protected:
  void TearDown() override { KillAllDescendants(); }
  std::unique_ptr<Proc> Start(const std::vector<std::string>& args) {
    const std::string link = tmp_.Symlink("pause", InitPath());
    SpawnOptions o;
    o.path = link;
    o.argv = {link};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.where = GetParam();
    return Proc::Start(o);
  }
  std::string Warning() const {
    return GetParam() == Where::kPidNs ? "" : "Warning: pause should be the first process\n";
  }
  TempDir tmp_;
};

TEST_P(PauseTest, VersionFlag) {
  auto p = Start({"-v"});
  const Result r = p->Wait(Ms(5'000));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, testing::StartsWith("pause.c ")) << Describe(r);
  EXPECT_THAT(r.err, IsEmpty()) << Describe(r);
}

TEST_P(PauseTest, TermAndIntExitZeroWithPsignalMessage) {
  for (const auto& [sig, text] : {std::pair{SIGTERM, "Terminated"}, std::pair{SIGINT, "Interrupt"}}) {
    SCOPED_TRACE(text);
    auto p = Start({});
    p->Pump(Ms(150));
    ASSERT_TRUE(p->Running()) << p->err();
    ASSERT_TRUE(p->Signal(sig));
    const Result r = p->Wait(Ms(5'000));
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_THAT(r.out, IsEmpty());
    EXPECT_EQ(r.err, Warning() + "Shutting down, got signal: " + text + "\n") << Describe(r);
  }
}

TEST_P(PauseTest, OtherSignalsTakeTheirDefaultAction) {
  // pause.c handles only INT, TERM and CHLD: SIGHUP kills it, except as
  // PID 1, where the kernel drops signals left at their default action.
  auto p = Start({});
  p->Pump(Ms(150));
  ASSERT_TRUE(p->Running()) << p->err();
  ASSERT_TRUE(p->Signal(SIGHUP));
  if (GetParam() == Where::kPidNs) {
    p->Pump(Ms(200));
    ASSERT_TRUE(p->Running()) << "PID 1 ignores SIGHUP: " << p->err();
    ASSERT_TRUE(p->Signal(SIGTERM));
    const Result r = p->Wait(Ms(5'000));
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
  } else {
    const Result r = p->Wait(Ms(5'000));
    EXPECT_EQ(r.term_signal, SIGHUP) << Describe(r);
  }
}

TEST_P(PauseTest, ExtraArgumentsAreIgnored) {
  auto p = Start({"some", "args"});
  p->Pump(Ms(150));
  ASSERT_TRUE(p->Running()) << p->err();
  ASSERT_TRUE(p->Signal(SIGTERM));
  const Result r = p->Wait(Ms(5'000));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

INSTANTIATE_TEST_SUITE_P(Where, PauseTest, testing::Values(Where::kSubreaper, Where::kPidNs),
                         [](const testing::TestParamInfo<Where>& i) { return WhereName(i.param); });

}  // namespace
}  // namespace itest
