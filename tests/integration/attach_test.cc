// Terminals for containers that live on, end to end through the `minipod`
// command line, as root: `run -d -t` with `attach` (typing, window size,
// the detach keys, attaching again, the container's exit status), `run -d
// -i` with attach feeding stdin, an attach client that never reads (the log
// must not wait for it), and `exec -t`. The test holds a pseudo-terminal of
// its own and plays the user's terminal. Each test keeps its containers in a
// state directory of its own (MINIPOD_STATE_DIR) and removes them (rm -f) in
// TearDown, even on failure; every wait is bounded.
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/harness.h"
#include "tests/testing/probes.h"

namespace itest {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr uint64_t Cap(int cap) { return uint64_t{1} << cap; }

// The test's terminal, with `minipod ARGS` started on it as the session
// leader it controls (stdin, stdout and stderr on its slave).
class Term {
 public:
  static std::unique_ptr<Term> Start(const std::vector<std::string>& minipod_args, unsigned short rows = 27,
                                     unsigned short cols = 91) {
    std::unique_ptr<Term> t(new Term());
    struct winsize ws{};
    ws.ws_row = rows;
    ws.ws_col = cols;
    if (::openpty(&t->master_, &t->slave_, nullptr, nullptr, &ws) != 0) return nullptr;
    ::fcntl(t->master_, F_SETFD, FD_CLOEXEC);
    ::fcntl(t->slave_, F_SETFD, FD_CLOEXEC);
    ::tcgetattr(t->slave_, &t->modes_before_);
    std::vector<std::string> args = {Minipod()};
    args.insert(args.end(), minipod_args.begin(), minipod_args.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string state = std::string("MINIPOD_STATE_DIR=") + getenv("MINIPOD_STATE_DIR");
    const char* envp[] = {"PATH=/usr/bin:/bin", "TERM=xterm", state.c_str(), nullptr};
    const pid_t pid = ::fork();
    if (pid < 0) return nullptr;
    if (pid == 0) {
      ::setsid();
      if (::ioctl(t->slave_, TIOCSCTTY, 0) != 0) ::_exit(120);
      for (int i = 0; i < 3; ++i) ::dup2(t->slave_, i);
      ::execve(argv[0], argv.data(), const_cast<char**>(envp));
      ::_exit(121);
    }
    t->pid_ = pid;
    return t;
  }

  ~Term() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(master_);
    ::close(slave_);
  }

