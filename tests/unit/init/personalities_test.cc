// ParseTini, ParseDumbInit, ParseCatatonit and ParsePause against what
// tini 0.19, dumb-init 1.2.5, catatonit 0.1.7 and Kubernetes' pause do with
// the same argv and environment (observed on the real binaries): the text,
// the stream it goes to, the exit code, and the Config a run gets.
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/format.h"
#include "init/config.h"
#include "init/options.h"

namespace init {
namespace {

using ParseFn = ParseResult (*)(int, char**, char**, Config&, common::Formatter&);

// A mutable, NULL-terminated copy of a string list, as main() receives it.
class CArgs {
 public:
  explicit CArgs(std::vector<std::string> items) : store_(std::move(items)) {
    for (std::string& s : store_) ptrs_.push_back(s.data());
    ptrs_.push_back(nullptr);
  }
  int count() const { return static_cast<int>(store_.size()); }
  char** data() { return ptrs_.data(); }

 private:
  std::vector<std::string> store_;
  std::vector<char*> ptrs_;
};

struct Outcome {
  ParseResult result;
  std::string text;
  Config config;
  bool pause = false;
  std::vector<std::string> command;
};

Outcome Parse(ParseFn fn, std::vector<std::string> argv, std::vector<std::string> env) {
  CArgs args(std::move(argv));
  CArgs envp(std::move(env));
  Outcome o;
  char buf[8192];
  common::Formatter out(buf, sizeof buf);
  o.result = fn(args.count(), args.data(), envp.data(), o.config, out);
  EXPECT_FALSE(out.truncated());
  o.text.assign(out.data(), out.size());
  o.pause = o.config.command == nullptr;
  if (!o.pause) {
    for (char** p = o.config.command; *p != nullptr; ++p) o.command.emplace_back(*p);
  }
  return o;
}

// "{pid}" stands for this process's pid, as the tools print their own.
std::string WithPid(std::string s) {
  const std::string pid = std::to_string(getpid());
  for (size_t at = s.find("{pid}"); at != std::string::npos; at = s.find("{pid}")) {
    s.replace(at, 5, pid);
  }
  return s;
}

std::vector<std::string> Cat(const char* argv0, std::vector<std::string> rest) {
  rest.insert(rest.begin(), argv0);
  return rest;
}

std::string Describe(const char* name, const std::vector<std::string>& args,
                     const std::vector<std::string>& env) {
  std::string s = std::string(name) + ":";
  for (const std::string& e : env) s += " " + e;
  for (const std::string& a : args) s += " [" + a + "]";
  return s;
}

// A gtest name for table row `index`: the tool's basename, alphanumerics only.
std::string RowName(const char* argv0, size_t index) {
  std::string name;
  for (const char* p = strrchr(argv0, '/') != nullptr ? strrchr(argv0, '/') + 1 : argv0; *p;
       ++p) {
    const char ch = *p;
    const bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    name += alnum ? ch : '_';
  }
  return name + "_" + std::to_string(index);
}

// --- Cases that print and exit ----------------------------------------------

enum class Match { kExact, kPrefix };

struct TextCase {
  const char* name;
  ParseFn fn;
  const char* argv0;
  std::vector<std::string> args;
  std::vector<std::string> env;
  int exit_code;
  int out_fd;
  Match match;
  std::string text;  // "{pid}" replaced
};

const std::string kTiniHeader =
    "tini (tini version 0.19.0 - minipod-init 0.1.0)\n"
    "Usage: tini [OPTIONS] PROGRAM -- [ARGS] | --version\n";
const std::string kTiniFatal = "[FATAL tini ({pid})] Not a valid option for ";
const std::string kLicense =
    "minipod-init 0.1.0: Apache License 2.0\n<https://www.apache.org/licenses/LICENSE-2.0>\n";
const std::string kDumbVersion = "dumb-init v1.2.5 - minipod-init 0.1.0\n";
const std::string kDumbUsage =
    "Usage: dumb-init [option] program [args]\nTry dumb-init --help for full usage.\n";
const std::string kDumbRewriteUsage =
    "Usage: -r option takes <signum>:<signum>, where <signum> is between 1 and 31.\n"
    "This option can be specified multiple times.\n"
    "Use --help for full usage.\n";
const std::string kCataUsage = "usage: catatonit [-ghLPV] [--] <progname> [<arguments>...]\n";
const std::string kCataVersion = "tini version 0.1.7_catatonit - minipod-init 0.1.0\n";
const std::string kPauseVersion = "pause.c 3.10 - minipod-init 0.1.0\n";

std::vector<TextCase> TextCases() {
  const auto tini = ParseTini;
  const auto dumb = ParseDumbInit;
  const auto cata = ParseCatatonit;
  const auto pause = ParsePause;
  const auto X = Match::kExact;
  const auto P = Match::kPrefix;
  std::vector<TextCase> cases = {
      // tini: --version only as the sole argument, on stdout.
      {"tini --version", tini, "tini", {"--version"}, {}, 0, 1, X,
       "tini version 0.19.0 - minipod-init 0.1.0\n"},
      {"tini --version with a command is an invalid '-'", tini, "tini", {"--version", "true"},
       {}, 1, 2, P, "tini: invalid option -- '-'\n" + kTiniHeader},
      {"tini long options do not exist", tini, "tini", {"--help"}, {}, 1, 2, P,
       "tini: invalid option -- '-'\n" + kTiniHeader},
      {"tini -h on stdout", tini, "tini", {"-h"}, {}, 0, 1, P, kTiniHeader + "\n"},
      {"tini -h names the basename", tini, "/usr/bin/docker-init", {"-h"}, {}, 0, 1, P,
       "docker-init (tini version 0.19.0 - minipod-init 0.1.0)\n"
       "Usage: docker-init [OPTIONS] PROGRAM -- [ARGS] | --version\n"},
      {"tini -h wins over a later bad -e", tini, "tini", {"-h", "-e", "300"}, {}, 0, 1, P,
       kTiniHeader},
      {"tini -h after --version", tini, "tini", {"-h", "--version"}, {}, 0, 1, P, kTiniHeader},
      {"tini without a program", tini, "tini", {}, {}, 1, 2, P, kTiniHeader},
      {"tini with only options", tini, "tini", {"-s", "-v"}, {}, 1, 2, P, kTiniHeader},
      {"tini with only --", tini, "tini", {"--"}, {}, 1, 2, P, kTiniHeader},
      {"tini unknown option", tini, "tini", {"-x", "true"}, {}, 1, 2, P,
       "tini: invalid option -- 'x'\n" + kTiniHeader},
      {"tini glibc names argv[0] as given", tini, "/usr/bin/tini", {"-x"}, {}, 1, 2, P,
       "/usr/bin/tini: invalid option -- 'x'\ntini (tini version"},
      {"tini 0.19 has no -R", tini, "tini", {"-R", "A", "true"}, {}, 1, 2, P,
       "tini: invalid option -- 'R'\n"},
      {"tini -p without its argument", tini, "tini", {"-p"}, {}, 1, 2, P,
       "tini: option requires an argument -- 'p'\n" + kTiniHeader},
      {"tini -e without its argument", tini, "tini", {"true", "-e"}, {}, 1, 2, P,
       "tini: option requires an argument -- 'e'\n" + kTiniHeader},
      {"tini -l", tini, "tini", {"-l"}, {}, 0, 1, X, kLicense},
      {"tini permutes: the command's -l is tini's", tini, "tini", {"ls", "-l"}, {}, 0, 1, P,
       kLicense},
      {"tini -e error comes before a later -h", tini, "tini", {"-e", "300", "-h"}, {}, 1, 2, X,
       kTiniFatal + "-e: 300\n"},
      {"tini fatal errors ignore TINI_VERBOSITY", tini, "tini", {"-e", "256", "x"},
       {"TINI_VERBOSITY=0"}, 1, 2, X, kTiniFatal + "-e: 256\n"},
  };
  // tini -e: strtol() must consume the whole argument, 0..255.
  for (const char* bad : {"300", "256", "-1", "abc", "1 ", "0x1", " ", "+", "-", "1e2",
                          "99999999999999999999"}) {
    cases.push_back({"tini -e rejects", tini, "tini", {"-e", bad, "true"}, {}, 1, 2, X,
                     kTiniFatal + "-e: " + bad + "\n"});
  }
  // tini -p: exactly "SIG" + a name from tini's table.
  for (const char* bad : {"SIGFOO", "kill", "KILL", "sigkill", "9", "SIGRTMIN", "SIGPWR",
                          "SIGIO", "SIGSTKFLT", "SIGPOLL", "SIGIOT", "SIG", ""}) {
    cases.push_back({"tini -p rejects", tini, "tini", {"-p", bad, "true"}, {}, 1, 2, X,
                     kTiniFatal + "-p: " + bad + "\n"});
  }

  const std::vector<TextCase> more = {
      // dumb-init: everything on stderr; glibc errors without any usage.
      {"dumb-init -V", dumb, "dumb-init", {"-V"}, {}, 0, 2, X, kDumbVersion},
      {"dumb-init --version", dumb, "dumb-init", {"--version"}, {}, 0, 2, X, kDumbVersion},
      {"dumb-init --vers (unique prefix)", dumb, "dumb-init", {"--vers"}, {}, 0, 2, X,
       kDumbVersion},
      {"dumb-init -V before an unknown option", dumb, "dumb-init", {"-V", "-x"}, {}, 0, 2, X,
       kDumbVersion},
      {"dumb-init -V after a valid -r", dumb, "dumb-init", {"-r15:0", "-V"}, {}, 0, 2, X,
       kDumbVersion},
      {"dumb-init -h", dumb, "dumb-init", {"-h"}, {}, 0, 2, P,
       kDumbVersion + "Usage: dumb-init [option] command [[arg] ...]\n\n"},
      {"dumb-init --help shows argv[0] as given", dumb, "/usr/bin/dumb-init", {"--help"}, {},
       0, 2, P, kDumbVersion + "Usage: /usr/bin/dumb-init [option] command [[arg] ...]\n"},
      {"dumb-init -h before a bad -r", dumb, "dumb-init", {"-h", "-r", "99:1"}, {}, 0, 2, P,
       kDumbVersion},
      {"dumb-init without a program", dumb, "dumb-init", {}, {}, 1, 2, X, kDumbUsage},
      {"dumb-init usage shows argv[0] as given", dumb, "/usr/bin/dumb-init", {}, {}, 1, 2, X,
       "Usage: /usr/bin/dumb-init [option] program [args]\n"
       "Try /usr/bin/dumb-init --help for full usage.\n"},
      {"dumb-init with only options", dumb, "dumb-init", {"-v", "-c"}, {}, 1, 2, X, kDumbUsage},
      {"dumb-init with only --", dumb, "dumb-init", {"--"}, {}, 1, 2, X, kDumbUsage},
      {"dumb-init unknown option", dumb, "dumb-init", {"-x", "-V"}, {}, 1, 2, X,
       "dumb-init: invalid option -- 'x'\n"},
      {"dumb-init unknown long option", dumb, "dumb-init", {"--foo"}, {}, 1, 2, X,
       "dumb-init: unrecognized option '--foo'\n"},
      {"dumb-init --rewrite without argument", dumb, "dumb-init", {"--rewrite"}, {}, 1, 2, X,
       "dumb-init: option '--rewrite' requires an argument\n"},
      {"dumb-init -r without argument", dumb, "dumb-init", {"-r"}, {}, 1, 2, X,
       "dumb-init: option requires an argument -- 'r'\n"},
      {"dumb-init --single-child=1", dumb, "dumb-init", {"--single-child=1"}, {}, 1, 2, X,
       "dumb-init: option '--single-child' doesn't allow an argument\n"},
      {"dumb-init --help=x", dumb, "dumb-init", {"--help=x"}, {}, 1, 2, X,
       "dumb-init: option '--help' doesn't allow an argument\n"},
      {"dumb-init a bad -r wins over a later -h", dumb, "dumb-init", {"-r", "99:1", "-h"}, {},
       1, 2, X, kDumbRewriteUsage},

      // catatonit: version and license on stdout, the rest on stderr.
      {"catatonit -V", cata, "catatonit", {"-V"}, {}, 0, 1, X, kCataVersion},
      {"catatonit --version", cata, "catatonit", {"--version"}, {}, 0, 1, X, kCataVersion},
      {"catatonit --vers", cata, "catatonit", {"--vers"}, {}, 0, 1, X, kCataVersion},
      {"catatonit -gV", cata, "catatonit", {"-gV"}, {}, 0, 1, X, kCataVersion},
      {"catatonit -Vx stops at V", cata, "catatonit", {"-Vx"}, {}, 0, 1, X, kCataVersion},
      {"catatonit -h", cata, "catatonit", {"-h"}, {}, 0, 2, P, kCataUsage + "  -g "},
      {"catatonit -h names itself catatonit", cata, "/usr/bin/catatonit", {"-h"}, {}, 0, 2, P,
       kCataUsage},
      {"catatonit -L", cata, "catatonit", {"-L"}, {}, 0, 1, X, kLicense},
      {"catatonit permutes: the command's -L is catatonit's", cata, "catatonit",
       {"ls", "-L"}, {}, 0, 1, P, kLicense},
      {"catatonit without a program", cata, "catatonit", {}, {}, 1, 2, X,
       "ERROR (catatonit:{pid}): missing program name\n" + kCataUsage},
      {"catatonit -g without a program", cata, "catatonit", {"-g"}, {}, 1, 2, X,
       "ERROR (catatonit:{pid}): missing program name\n" + kCataUsage},
      {"catatonit with only --", cata, "catatonit", {"--"}, {}, 1, 2, X,
       "ERROR (catatonit:{pid}): missing program name\n" + kCataUsage},
      {"catatonit unknown option", cata, "catatonit", {"-x"}, {}, 1, 2, X,
       "catatonit: invalid option -- 'x'\n" + kCataUsage},
      {"catatonit has no -v", cata, "/usr/bin/catatonit", {"-v", "true"}, {}, 1, 2, X,
       "/usr/bin/catatonit: invalid option -- 'v'\n" + kCataUsage},
      {"catatonit -P then unknown option", cata, "catatonit", {"-P", "-x"}, {}, 1, 2, X,
       "catatonit: invalid option -- 'x'\n" + kCataUsage},
      {"catatonit unknown long option", cata, "catatonit", {"--foo"}, {}, 1, 2, X,
       "catatonit: unrecognized option '--foo'\n" + kCataUsage},
      {"catatonit --version=1", cata, "catatonit", {"--version=1"}, {}, 1, 2, X,
       "catatonit: option '--version' doesn't allow an argument\n" + kCataUsage},
      {"catatonit refuses CATATONIT_LOG before options", cata, "catatonit", {"-h"},
       {"CATATONIT_LOG=x"}, 1, 2, X,
       "ERROR (catatonit:{pid}): CATATONIT_LOG is reserved for future use\n"},
      {"catatonit refuses an empty CATATONIT_LOG", cata, "catatonit", {"true"},
       {"CATATONIT_LOG="}, 1, 2, X,
       "ERROR (catatonit:{pid}): CATATONIT_LOG is reserved for future use\n"},

      // pause: any argument equal to -v in any case.
      {"pause -v", pause, "/pause", {"-v"}, {}, 0, 1, X, kPauseVersion},
      {"pause -V among others", pause, "/pause", {"a", "-V", "b"}, {}, 0, 1, X, kPauseVersion},
      {"pause -v after --", pause, "/pause", {"--", "-v"}, {}, 0, 1, X, kPauseVersion},
  };
  cases.insert(cases.end(), more.begin(), more.end());
  // dumb-init -r: sscanf("%d:%d") == 2, 1 <= s <= 31, 0 <= r <= 31.
  for (const char* bad : {"99:1", "1:32", "32:1", "0:1", "15:-1", "-15:1", "abc", "15", "15:",
                          ":15", "15 :3", "15;3", "99999999999999999999:1", ""}) {
    cases.push_back({"dumb-init -r rejects", dumb, "dumb-init", {"-r", bad, "true"}, {}, 1, 2,
                     X, kDumbRewriteUsage});
  }
  return cases;
}

void PrintTo(const TextCase& c, std::ostream* os) { *os << Describe(c.name, c.args, c.env); }

class PrintAndExitTest : public ::testing::TestWithParam<TextCase> {};

TEST_P(PrintAndExitTest, TextStreamAndExitCode) {
  const TextCase& c = GetParam();
  const Outcome o = Parse(c.fn, Cat(c.argv0, c.args), c.env);
  EXPECT_FALSE(o.result.run);
  EXPECT_EQ(o.result.exit_code, c.exit_code);
  EXPECT_EQ(o.result.out_fd, c.out_fd);
  const std::string want = WithPid(c.text);
  if (c.match == Match::kExact) {
    EXPECT_EQ(o.text, want);
  } else {
    EXPECT_EQ(o.text.substr(0, want.size()), want) << o.text;
  }
}

INSTANTIATE_TEST_SUITE_P(Personalities, PrintAndExitTest, ::testing::ValuesIn(TextCases()),
                         [](const ::testing::TestParamInfo<TextCase>& row) {
                           return RowName(row.param.argv0, row.index);
                         });

// The help texts mention every option and variable the tool has.
TEST(PersonalitiesTest, HelpMentionsEveryOption) {
  struct HelpCase {
    ParseFn fn;
    const char* argv0;
    const char* flag;
    std::vector<std::string> mentions;
  };
  const std::vector<HelpCase> cases = {
      {ParseTini, "tini", "-h",
       {"--version", "-h ", "-s ", "-p SIGNAL", "-v ", "-w ", "-g ", "-e EXIT_CODE", "-l ",
        "TINI_SUBREAPER", "TINI_VERBOSITY", "(default: 1)", "TINI_KILL_PROCESS_GROUP"}},
      {ParseDumbInit, "dumb-init", "-h",
       {"-c, --single-child", "-r, --rewrite s:r", "-v, --verbose", "-h, --help",
        "-V, --version"}},
      {ParseCatatonit, "catatonit", "-h", {"  -g ", "-h,", "-L ", "  -P ", "-V, --version"}},
  };
  for (const HelpCase& c : cases) {
    SCOPED_TRACE(c.argv0);
    const Outcome o = Parse(c.fn, {c.argv0, c.flag}, {});
    for (const std::string& m : c.mentions) EXPECT_NE(o.text.find(m), std::string::npos) << m;
    EXPECT_EQ(o.text.back(), '\n');
  }
}

// --- Cases that run ------------------------------------------------------------

struct RunCase {
  const char* name;
  ParseFn fn;
  const char* argv0;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<std::string> command;  // empty: pause mode
  std::function<void(const Config&)> check;
  std::string text = "";  // left in out for the runtime to print first
};

std::vector<int> Rewritten(const Config& c) {
  std::vector<int> v;
  for (int s = 1; s <= kMaxSignalNumber; ++s) {
    if (c.rewrite[s] != s) v.push_back(s * 100 + c.rewrite[s]);  // s:r as s*100+r
  }
  return v;
}

std::vector<int> Expected(const Config& c) {
  std::vector<int> v;
  for (int code = 0; code < 256; ++code) {
    if (IsExpectedExit(c, code)) v.push_back(code);
  }
  return v;
}

void TiniDefaults(const Config& c) {
  EXPECT_EQ(c.personality, Personality::kTini);
  EXPECT_EQ(c.style, MessageStyle::kTini);
  EXPECT_STREQ(c.program_name, "tini");
  EXPECT_EQ(c.placement, Placement::kOwnGroup);
  EXPECT_EQ(c.job_control, JobControl::kTini);
  EXPECT_EQ(c.child_signals, ChildSignals::kInherited);
  EXPECT_EQ(c.subreaper, Subreaper::kNever);
  EXPECT_EQ(c.verbosity, 1);
  EXPECT_FALSE(c.forward_to_group);
  EXPECT_FALSE(c.warn_on_reap);
  EXPECT_EQ(c.pdeathsig, 0);
  EXPECT_TRUE(Expected(c).empty());
  EXPECT_TRUE(Rewritten(c).empty());
  EXPECT_EQ(c.exit_not_found, 127);
  EXPECT_EQ(c.exit_not_executable, 126);
  EXPECT_EQ(c.exit_exec_other, 1);
  EXPECT_EQ(c.exit_setup_failed, 1);
  EXPECT_FALSE(c.chdir_root || c.tty_handoff || c.term_group_on_exit);
  EXPECT_FALSE(c.close_inherited_fds || c.listen_fds || c.pause_message);
  EXPECT_FALSE(c.child_blocks_job_control);
  EXPECT_EQ(c.restart, RestartPolicy::kNever);
}

void DumbSetsid(const Config& c) {
  EXPECT_EQ(c.personality, Personality::kDumbInit);
  EXPECT_EQ(c.style, MessageStyle::kDumbInit);
  EXPECT_STREQ(c.program_name, "dumb-init");
  EXPECT_EQ(c.placement, Placement::kNewSession);
  EXPECT_TRUE(c.forward_to_group);
  EXPECT_TRUE(c.tty_handoff);
  EXPECT_TRUE(c.term_group_on_exit);
  EXPECT_EQ(c.job_control, JobControl::kStopSelf);
  EXPECT_EQ(c.child_signals, ChildSignals::kReset);
  EXPECT_EQ(c.subreaper, Subreaper::kNever);
  EXPECT_TRUE(c.chdir_root);
  EXPECT_EQ(c.verbosity, 0);
  EXPECT_EQ(c.exit_not_found, 2);
  EXPECT_EQ(c.exit_not_executable, 2);
  EXPECT_EQ(c.exit_exec_other, 2);
  EXPECT_EQ(c.exit_setup_failed, 1);
  EXPECT_EQ(c.pdeathsig, 0);
  EXPECT_FALSE(c.close_inherited_fds || c.listen_fds || c.pause_message);
}

void DumbSingleChild(const Config& c) {
  EXPECT_EQ(c.placement, Placement::kSameGroup);
  EXPECT_FALSE(c.forward_to_group);
  EXPECT_FALSE(c.tty_handoff);
  EXPECT_FALSE(c.term_group_on_exit);
  EXPECT_EQ(c.job_control, JobControl::kStopSelf);
  EXPECT_EQ(c.child_signals, ChildSignals::kReset);
  EXPECT_TRUE(c.chdir_root);
  EXPECT_EQ(c.exit_not_found, 2);
}

// SIGTSTP/SIGTTIN/SIGTTOU -> SIGSTOP, as s*100+r.
const std::vector<int> kStopRewrites = {SIGTSTP * 100 + SIGSTOP, SIGTTIN * 100 + SIGSTOP,
                                        SIGTTOU * 100 + SIGSTOP};

void CataDefaults(const Config& c) {
  EXPECT_EQ(c.personality, Personality::kCatatonit);
  EXPECT_EQ(c.style, MessageStyle::kCatatonit);
  EXPECT_STREQ(c.program_name, "catatonit");
  EXPECT_EQ(c.placement, Placement::kOwnGroup);
  EXPECT_EQ(c.job_control, JobControl::kDropAll);
  EXPECT_EQ(c.child_signals, ChildSignals::kInherited);
  EXPECT_TRUE(c.child_blocks_job_control);
  EXPECT_EQ(c.subreaper, Subreaper::kAlways);
  EXPECT_TRUE(c.close_inherited_fds);
  EXPECT_TRUE(c.listen_fds);
  EXPECT_FALSE(c.chdir_root);  // 0.1.7 keeps its cwd; chdir("/") came later
  EXPECT_FALSE(c.forward_to_group);
  EXPECT_EQ(c.verbosity, 0);
  EXPECT_EQ(c.exit_not_found, 1);
  EXPECT_EQ(c.exit_not_executable, 1);
  EXPECT_EQ(c.exit_exec_other, 1);
  EXPECT_EQ(c.exit_setup_failed, 1);
  EXPECT_TRUE(Rewritten(c).empty());
  EXPECT_FALSE(c.pause_message);
}

void PauseDefaults(const Config& c) {
  EXPECT_EQ(c.personality, Personality::kPause);
  EXPECT_EQ(c.style, MessageStyle::kPause);
  EXPECT_STREQ(c.program_name, "pause");
  EXPECT_TRUE(c.pause_message);
  EXPECT_EQ(c.subreaper, Subreaper::kNever);
  EXPECT_EQ(c.exit_setup_failed, 1);
  EXPECT_TRUE(Rewritten(c).empty());
}

std::vector<RunCase> RunCases() {
  const auto tini = ParseTini;
  const auto dumb = ParseDumbInit;
  const auto cata = ParseCatatonit;
  const auto pause = ParsePause;
  return {
      // tini
      {"tini defaults", tini, "tini", {"true"}, {}, {"true"}, TiniDefaults},
      {"tini-static", tini, "/usr/bin/tini-static", {"true"}, {}, {"true"}, TiniDefaults},
      {"tini -s", tini, "tini", {"-s", "true"}, {}, {"true"},
       [](const Config& c) { EXPECT_EQ(c.subreaper, Subreaper::kAlways); }},
      {"tini TINI_SUBREAPER, even empty", tini, "tini", {"true"}, {"TINI_SUBREAPER="}, {"true"},
       [](const Config& c) { EXPECT_EQ(c.subreaper, Subreaper::kAlways); }},
      {"tini -g", tini, "tini", {"-g", "true"}, {}, {"true"},
       [](const Config& c) { EXPECT_TRUE(c.forward_to_group); }},
      {"tini TINI_KILL_PROCESS_GROUP", tini, "tini", {"true"}, {"TINI_KILL_PROCESS_GROUP=0"},
       {"true"}, [](const Config& c) { EXPECT_TRUE(c.forward_to_group); }},
      {"tini -w", tini, "tini", {"-w", "true"}, {}, {"true"},
       [](const Config& c) { EXPECT_TRUE(c.warn_on_reap); }},
      {"tini -v -v", tini, "tini", {"-v", "-v", "true"}, {}, {"true"},
       [](const Config& c) { EXPECT_EQ(c.verbosity, 3); }},
      {"tini -vvvvvv caps at trace", tini, "tini", {"-vvvvvv", "true"}, {}, {"true"},
       [](const Config& c) { EXPECT_EQ(c.verbosity, 4); }},
      {"tini TINI_VERBOSITY", tini, "tini", {"true"}, {"TINI_VERBOSITY=3"}, {"true"},
       [](const Config& c) { EXPECT_EQ(c.verbosity, 3); }},
      {"tini TINI_VERBOSITY replaces -v", tini, "tini", {"-vv", "true"}, {"TINI_VERBOSITY=0"},
       {"true"}, [](const Config& c) { EXPECT_EQ(c.verbosity, 0); }},
      {"tini TINI_VERBOSITY=-1 is unsigned: everything", tini, "tini", {"true"},
       {"TINI_VERBOSITY=-1"}, {"true"}, [](const Config& c) { EXPECT_EQ(c.verbosity, 4); }},
      {"tini TINI_VERBOSITY=abc is atoi's 0", tini, "tini", {"-v", "true"},
       {"TINI_VERBOSITY=abc"}, {"true"}, [](const Config& c) { EXPECT_EQ(c.verbosity, 0); }},
      {"tini TINI_VERBOSITY=2x is atoi's 2", tini, "tini", {"true"}, {"TINI_VERBOSITY=2x"},
       {"true"}, [](const Config& c) { EXPECT_EQ(c.verbosity, 2); }},
      {"tini TINI_VERBOSITY=99", tini, "tini", {"true"}, {"TINI_VERBOSITY=99"}, {"true"},
       [](const Config& c) { EXPECT_EQ(c.verbosity, 4); }},
      {"tini -p SIGKILL", tini, "tini", {"-p", "SIGKILL", "true"}, {}, {"true"},
       [](const Config& c) { EXPECT_EQ(c.pdeathsig, SIGKILL); }},
      {"tini -pSIGTERM attached", tini, "tini", {"-pSIGTERM", "true"}, {}, {"true"},
       [](const Config& c) { EXPECT_EQ(c.pdeathsig, SIGTERM); }},
      {"tini -p SIGSYS, the table's last", tini, "tini", {"-vp", "SIGSYS", "true"}, {},
       {"true"},
       [](const Config& c) {
         EXPECT_EQ(c.pdeathsig, SIGSYS);
         EXPECT_EQ(c.verbosity, 2);
       }},
      {"tini -p SIGHUP, the table's first", tini, "tini", {"-p", "SIGHUP", "true"}, {},
       {"true"}, [](const Config& c) { EXPECT_EQ(c.pdeathsig, SIGHUP); }},
      {"tini -e repeated", tini, "tini", {"-e", "0", "-e255", "-e", "3", "x"}, {}, {"x"},
       [](const Config& c) { EXPECT_EQ(Expected(c), (std::vector<int>{0, 3, 255})); }},
      {"tini -e with strtol's blanks and sign", tini, "tini", {"-e", " 7", "-e", "+8", "x"}, {},
       {"x"}, [](const Config& c) { EXPECT_EQ(Expected(c), (std::vector<int>{7, 8})); }},
      {"tini -e '' is strtol's 0", tini, "tini", {"-e", "", "x"}, {}, {"x"},
       [](const Config& c) { EXPECT_EQ(Expected(c), (std::vector<int>{0})); }},
      {"tini -e -0", tini, "tini", {"-e", "-0", "x"}, {}, {"x"},
       [](const Config& c) { EXPECT_EQ(Expected(c), (std::vector<int>{0})); }},
      {"tini -- protects the command's options", tini, "tini", {"-s", "--", "ls", "-l"}, {},
       {"ls", "-l"}, [](const Config& c) { EXPECT_EQ(c.subreaper, Subreaper::kAlways); }},
      {"tini permutes options after the command", tini, "tini", {"ls", "-s", "--", "-l"}, {},
       {"ls", "-l"}, [](const Config& c) { EXPECT_EQ(c.subreaper, Subreaper::kAlways); }},
      {"tini permutes every option", tini, "tini", {"sleep", "-g", "10", "-w"}, {},
       {"sleep", "10"},
       [](const Config& c) {
         EXPECT_TRUE(c.forward_to_group);
         EXPECT_TRUE(c.warn_on_reap);
       }},
      {"tini POSIXLY_CORRECT stops at the command", tini, "tini", {"-v", "ls", "-l", "-s"},
       {"POSIXLY_CORRECT=1"}, {"ls", "-l", "-s"},
       [](const Config& c) {
         EXPECT_EQ(c.verbosity, 2);
         EXPECT_EQ(c.subreaper, Subreaper::kNever);
       }},
      {"tini empty POSIXLY_CORRECT counts", tini, "tini", {"ls", "-l"}, {"POSIXLY_CORRECT="},
       {"ls", "-l"}, TiniDefaults},
      {"tini -- then -h is the command", tini, "tini", {"--", "-h"}, {}, {"-h"}, TiniDefaults},
      {"tini - is an operand", tini, "tini", {"-", "x"}, {}, {"-", "x"}, TiniDefaults},

      // dumb-init
      {"dumb-init defaults: setsid mode", dumb, "dumb-init", {"true"}, {}, {"true"},
       [](const Config& c) {
         DumbSetsid(c);
         EXPECT_EQ(Rewritten(c), kStopRewrites);
       }},
      {"dumb-init -c", dumb, "dumb-init", {"-c", "true"}, {}, {"true"},
       [](const Config& c) {
         DumbSingleChild(c);
         EXPECT_TRUE(Rewritten(c).empty());
       }},
      {"dumb-init --single-child", dumb, "dumb-init", {"--single-child", "true"}, {}, {"true"},
       DumbSingleChild},
      {"dumb-init --single (prefix)", dumb, "dumb-init", {"--single", "true"}, {}, {"true"},
       DumbSingleChild},
      {"dumb-init DUMB_INIT_SETSID=0", dumb, "dumb-init", {"true"}, {"DUMB_INIT_SETSID=0"},
       {"true"},
       [](const Config& c) {
         DumbSingleChild(c);
         EXPECT_TRUE(Rewritten(c).empty());
       }},
      {"dumb-init DUMB_INIT_SETSID=1 keeps setsid", dumb, "dumb-init", {"true"},
       {"DUMB_INIT_SETSID=1"}, {"true"}, DumbSetsid},
      {"dumb-init DUMB_INIT_SETSID=00 keeps setsid", dumb, "dumb-init", {"true"},
       {"DUMB_INIT_SETSID=00"}, {"true"}, DumbSetsid},
      {"dumb-init -v", dumb, "dumb-init", {"-v", "true"}, {}, {"true"},
       [](const Config& c) { EXPECT_EQ(c.verbosity, 3); }},
      {"dumb-init --verbose", dumb, "dumb-init", {"--verbose", "true"}, {}, {"true"},
       [](const Config& c) { EXPECT_EQ(c.verbosity, 3); }},
      {"dumb-init DUMB_INIT_DEBUG=1", dumb, "dumb-init", {"true"}, {"DUMB_INIT_DEBUG=1"},
       {"true"}, [](const Config& c) { EXPECT_EQ(c.verbosity, 3); },
       "[dumb-init] Running in debug mode.\n"},
      {"dumb-init DUMB_INIT_DEBUG=true is not 1", dumb, "dumb-init", {"true"},
       {"DUMB_INIT_DEBUG=true"}, {"true"}, DumbSetsid},
      {"dumb-init debug and single child from the environment", dumb, "dumb-init", {"true"},
       {"DUMB_INIT_DEBUG=1", "DUMB_INIT_SETSID=0"}, {"true"}, DumbSingleChild,
       "[dumb-init] Running in debug mode.\n[dumb-init] Not running in setsid mode.\n"},
      {"dumb-init -v with DUMB_INIT_SETSID=0", dumb, "dumb-init", {"-v", "true"},
       {"DUMB_INIT_SETSID=0"}, {"true"}, DumbSingleChild,
       "[dumb-init] Not running in setsid mode.\n"},
      {"dumb-init -c -v says nothing", dumb, "dumb-init", {"-cv", "true"}, {}, {"true"},
       DumbSingleChild},
      {"dumb-init -r, repeated, last wins", dumb, "dumb-init",
       {"-r", "15:0", "-r", "1:2", "-r", "15:9", "x"}, {}, {"x"},
       [](const Config& c) {
         EXPECT_EQ(Rewritten(c),
                   (std::vector<int>{1 * 100 + 2, 15 * 100 + 9, SIGTSTP * 100 + SIGSTOP,
                                     SIGTTIN * 100 + SIGSTOP, SIGTTOU * 100 + SIGSTOP}));
       }},
      {"dumb-init -r of a job-control signal beats SIGSTOP", dumb, "dumb-init",
       {"-r", "20:20", "-r", "21:0", "x"}, {}, {"x"},
       [](const Config& c) {
         EXPECT_EQ(Rewritten(c), (std::vector<int>{21 * 100 + 0, SIGTTOU * 100 + SIGSTOP}));
       }},
      {"dumb-init -r with -c", dumb, "dumb-init", {"-c", "-r", "21:0", "x"}, {}, {"x"},
       [](const Config& c) { EXPECT_EQ(Rewritten(c), (std::vector<int>{21 * 100 + 0})); }},
      {"dumb-init -r takes sscanf's blanks, sign and trailing junk", dumb, "dumb-init",
       {"-r", " +15: 3xyz", "x"}, {}, {"x"},
       [](const Config& c) { EXPECT_EQ(c.rewrite[15], 3); }},
      {"dumb-init -r truncates like sscanf's %d", dumb, "dumb-init",
       {"-r", "4294967311:0", "x"}, {}, {"x"},
       [](const Config& c) { EXPECT_EQ(c.rewrite[15], 0); }},
      {"dumb-init -r 31:31 and 1:0", dumb, "dumb-init", {"-r31:31", "-r", "1:0", "x"}, {},
       {"x"},
       [](const Config& c) {
         EXPECT_EQ(c.rewrite[31], 31);
         EXPECT_EQ(c.rewrite[1], 0);
       }},
      {"dumb-init --rewrite=", dumb, "dumb-init", {"--rewrite=15:9", "x"}, {}, {"x"},
       [](const Config& c) { EXPECT_EQ(c.rewrite[15], 9); }},
      {"dumb-init --re (prefix)", dumb, "dumb-init", {"--re", "15:9", "x"}, {}, {"x"},
       [](const Config& c) { EXPECT_EQ(c.rewrite[15], 9); }},
      {"dumb-init stops at the first operand", dumb, "dumb-init",
       {"ls", "-c", "-r", "1:2", "-v"}, {}, {"ls", "-c", "-r", "1:2", "-v"},
       [](const Config& c) {
         DumbSetsid(c);
         EXPECT_EQ(Rewritten(c), kStopRewrites);
       }},
      {"dumb-init ignores POSIXLY_CORRECT", dumb, "dumb-init", {"-c", "ls", "-v"},
       {"POSIXLY_CORRECT=1"}, {"ls", "-v"}, DumbSingleChild},
      {"dumb-init -- then an option-like command", dumb, "dumb-init", {"--", "-c"}, {},
       {"-c"}, DumbSetsid},
      {"dumb-init - is an operand", dumb, "dumb-init", {"-", "-c"}, {}, {"-", "-c"},
       DumbSetsid},

      // catatonit
      {"catatonit defaults", cata, "catatonit", {"true"}, {}, {"true"}, CataDefaults},
      {"catatonit -g", cata, "catatonit", {"-g", "true"}, {}, {"true"},
       [](const Config& c) { EXPECT_TRUE(c.forward_to_group); }},
      {"catatonit -P", cata, "catatonit", {"-P"}, {}, {}, CataDefaults},
      {"catatonit -P ignores a command", cata, "catatonit", {"-P", "true"}, {}, {},
       CataDefaults},
      {"catatonit -P after the command", cata, "catatonit", {"true", "-gP"}, {}, {},
       [](const Config& c) { EXPECT_TRUE(c.forward_to_group); }},
      {"catatonit CATATONIT_DEBUG, even empty", cata, "catatonit", {"true"},
       {"CATATONIT_DEBUG="}, {"true"}, [](const Config& c) { EXPECT_EQ(c.verbosity, 3); }},
      {"catatonit permutes", cata, "catatonit", {"sleep", "-g", "10"}, {}, {"sleep", "10"},
       [](const Config& c) { EXPECT_TRUE(c.forward_to_group); }},
      {"catatonit POSIXLY_CORRECT stops at the command", cata, "catatonit",
       {"sleep", "-g", "10"}, {"POSIXLY_CORRECT=1"}, {"sleep", "-g", "10"}, CataDefaults},
      {"catatonit -- protects the command's options", cata, "catatonit",
       {"--", "sh", "-c", "exit 3"}, {}, {"sh", "-c", "exit 3"}, CataDefaults},

      // pause
      {"pause", pause, "/pause", {}, {}, {}, PauseDefaults},
      {"pause ignores other arguments", pause, "/pause", {"-vv", "--version", "-x", "sleep"},
       {}, {}, PauseDefaults},
      {"pause ignores the environment", pause, "pause", {}, {"POSIXLY_CORRECT=1"}, {},
       PauseDefaults},
  };
}

void PrintTo(const RunCase& c, std::ostream* os) { *os << Describe(c.name, c.args, c.env); }

class RunTest : public ::testing::TestWithParam<RunCase> {};

TEST_P(RunTest, CommandAndConfig) {
  const RunCase& c = GetParam();
  const Outcome o = Parse(c.fn, Cat(c.argv0, c.args), c.env);
  EXPECT_TRUE(o.result.run);
  EXPECT_EQ(o.result.exit_code, 0);
  EXPECT_EQ(o.result.out_fd, 2);
  EXPECT_EQ(o.text, c.text);
  EXPECT_EQ(o.pause, c.command.empty());
  EXPECT_EQ(o.command, c.command);
  c.check(o.config);
}

INSTANTIATE_TEST_SUITE_P(Personalities, RunTest, ::testing::ValuesIn(RunCases()),
                         [](const ::testing::TestParamInfo<RunCase>& row) {
                           return RowName(row.param.argv0, row.index);
                         });

// argv[0]'s basename picks the personality; ParseCommandLine hands over.
TEST(PersonalitiesTest, DispatchByArgv0) {
  struct DispatchCase {
    const char* argv0;
    std::vector<std::string> args;
    Personality personality;
    const char* version_prefix;  // printed by the version flag in args
  };
  const std::vector<DispatchCase> cases = {
      {"tini", {"--version"}, Personality::kTini, "tini version 0.19.0"},
      {"/usr/bin/tini-static", {"--version"}, Personality::kTini, "tini version 0.19.0"},
      {"/sbin/docker-init", {"--version"}, Personality::kTini, "tini version 0.19.0"},
      {"/usr/bin/dumb-init", {"-V"}, Personality::kDumbInit, "dumb-init v1.2.5"},
      {"catatonit", {"-V"}, Personality::kCatatonit, "tini version 0.1.7_catatonit"},
      {"/pause", {"-v"}, Personality::kPause, "pause.c "},
  };
  for (const DispatchCase& c : cases) {
    SCOPED_TRACE(c.argv0);
    EXPECT_EQ(PersonalityFromArgv0(c.argv0), c.personality);
    const Outcome o = Parse(ParseCommandLine, Cat(c.argv0, c.args), {});
    EXPECT_FALSE(o.result.run);
    EXPECT_EQ(o.text.rfind(c.version_prefix, 0), 0u) << o.text;
    // Every version keeps minipod-init's own after the tool's.
    EXPECT_NE(o.text.find(std::string(" - minipod-init ") + kVersion + "\n"), std::string::npos);

    const Outcome run = Parse(ParseCommandLine, {c.argv0, "--", "true"}, {});
    EXPECT_EQ(run.config.personality, c.personality);
  }
}

// glibc's getopt_long prints the whole "--name=value" of an unknown option
// and lists the candidates of an ambiguous prefix. OptionScanner does not
// yet (init/option_scanner.cc, not a personality concern): enable once it does.
TEST(PersonalitiesTest, GlibcLongOptionDiagnostics) {
  const Outcome unknown = Parse(ParseDumbInit, {"dumb-init", "--foo=bar"}, {});
  EXPECT_EQ(unknown.text, "dumb-init: unrecognized option '--foo=bar'\n");
  const Outcome ambiguous = Parse(ParseDumbInit, {"dumb-init", "--ver"}, {});
  EXPECT_EQ(ambiguous.text,
            "dumb-init: option '--ver' is ambiguous; possibilities: '--verbose' '--version'\n");
}

}  // namespace
}  // namespace init
