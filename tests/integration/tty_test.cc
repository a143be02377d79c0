// `minipod run -t` end to end, as root (and the child's stdio step,
// sandbox::ExecInChild, on its own, as an exec into a container uses it): the test holds a pseudo-terminal of
// its own and plays the user's terminal (the launcher is the session leader
// it controls, stdin/stdout/stderr on its slave), types bytes into it and
// reads what comes back. Inside, a root file system from `minipod rootfs
// build` with sh, tty, stty, ps. Each case runs with minipod-init as PID 1
// and with --no-init. Every wait is bounded; every launcher is killed and
// reaped on every path, and no mount may stay behind.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/caps.h"
#include "sandbox/child.h"
#include "tests/integration/harness.h"

namespace itest {
namespace {

using ::testing::HasSubstr;

// The test's terminal, and `minipod run` started on it.
class Session {
 public:
  struct Options {
    std::vector<std::string> run_args;  // between `run --rootfs ROOT` and `--`
    std::vector<std::string> command;
    unsigned short rows = 27, cols = 91;
    bool stdin_pipe = false;  // stdin from a pipe the test writes (stdout/stderr stay the terminal)
    bool as_nobody = false;   // minipod run without root (65534, in a user namespace of its own)
  };

  static std::unique_ptr<Session> Start(const std::string& root, const Options& o) {
    std::unique_ptr<Session> s(new Session());
    struct winsize ws{};
    ws.ws_row = o.rows;
    ws.ws_col = o.cols;
    int master = -1, slave = -1;
    if (::openpty(&master, &slave, nullptr, nullptr, &ws) != 0) return nullptr;
    s->master_ = master;
    s->slave_ = slave;
    ::fcntl(master, F_SETFD, FD_CLOEXEC);
    ::fcntl(slave, F_SETFD, FD_CLOEXEC);
    ::tcgetattr(slave, &s->modes_before_);
    int in_pipe[2] = {-1, -1};
    if (o.stdin_pipe && ::pipe2(in_pipe, O_CLOEXEC) != 0) return nullptr;

    std::vector<std::string> args = {Minipod(), "run", "--rootfs", root};
    args.insert(args.end(), o.run_args.begin(), o.run_args.end());
    args.push_back("--");
    args.insert(args.end(), o.command.begin(), o.command.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const char* envp[] = {"PATH=/usr/bin:/bin", "TERM=xterm", nullptr};

    const pid_t pid = ::fork();
    if (pid < 0) return nullptr;
    if (pid == 0) {
      // The user's shell would have made us a session leader on this
      // terminal, in its foreground group.
      ::setsid();
      if (::ioctl(slave, TIOCSCTTY, 0) != 0) ::_exit(120);
      ::dup2(o.stdin_pipe ? in_pipe[0] : slave, 0);
      ::dup2(slave, 1);
      ::dup2(slave, 2);
      if (o.as_nobody && (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
                          ::setresuid(65534, 65534, 65534) != 0)) {
        ::_exit(122);
      }
      ::execve(argv[0], argv.data(), const_cast<char**>(envp));
      ::_exit(121);
    }
    s->pid_ = pid;
    if (o.stdin_pipe) {
      ::close(in_pipe[0]);
      s->stdin_ = in_pipe[1];
    }
    return s;
  }

  ~Session() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    for (int fd : {master_, slave_, stdin_}) {
      if (fd >= 0) ::close(fd);
    }
  }