  // Reads the terminal for at most d, or until needle is in what came
  // since the last Clear().
  bool WaitFor(const std::string& needle, Ms d = Ms(15'000)) {
    const auto deadline = Clock::now() + d;
    while (out_.find(needle) == std::string::npos) {
      if (Clock::now() >= deadline) return false;
      Read(Ms(50));
    }
    return true;
  }
  void Type(const std::string& bytes) {
    ASSERT_EQ(::write(master_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  void Resize(unsigned short rows, unsigned short cols) {
    struct winsize ws{};
    ws.ws_row = rows;
    ws.ws_col = cols;
    ASSERT_EQ(::ioctl(master_, TIOCSWINSZ, &ws), 0);  // SIGWINCH to minipod, our foreground group
  }
  // Until minipod has put our terminal in raw mode (it relays our keys).
  bool WaitRaw(Ms d = Ms(15'000)) {
    const auto deadline = Clock::now() + d;
    while (Clock::now() < deadline) {
      struct termios t;
      if (::tcgetattr(slave_, &t) == 0 && (t.c_lflag & ICANON) == 0) return true;
      Read(Ms(10));
    }
    return false;
  }
  // minipod's exit status; -1 when it had to be killed at the deadline.
  int Wait(Ms d = Ms(20'000)) {
    const auto deadline = Clock::now() + d;
    for (;;) {
      int ws = 0;
      if (::waitpid(pid_, &ws, WNOHANG) == pid_) {
        pid_ = -1;
        Read(Ms(100));
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
  bool ModesRestored(std::string* why) const {
    struct termios now;
    if (::tcgetattr(slave_, &now) != 0) {
      *why = strerror(errno);
      return false;
    }
    const struct termios& b = modes_before_;
    std::ostringstream o;
    if (now.c_iflag != b.c_iflag) o << "iflag " << std::hex << b.c_iflag << " -> " << now.c_iflag << " ";
    if (now.c_oflag != b.c_oflag) o << "oflag " << std::hex << b.c_oflag << " -> " << now.c_oflag << " ";
    if (now.c_lflag != b.c_lflag) o << "lflag " << std::hex << b.c_lflag << " -> " << now.c_lflag << " ";
    if (memcmp(now.c_cc, b.c_cc, sizeof now.c_cc) != 0) o << "c_cc differ";
    *why = o.str();
    return why->empty();
  }
  const std::string& out() const { return out_; }
  std::string tail() const { return out_.size() > 600 ? "..." + out_.substr(out_.size() - 600) : out_; }

 private:
  Term() = default;
  void Read(Ms d) {
    struct pollfd p = {master_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(d.count())) <= 0) return;
    char buf[65536];
    const ssize_t n = ::read(master_, buf, sizeof buf);
    if (n > 0) out_.append(buf, static_cast<size_t>(n));
  }

  pid_t pid_ = -1;
  int master_ = -1, slave_ = -1;
  struct termios modes_before_{};
  std::string out_;
};

class AttachTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    ASSERT_EQ(::chmod(tmp_->path().c_str(), 0755), 0);
    root_ = tmp_->Join("root");
    const ShResult b = Sh("PATH=/usr/sbin:/usr/bin:/sbin:/bin " + Minipod() + " rootfs build -o " + root_ + " busybox");
    ASSERT_EQ(b.status, 0) << b.out;
    ASSERT_TRUE(fs::create_directories(root_ + "/s"));
    // 3 MiB of output in 512-byte lines, then a marker: more than an attach
    // client's buffer and the socket's together.
    std::ofstream(root_ + "/s/flood")
        << "l=$(busybox head -c 500 /dev/zero | busybox tr \"\\0\" x)\n"
           "i=0\nwhile [ $i -lt 6000 ]; do echo \"$i $l\"; i=$((i+1)); done\necho flood-done\nexec busybox sleep 1000\n";
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }

  void SetUp() override {
    if (const auto p = testing_util::EffectiveHas(Cap(CAP_SYS_ADMIN) | Cap(CAP_NET_ADMIN)); !p) {
      GTEST_SKIP() << p.detail << " to run containers as root";
    }
    state_ = std::make_unique<TempDir>();
    ASSERT_EQ(::setenv("MINIPOD_STATE_DIR", state_->path().c_str(), 1), 0);
  }

  void TearDown() override {
    if (state_ == nullptr) return;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(state_->path() + "/containers", ec)) {
      const ShResult r = Mp("rm -f " + e.path().filename().string());
      EXPECT_EQ(r.status, 0) << r.out;
    }
    const bool quiet = WaitFor([] { return Descendants(getpid()).empty(); });
    EXPECT_TRUE(quiet) << Descendants(getpid()).size() << " processes left behind";
    if (!quiet) KillAllDescendants();
    ::unsetenv("MINIPOD_STATE_DIR");
    state_.reset();
  }

  static ShResult Mp(const std::string& args, int timeout_s = 60) { return Sh(Minipod() + " " + args, timeout_s); }
  static void RunD(const std::string& name, const std::string& opts, const std::string& cmd) {
    const ShResult r = Mp("run -d --name " + name + " " + opts + " --rootfs " + root_ + " -- " + cmd);
    ASSERT_EQ(r.status, 0) << r.out;
  }
  static std::string Status(const std::string& name) {
    const ShResult r = Mp("ps -a");
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(name + " ", 0) != 0) continue;
      std::string rest = line.substr(name.size());
      rest.erase(0, rest.find_first_not_of(' '));
      return rest.substr(0, rest.find("  "));
    }
    return "";
  }
  static bool WaitForLog(const std::string& name, const std::string& needle, Ms timeout = Ms(15'000)) {
    return WaitFor([&] { return Mp("logs " + name + " 2>/dev/null").out.find(needle) != std::string::npos; }, timeout);
  }

  static TempDir* tmp_;
  static std::string root_;
  std::unique_ptr<TempDir> state_;
};
TempDir* AttachTest::tmp_ = nullptr;
std::string AttachTest::root_;

TEST_F(AttachTest, TypedLinesResizeDetachAttachAgainAndTheExitStatus) {
  RunD("t", "-t -i", "busybox sh");
  {
    std::unique_ptr<Term> a = Term::Start({"attach", "t"}, 27, 91);
    ASSERT_NE(a, nullptr);
    ASSERT_TRUE(a->WaitRaw()) << a->tail();
    a->Type("echo h\"\"i\r");  // the echo of what was typed is no "hi"
    EXPECT_TRUE(a->WaitFor("hi\r\n")) << a->tail();
    // The size at the start of the attach, then a new one.
    a->Type("busybox stty size\r");
    EXPECT_TRUE(a->WaitFor("27 91")) << a->tail();
    a->Resize(33, 101);
    std::this_thread::sleep_for(Ms(200));
    a->Type("busybox stty size\r");
    EXPECT_TRUE(a->WaitFor("33 101")) << a->tail();
    a->Type("\x10\x11");  // Ctrl-P Ctrl-Q
    EXPECT_EQ(a->Wait(), 0) << a->tail();
    std::string why;
    EXPECT_TRUE(a->ModesRestored(&why)) << why;
  }
  EXPECT_EQ(Status("t"), "running");
  {
    std::unique_ptr<Term> a = Term::Start({"attach", "t"});
    ASSERT_NE(a, nullptr);
    ASSERT_TRUE(a->WaitRaw()) << a->tail();
    a->Type("echo again-$((40+2))\r");
    EXPECT_TRUE(a->WaitFor("again-42")) << a->tail();
    // Ctrl-P then something else: both reach the container.
    a->Type("busybox cat -v\r");
    std::this_thread::sleep_for(Ms(300));
    a->Type("\x10z\r\x04");
    EXPECT_TRUE(a->WaitFor("^Pz")) << a->tail();
    a->Type("exit 3\r");
    EXPECT_EQ(a->Wait(), 3) << a->tail();
    std::string why;
    EXPECT_TRUE(a->ModesRestored(&why)) << why;
  }
  EXPECT_TRUE(WaitFor([] { return Status("t") == "exited (3)"; })) << Status("t");
  const ShResult logs = Mp("logs t");
  EXPECT_THAT(logs.out, HasSubstr("hi"));
  EXPECT_THAT(logs.out, HasSubstr("33 101"));
  EXPECT_THAT(logs.out, HasSubstr("again-42"));
}

TEST_F(AttachTest, SeveralClientsAtOnceSeeTheSameOutputAndAllGetTheStatus) {
  RunD("m", "-t", "busybox sh");
  std::unique_ptr<Term> a = Term::Start({"attach", "m"});
  std::unique_ptr<Term> b = Term::Start({"attach", "m"});
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->WaitRaw()) << a->tail();
  ASSERT_TRUE(b->WaitRaw()) << b->tail();
  std::this_thread::sleep_for(Ms(300));  // both connected to the monitor
  a->Type("echo both-$((2+2))\r");
  EXPECT_TRUE(a->WaitFor("both-4")) << a->tail();
  EXPECT_TRUE(b->WaitFor("both-4")) << b->tail();
  b->Type("exit 6\r");
  EXPECT_EQ(a->Wait(), 6) << a->tail();
  EXPECT_EQ(b->Wait(), 6) << b->tail();
}

TEST_F(AttachTest, AttachingToAContainerThatEndedIsAClearError) {
  RunD("e", "", "busybox true");
  ASSERT_TRUE(WaitFor([] { return Status("e") == "exited (0)"; })) << Status("e");
  const ShResult r = Mp("attach e </dev/null");
  EXPECT_NE(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("container e is not running"));
  const ShResult missing = Mp("attach nosuch </dev/null");
  EXPECT_NE(missing.status, 0);
  EXPECT_THAT(missing.out, HasSubstr("nosuch"));
}

TEST_F(AttachTest, WithoutTtyInputGoesToTheKeptStdin) {
  RunD("c", "-i", "busybox cat");
  // attach stays after its stdin ends (the container's stdin stays open):
  // timeout ends it.
  const ShResult r = Sh("(printf \"from-attach-1\\nfrom-attach-2\\n\"; sleep 1) | timeout 4 " + Minipod() + " attach c", 30);
  EXPECT_EQ(r.status, 124) << r.out;
  EXPECT_THAT(r.out, HasSubstr("from-attach-2"));  // cat's output, relayed back
  EXPECT_TRUE(WaitForLog("c", "from-attach-2"));
  EXPECT_EQ(Status("c"), "running");
  // --no-stdin sends nothing.
  const ShResult watch = Sh("printf \"not-sent\\n\" | timeout 2 " + Minipod() + " attach --no-stdin c", 30);
  EXPECT_EQ(watch.status, 124) << watch.out;
  std::this_thread::sleep_for(Ms(300));
  EXPECT_THAT(Mp("logs c").out, ::testing::Not(HasSubstr("not-sent")));
}

TEST_F(AttachTest, AClientThatNeverReadsHoldsNeitherTheLogNorTheContainer) {
  // The flood starts once we are attached (2 s: run -d has returned by then).
  RunD("f2", "", "busybox sh -c \"busybox sleep 2; exec busybox sh /s/flood\"");
  const std::string sock = state_->path() + "/containers/f2/ctl.sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock.size(), sizeof addr.sun_path) << sock;
  memcpy(addr.sun_path, sock.c_str(), sock.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << strerror(errno);
  ASSERT_EQ(::write(fd, "attach\n", 7), 7);
  // The log gets everything although we read nothing.
  EXPECT_TRUE(WaitForLog("f2", "flood-done", Ms(30'000)));
  // We were disconnected: what is queued for us ends in EOF.
  bool eof = false;
  const auto deadline = Clock::now() + Ms(10'000);
  char buf[65536];
  while (!eof && Clock::now() < deadline) {
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) eof = true;
  }
  EXPECT_TRUE(eof);
  ::close(fd);
  EXPECT_EQ(Status("f2"), "running");
}

TEST_F(AttachTest, ExecTtyGivesAPtyCtrlCReachesItAndOurModesComeBack) {
  RunD("x", "", "busybox sleep 1000");
  std::unique_ptr<Term> e = Term::Start({"exec", "-it", "x", "busybox", "sh"}, 30, 100);
  ASSERT_NE(e, nullptr);
  ASSERT_TRUE(e->WaitRaw()) << e->tail();
  e->Type("busybox tty; busybox stty size\r");
  EXPECT_TRUE(e->WaitFor("/dev/pts/")) << e->tail();
  EXPECT_TRUE(e->WaitFor("30 100")) << e->tail();
  e->Resize(40, 120);
  std::this_thread::sleep_for(Ms(200));
  e->Type("busybox stty size\r");
  EXPECT_TRUE(e->WaitFor("40 120")) << e->tail();
  e->Type("busybox sleep 100\r");
  std::this_thread::sleep_for(Ms(300));
  e->Type("\x03");
  e->Type("echo rc=$?\r");
  EXPECT_TRUE(e->WaitFor("rc=130")) << e->tail();
  e->Type("exit 5\r");
  EXPECT_EQ(e->Wait(), 5) << e->tail();
  std::string why;
  EXPECT_TRUE(e->ModesRestored(&why)) << why;
  EXPECT_EQ(Status("x"), "running");
}

}  // namespace
}  // namespace itest