  // Reads the terminal's output for at most d, or until `needle` is in it.
  bool WaitFor(const std::string& needle, Ms d = Ms(15'000)) {
    const auto deadline = Clock::now() + d;
    while (out_.find(needle) == std::string::npos) {
      if (Clock::now() >= deadline) return false;
      Read(Ms(50));
    }
    return true;
  }

  void Type(const std::string& bytes) { ASSERT_EQ(::write(master_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size())); }
  void WriteStdin(const std::string& bytes) { ASSERT_EQ(::write(stdin_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size())); }
  void CloseStdin() {
    ::close(stdin_);
    stdin_ = -1;
  }

  // Until our terminal is in raw mode (the launcher relays our input).
  bool WaitRaw(Ms d = Ms(15'000)) {
    const auto deadline = Clock::now() + d;
    while (Clock::now() < deadline) {
      struct termios t;
      if (::tcgetattr(slave_, &t) == 0 && (t.c_lflag & ICANON) == 0) return true;
      Read(Ms(10));
    }
    return false;
  }

  void Resize(unsigned short rows, unsigned short cols) {
    struct winsize ws{};
    ws.ws_row = rows;
    ws.ws_col = cols;
    // The kernel sends SIGWINCH to the terminal's foreground group: the
    // launcher.
    ASSERT_EQ(::ioctl(master_, TIOCSWINSZ, &ws), 0);
  }

  // The launcher's exit status (128+N for signal N), reading output all the
  // while; -1 when it had to be killed at the deadline.
  int Wait(Ms d = Ms(30'000)) {
    const auto deadline = Clock::now() + d;
    for (;;) {
      int ws = 0;
      const pid_t r = ::waitpid(pid_, &ws, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        Read(Ms(0));
        Read(Ms(100));  // what is still in our terminal
        return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
      }
      if (Clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return -1;
      }
      Read(Ms(20));
    }
  }

  pid_t pid() const { return pid_; }
  const std::string& out() const { return out_; }
  // The output without carriage returns: our terminal adds its own to the
  // container terminal's \r\n while it is not in raw mode.
  std::string text() const {
    std::string t;
    for (char c : out_) {
      if (c != '\r') t.push_back(c);
    }
    return t;
  }
  // For failure messages: the last of it.
  std::string tail() const { return out_.size() > 600 ? "..." + out_.substr(out_.size() - 600) : out_; }

  // Our terminal's modes are the ones it had before the run.
  bool ModesRestored(std::string* why) const {
    struct termios now;
    if (::tcgetattr(slave_, &now) != 0) {
      *why = strerror(errno);
      return false;
    }
    std::ostringstream o;
    const struct termios& b = modes_before_;
    if (now.c_iflag != b.c_iflag) o << "iflag " << std::hex << b.c_iflag << " -> " << now.c_iflag << " ";
    if (now.c_oflag != b.c_oflag) o << "oflag " << std::hex << b.c_oflag << " -> " << now.c_oflag << " ";
    if (now.c_cflag != b.c_cflag) o << "cflag " << std::hex << b.c_cflag << " -> " << now.c_cflag << " ";
    if (now.c_lflag != b.c_lflag) o << "lflag " << std::hex << b.c_lflag << " -> " << now.c_lflag << " ";
    if (memcmp(now.c_cc, b.c_cc, sizeof now.c_cc) != 0) o << "c_cc differ";
    *why = o.str();
    return why->empty();
  }

 private:
  Session() = default;
  void Read(Ms d) {
    struct pollfd p = {master_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(d.count())) <= 0) return;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(master_, buf, sizeof buf);
      if (n <= 0) return;
      out_.append(buf, static_cast<size_t>(n));
      p.revents = 0;
      if (::poll(&p, 1, 0) <= 0) return;
    }
  }

  pid_t pid_ = -1;
  int master_ = -1, slave_ = -1, stdin_ = -1;
  struct termios modes_before_{};
  std::string out_;
};

// The lines of a terminal's output, without the \r its ONLCR adds.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

class TtyTest : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    ASSERT_EQ(::chmod(tmp_->path().c_str(), 0755), 0);
    root_ = tmp_->Join("root");
    const ShResult b = Sh("PATH=/usr/sbin:/usr/bin:/sbin:/bin " + Minipod() + " rootfs build --nss -o " + root_ +
                          " sh sleep cat tty stty ps head yes");
    ASSERT_EQ(b.status, 0) << b.out;
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  void SetUp() override {
    if (::access("/dev/ptmx", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/ptmx for the test's own terminal";
    mounts_before_ = MountPoints();
  }
  void TearDown() override { EXPECT_EQ(Appeared(mounts_before_, MountPoints()), "") << "mounts left behind"; }

  bool init() const { return GetParam(); }
  std::vector<std::string> Args(std::vector<std::string> extra) const {
    if (!init()) extra.push_back("--no-init");
    return extra;
  }
  std::unique_ptr<Session> Start(Session::Options o) {
    o.run_args = Args(o.run_args);
    return Session::Start(root_, o);
  }
  static void ExpectRestored(const Session& s) {
    std::string why;
    EXPECT_TRUE(s.ModesRestored(&why)) << why;
  }

  static TempDir* tmp_;
  static std::string root_;
  std::multiset<std::string> mounts_before_;
};
TempDir* TtyTest::tmp_ = nullptr;
std::string TtyTest::root_;

INSTANTIATE_TEST_SUITE_P(InitOrNot, TtyTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "Init" : "NoInit"; });

TEST_P(TtyTest, TheCommandHasATerminalOfItsOwnAsControllingTerminal) {
  auto s = Start({{"-t"}, {"sh", "-c", "tty; ps -o tty=,sid=,pgid=,tpgid=,comm= -p $$"}});
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->Wait(), 0) << s->tail();
  const std::vector<std::string> lines = Lines(s->text());
  ASSERT_GE(lines.size(), 2u) << s->tail();
  EXPECT_THAT(lines[0], ::testing::MatchesRegex("/dev/pts/[0-9]+")) << s->tail();
  // ps: the shell's terminal is that pty, it leads its session, and its
  // group is the terminal's foreground group.
  std::istringstream ps(lines[1]);
  std::string tty, comm;
  long sid = 0, pgid = 0, tpgid = 0;
  ps >> tty >> sid >> pgid >> tpgid >> comm;
  EXPECT_EQ("/dev/" + tty, lines[0]) << s->tail();
  EXPECT_EQ(pgid, tpgid) << s->tail();
  EXPECT_EQ(sid, pgid) << s->tail();
  EXPECT_EQ(comm, "sh") << s->tail();
  ExpectRestored(*s);
}

TEST_P(TtyTest, WindowSizeAtStartAndWhenItChanges) {
  // The shell traps SIGWINCH, which the container's pty sends its
  // foreground group when the launcher passes our new size on.
  auto s = Start({{"-t"},
                  {"sh", "-c", "trap 'stty size; exit 0' WINCH; stty size; echo ready; while :; do sleep 1 & wait $!; done"},
                  27, 91});
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->WaitFor("ready")) << s->tail();
  EXPECT_THAT(s->text(), HasSubstr("27 91\n"));
  s->Resize(40, 132);
  ASSERT_EQ(s->Wait(), 0) << s->tail();
  EXPECT_THAT(s->text(), HasSubstr("40 132\n"));
  ExpectRestored(*s);
}

TEST_P(TtyTest, CtrlCInterruptsTheForegroundGroup) {
  if (!init()) GTEST_SKIP() << "as PID 1 without minipod-init the command ignores SIGINT it has no handler for (as in docker run -it --init=false)";
  auto s = Start({{"-t", "-i"}, {"sh", "-c", "echo ready; exec sleep 100"}});
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->WaitRaw()) << s->tail();
  ASSERT_TRUE(s->WaitFor("ready")) << s->tail();
  s->Type("\x03");
  EXPECT_EQ(s->Wait(Ms(15'000)), 130) << s->tail();
  ExpectRestored(*s);
}

TEST_P(TtyTest, WithoutIOurTerminalStaysAsItIs) {
  // -t alone: our input is not relayed and our terminal stays cooked, so
  // Ctrl-C is our terminal's SIGINT to minipod run, which passes it on.
  auto s = Start({{"-t"}, {"sh", "-c", "trap 'echo interrupted; exit 7' INT; echo ready; while :; do sleep 1; done"}});
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->WaitFor("ready")) << s->tail();
  std::string why;
  EXPECT_TRUE(s->ModesRestored(&why)) << "changed while running: " << why;
  s->Type("\x03");
  EXPECT_EQ(s->Wait(Ms(15'000)), 7) << s->tail();
  EXPECT_THAT(s->text(), HasSubstr("interrupted"));
  ExpectRestored(*s);
}

TEST_P(TtyTest, CtrlZStopsTheJobNotTheLauncher) {
  // An interactive shell with job control inside: Ctrl-Z stops its
  // foreground job and the shell says so; the launcher keeps running and
  // relaying.
  auto s = Start({{"-t", "-i"}, {"sh", "-i"}});
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->WaitRaw()) << s->tail();
  ASSERT_TRUE(s->WaitFor("# ")) << s->tail();
  s->Type("sleep 100\n");
  // The job is running once the shell has put it in the foreground.
  ASSERT_TRUE(s->WaitFor("sleep 100\r\n")) << s->tail();
  std::this_thread::sleep_for(Ms(300));
  s->Type("\x1a");
  ASSERT_TRUE(s->WaitFor("Stopped")) << s->tail();
  EXPECT_NE(ProcState(s->pid()), 'T');
  // The shell refuses the first exit while a job is stopped; the second
  // goes, and the stopped job ends with the container.
  s->Type("exit 3\n");
  ASSERT_TRUE(s->WaitFor("stopped jobs")) << s->tail();
  s->Type("exit 3\n");
  EXPECT_EQ(s->Wait(Ms(15'000)), 3) << s->tail();
  ExpectRestored(*s);
}

TEST_P(TtyTest, CtrlDIsEndOfInput) {
  auto s = Start({{"-t", "-i"}, {"sh", "-c", "echo ready; cat; echo cat-done"}});
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->WaitRaw()) << s->tail();
  ASSERT_TRUE(s->WaitFor("ready")) << s->tail();
  s->Type("typed\n");
  ASSERT_TRUE(s->WaitFor("typed\r\ntyped\r\n")) << s->tail();  // the echo, then cat
  s->Type("\x04");
  EXPECT_EQ(s->Wait(Ms(15'000)), 0) << s->tail();
  EXPECT_THAT(s->text(), HasSubstr("cat-done"));
  ExpectRestored(*s);
}

TEST_P(TtyTest, AMebibyteOfOutputArrivesInFull) {
  auto s = Start({{"-t"}, {"sh", "-c", "yes | head -c 1048576; echo; echo end-of-output"}});
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->Wait(Ms(60'000)), 0) << s->tail();
  const std::string text = s->text();
  EXPECT_EQ(std::count(text.begin(), text.end(), 'y'), 1048576 / 2) << s->tail();
  EXPECT_EQ(Count(text, "y\n"), 1048576u / 2) << s->tail();
  EXPECT_THAT(text, ::testing::EndsWith("\nend-of-output\n")) << s->tail();
  ExpectRestored(*s);
}

TEST_P(TtyTest, StdinFromAPipe) {
  // -t -i with our input a pipe: relayed, and its end is the terminal's
  // end of input; our output is still our terminal (never put in raw mode:
  // stdin is not a terminal).
  auto s = Start({{"-t", "-i"}, {"cat"}, 27, 91, /*stdin_pipe=*/true});
  ASSERT_NE(s, nullptr);
  s->WriteStdin("from a pipe\n");
  s->WriteStdin("no newline");
  s->CloseStdin();
  EXPECT_EQ(s->Wait(), 0) << s->tail();
  // The terminal's echo of the input and cat's copy; the line without a
  // newline reached cat too (the first VEOF), and cat saw the end (the second).
  EXPECT_EQ(Count(s->text(), "from a pipe\n"), 2u) << s->tail();
  EXPECT_EQ(Count(s->text(), "no newline"), 2u) << s->tail();
  ExpectRestored(*s);
}

TEST_P(TtyTest, WithoutATerminalOnOurSide) {
  // As `docker run -t` fed by a pipe: the command has a terminal, we have
  // none (so no size either), and -i relays the pipe.
  const std::string run = Minipod() + " run --rootfs " + root_ + (init() ? "" : " --no-init");
  const ShResult t = Sh("env -u TERM " + run + " -t -- sh -c \"tty; stty size; echo TERM=\\$TERM\"", 60);
  EXPECT_EQ(t.status, 0) << t.out;
  EXPECT_THAT(t.out, ::testing::ContainsRegex("/dev/pts/[0-9]+\r\n0 0\r\nTERM=xterm\r\n"));
  const ShResult i = Sh("echo input | " + run + " -t -i -- sh -c \"read x; echo got \\$x\"", 60);
  EXPECT_EQ(i.status, 0) << i.out;
  EXPECT_THAT(i.out, HasSubstr("got input\r\n"));
}

TEST_P(TtyTest, WithoutRoot) {
  // The pty comes from the devpts the container mounted in its own user
  // namespace; our terminal is still ours to put in raw mode and back.
  Session::Options o{{"-t", "-i"}, {"sh", "-c", "echo ready; read x; tty; echo got $x"}};
  o.as_nobody = true;
  auto s = Start(o);
  ASSERT_NE(s, nullptr);
  if (!s->WaitRaw()) {
    const int status = s->Wait();
    if (status == 125 && s->text().find("are user namespaces allowed?") != std::string::npos) {
      GTEST_SKIP() << "no user namespaces without root here: " << s->tail();
    }
    FAIL() << "exit " << status << ": " << s->tail();
  }
  ASSERT_TRUE(s->WaitFor("ready")) << s->tail();
  s->Type("hello\r");  // Enter, as a terminal sends it (ICRNL makes it a newline)
  EXPECT_EQ(s->Wait(), 0) << s->tail();
  EXPECT_THAT(s->text(), ::testing::ContainsRegex("/dev/pts/[0-9]+\ngot hello\n")) << s->tail();
  ExpectRestored(*s);
}

// ExecInChild's stdio step on its own, in a forked child of the test, as
// an exec into a running container or a detached container's log pipes
// use it: plain descriptors, and a terminal for a process that is not yet
// a session leader.
class ExecStdioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    ASSERT_EQ(::syscall(SYS_capget, &header, data), 0);
    caps_ = static_cast<sandbox::CapMask>(data[0].permitted) | static_cast<sandbox::CapMask>(data[1].permitted) << 32;
  }

  // Runs `sh -c script` through ExecInChild with the plan `edit` fills in;
  // before_exec runs in the child first. Returns the exit status (-1:
  // killed at the deadline) and the error pipe's report, if any.
  template <typename Edit, typename Before>
  int Run(const std::string& script, Edit edit, Before before_exec, sandbox::ChildError* report) {
    int err_pipe[2];
    EXPECT_EQ(::pipe2(err_pipe, O_CLOEXEC), 0);
    static const char* const kPaths[] = {"/bin/sh", nullptr};
    std::string arg0 = "sh", arg1 = "-c", arg2 = script;
    char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};
    char env0[] = "PATH=/usr/bin:/bin";
    char* envp[] = {env0, nullptr};
    sandbox::ExecPlan plan;
    plan.error_fd = err_pipe[1];
    plan.caps = caps_;
    plan.last_cap = sandbox::LastCap();
    plan.expected_ppid = ::getpid();
    plan.exec_paths = kPaths;
    plan.argv = argv;
    plan.envp = envp;
    edit(plan);
    const pid_t pid = ::fork();
    if (pid == 0) {
      before_exec();
      sandbox::ExecInChild(plan);
    }
    ::close(err_pipe[1]);
    int status = -1;
    const auto deadline = Clock::now() + Ms(15'000);
    for (;;) {
      int ws = 0;
      if (::waitpid(pid, &ws, WNOHANG) == pid) {
        status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
        break;
      }
      if (Clock::now() >= deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(Ms(5));
    }
    *report = sandbox::ChildError{-1, 0, 0};
    (void)!::read(err_pipe[0], report, sizeof *report);
    ::close(err_pipe[0]);
    return status;
  }

  sandbox::CapMask caps_ = 0;
};

std::string ReadPipe(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TEST_F(ExecStdioTest, DescriptorsBecomeStdinStdoutStderr) {
  int in[2], out[2], err[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
  ASSERT_EQ(::write(in[1], "ping\n", 5), 5);
  ::close(in[1]);
  sandbox::ChildError report;
  const int status = Run(
      "read x; echo out:$x; echo err:$x >&2; ls /proc/self/fd | wc -l",
      [&](sandbox::ExecPlan& p) {
        p.stdio[0] = in[0];
        p.stdio[1] = out[1];
        p.stdio[2] = err[1];
      },
      [] {}, &report);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  EXPECT_EQ(status, 0) << "step " << report.step << " errno " << report.err;
  // 0, 1, 2 and ls's own directory descriptor: nothing else came through.
  EXPECT_EQ(ReadPipe(out[0]), "out:ping\n4\n");
  EXPECT_EQ(ReadPipe(err[0]), "err:ping\n");
  ::close(out[0]);
  ::close(err[0]);
}

TEST_F(ExecStdioTest, ASourceThatIsAnotherTargetIsNotClobbered) {
  // stdio = {1, 0, -1}: the child's 0 and 1 swap.
  int in[2], out[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(::write(in[1], "swapped\n", 8), 8);
  ::close(in[1]);
  sandbox::ChildError report;
  const int status = Run(
      "read x; echo got:$x",
      [&](sandbox::ExecPlan& p) {
        p.stdio[0] = 1;
        p.stdio[1] = 0;
      },
      [&] {
        ::dup2(out[1], 0);
        ::dup2(in[0], 1);
      },
      &report);
  ::close(in[0]);
  ::close(out[1]);
  EXPECT_EQ(status, 0) << "step " << report.step << " errno " << report.err;
  EXPECT_EQ(ReadPipe(out[0]), "got:swapped\n");
  ::close(out[0]);
}

TEST_F(ExecStdioTest, ATerminalForAProcessNotYetASessionLeader) {
  // The terminal comes from the devpts at /dev/pts, as in a container.
  const int probe = ::open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (probe < 0) GTEST_SKIP() << "/dev/pts/ptmx: " << strerror(errno);
  ::close(probe);
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  sandbox::ChildError report;
  const int status = Run(
      "tty; stty size; ps -o sid=,pgid=,tpgid= -p $$; echo pid $$",
      [&](sandbox::ExecPlan& p) {
        p.terminal_socket = sv[1];
        p.terminal_rows = 30;
        p.terminal_cols = 100;
        p.controlling_tty = true;
      },
      [] {}, &report);
  ::close(sv[1]);
  EXPECT_EQ(status, 0) << "step " << report.step << " errno " << report.err;
  // The master the child sent.
  char byte;
  struct iovec iov = {&byte, 1};
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ASSERT_EQ(::recvmsg(sv[0], &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC), 1);
  ::close(sv[0]);
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  ASSERT_NE(cmsg, nullptr);
  ASSERT_EQ(cmsg->cmsg_type, SCM_RIGHTS);
  int master = -1;
  memcpy(&master, CMSG_DATA(cmsg), sizeof master);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(master, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));  // then EIO
  ::close(master);
  std::string text;
  for (char c : out) {
    if (c != '\r') text.push_back(c);
  }
  const std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 4u) << text;
  EXPECT_THAT(lines[0], ::testing::MatchesRegex("/dev/pts/[0-9]+")) << text;
  EXPECT_EQ(lines[1], "30 100");
  std::istringstream ps(lines[2]);
  long sid = 0, pgid = 0, tpgid = 0;
  ps >> sid >> pgid >> tpgid;
  EXPECT_EQ("pid " + std::to_string(sid), lines[3]) << "a session of its own";
  EXPECT_EQ(pgid, tpgid) << "the foreground group";
}

}  // namespace
}  // namespace itest
