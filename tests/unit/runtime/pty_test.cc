// runtime/pty.h without privileges: the byte queue, window sizes and raw
// mode on a real pty pair from /dev/ptmx, and the relay between pipes and
// a real pty master (buffer bounds, back-pressure, EOF as VEOF, EIO as the
// end of output). Every wait is bounded.
#include "runtime/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "absl/cleanup/cleanup.h"

namespace runtime {
namespace {

using common::UniqueFd;

struct Pipe {
  UniqueFd read, write;
};
Pipe MakePipe() {
  int p[2];
  EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
  return {UniqueFd(p[0]), UniqueFd(p[1])};
}

// A pty pair, or a skip when this host has no usable /dev/ptmx.
#define OPEN_PTY_OR_SKIP(pair)                                                        \
  absl::StatusOr<PtyPair> pair##_or = OpenPty();                                      \
  if (!pair##_or.ok()) GTEST_SKIP() << "no pseudo-terminal: " << pair##_or.status(); \
  PtyPair pair = std::move(*pair##_or)

// Runs the loop until done() or timeout_ms.
template <typename Done>
bool RunUntil(EventLoop& loop, Done done, int timeout_ms = 5000) {
  const int64_t deadline = EventLoop::NowMs() + timeout_ms;
  while (!done()) {
    if (EventLoop::NowMs() > deadline) return false;
    EXPECT_TRUE(loop.RunOnce(20).ok());
  }
  return true;
}

// Reads what fd has within timeout_ms (returns early once `want` bytes
// came, or at EOF/EIO).
std::string ReadSome(int fd, size_t want, int timeout_ms = 5000) {
  std::string out;
  const int64_t deadline = EventLoop::NowMs() + timeout_ms;
  while (out.size() < want) {
    const int64_t left = deadline - EventLoop::NowMs();
    if (left <= 0) break;
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void MakeRaw(int fd) {
  struct termios t;
  ASSERT_EQ(::tcgetattr(fd, &t), 0);
  ::cfmakeraw(&t);
  ASSERT_EQ(::tcsetattr(fd, TCSANOW, &t), 0);
}

long MinorFaults() {
  struct rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// A monitor holds queues of a MiB per container that most never use: an
// idle queue costs no memory, and a used one only what it holds.
TEST(ByteQueueTest, AnIdleQueueTouchesNoMemory) {
  // meson test sets MALLOC_PERTURB_, with which malloc fills every block
  // it hands out; off for this test, back as it was after.
  ::mallopt(M_PERTURB, 0);
  const char* perturb = ::getenv("MALLOC_PERTURB_");
  absl::Cleanup restore = [perturb] {
    if (perturb != nullptr) ::mallopt(M_PERTURB, ::atoi(perturb));
  };
  constexpr size_t kCapacity = 64 << 20;  // 16384 pages
  const long before = MinorFaults();
  ByteQueue q(kCapacity);
  EXPECT_EQ(q.capacity(), kCapacity);
  EXPECT_EQ(q.space(), kCapacity);
  EXPECT_TRUE(q.Peek().empty());
  EXPECT_LT(MinorFaults() - before, 64) << "the buffer was filled in";
  EXPECT_EQ(q.Append("abc"), 3u);
  EXPECT_EQ(q.Peek(), "abc");
  EXPECT_LT(MinorFaults() - before, 64) << "the first bytes touched the whole buffer";
}

TEST(ByteQueueTest, BoundedFifo) {
  ByteQueue q(8);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.Append("abcdef"), 6u);
  EXPECT_EQ(q.Append("ghijk"), 2u);  // only what fits
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.Peek(), "abcdefgh");
  q.Consume(5);
  EXPECT_EQ(q.space(), 5u);
  EXPECT_EQ(q.Append("XYZ"), 3u);  // moves the rest to the front
  EXPECT_EQ(q.Peek(), "fghXYZ");
  q.Consume(100);
  EXPECT_TRUE(q.empty());
}

TEST(ByteQueueTest, ReadAndWriteThroughAPipe) {
  Pipe a = MakePipe(), b = MakePipe();
  ASSERT_EQ(::write(a.write.get(), "0123456789", 10), 10);
  ByteQueue q(4);
  EXPECT_EQ(q.ReadFrom(a.read.get()), 4);
  EXPECT_EQ(q.ReadFrom(a.read.get()), -1);  // full
  EXPECT_EQ(errno, ENOBUFS);
  EXPECT_EQ(q.WriteTo(b.write.get()), 4);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(ReadSome(b.read.get(), 4), "0123");
}

TEST(PtyTest, PairIsConnectedAndNotOurTerminal) {
  OPEN_PTY_OR_SKIP(pty);
  EXPECT_TRUE(::isatty(pty.slave.get()));
  EXPECT_TRUE(::fcntl(pty.master.get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(::fcntl(pty.slave.get(), F_GETFD) & FD_CLOEXEC);
  MakeRaw(pty.slave.get());
  ASSERT_EQ(::write(pty.slave.get(), "out", 3), 3);
  EXPECT_EQ(ReadSome(pty.master.get(), 3), "out");
  ASSERT_EQ(::write(pty.master.get(), "in", 2), 2);
  EXPECT_EQ(ReadSome(pty.slave.get(), 2), "in");
}

TEST(PtyTest, MissingPtmxNamesIt) {
  absl::StatusOr<PtyPair> p = OpenPty("/nonexistent/ptmx");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(std::string(p.status().message()).find("/nonexistent/ptmx"), std::string::npos);
}

TEST(PtyTest, WindowSizeSetOnMasterIsSeenOnSlave) {
  OPEN_PTY_OR_SKIP(pty);
  struct winsize ws{};
  ws.ws_row = 33;
  ws.ws_col = 111;
  ASSERT_TRUE(SetWindowSize(pty.master.get(), ws).ok());
  absl::StatusOr<struct winsize> got = GetWindowSize(pty.slave.get());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->ws_row, 33);
  EXPECT_EQ(got->ws_col, 111);
  Pipe p = MakePipe();
  EXPECT_FALSE(GetWindowSize(p.read.get()).ok());  // not a terminal
  EXPECT_EQ(FirstTerminal({p.read.get(), pty.slave.get()}), pty.slave.get());
  EXPECT_EQ(FirstTerminal({p.read.get(), -1}), -1);
}

TEST(PtyTest, RawModeIsRestoredOnEveryWayOut) {
  OPEN_PTY_OR_SKIP(pty);
  struct termios before, during, after;
  ASSERT_EQ(::tcgetattr(pty.slave.get(), &before), 0);
  ASSERT_NE(before.c_lflag & ICANON, 0u);
  {
    absl::StatusOr<ScopedRawMode> raw = ScopedRawMode::Enter(pty.slave.get());
    ASSERT_TRUE(raw.ok()) << raw.status();
    ScopedRawMode moved = std::move(*raw);  // the moved-from one restores nothing
    raw->Restore();
    ASSERT_EQ(::tcgetattr(pty.slave.get(), &during), 0);
    EXPECT_EQ(during.c_lflag & (ICANON | ECHO | ISIG), 0u);
    EXPECT_EQ(during.c_oflag & OPOST, 0u);
  }  // destructor
  ASSERT_EQ(::tcgetattr(pty.slave.get(), &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  EXPECT_EQ(after.c_iflag, before.c_iflag);
  EXPECT_EQ(after.c_oflag, before.c_oflag);
  EXPECT_EQ(after.c_cflag, before.c_cflag);
  EXPECT_EQ(memcmp(after.c_cc, before.c_cc, sizeof after.c_cc), 0);

  Pipe p = MakePipe();
  EXPECT_FALSE(ScopedRawMode::Enter(p.read.get()).ok());  // not a terminal: nothing to undo
}

class RelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<PtyPair> pty = OpenPty();
    if (!pty.ok()) GTEST_SKIP() << "no pseudo-terminal: " << pty.status();
    pty_ = std::move(*pty);
    absl::StatusOr<EventLoop> loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_.emplace(std::move(*loop));
    in_ = MakePipe();
    out_ = MakePipe();
  }
  std::unique_ptr<TerminalRelay> Start(size_t buffer = 64 * 1024, bool veof = true) {
    TerminalRelay::Options o;
    o.in_fd = in_.read.get();
    o.out_fd = out_.write.get();
    o.master_fd = pty_.master.get();
    o.buffer_bytes = buffer;
    o.eof_as_veof = veof;
    absl::StatusOr<std::unique_ptr<TerminalRelay>> r = TerminalRelay::Start(&*loop_, o);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : nullptr;
  }

  PtyPair pty_;
  std::optional<EventLoop> loop_;
  Pipe in_, out_;
};

TEST_F(RelayTest, BothWaysAndEioEndsOutput) {
  MakeRaw(pty_.slave.get());
  std::unique_ptr<TerminalRelay> relay = Start();
  ASSERT_NE(relay, nullptr);
  bool ended = false;
  relay->set_on_output_end([&] { ended = true; });
  ASSERT_EQ(::write(in_.write.get(), "typed", 5), 5);
  ASSERT_TRUE(RunUntil(*loop_, [&] { return relay->bytes_in() == 5 && relay->queued_to_master() == 0; }));
  EXPECT_EQ(ReadSome(pty_.slave.get(), 5), "typed");
  ASSERT_EQ(::write(pty_.slave.get(), "shown", 5), 5);
  ASSERT_TRUE(RunUntil(*loop_, [&] { return relay->bytes_out() == 5; }));
  EXPECT_EQ(ReadSome(out_.read.get(), 5), "shown");
  // The last output, then every slave closed: read, then EIO.
  ASSERT_EQ(::write(pty_.slave.get(), "bye", 3), 3);
  pty_.slave.Reset();
  ASSERT_TRUE(RunUntil(*loop_, [&] { return relay->output_ended(); }));
  EXPECT_TRUE(ended);
  EXPECT_EQ(ReadSome(out_.read.get(), 3), "bye");
  EXPECT_TRUE(relay->error().ok()) << relay->error();
}

TEST_F(RelayTest, FlagsComeBackAfterTheRelay) {
  const int before = ::fcntl(in_.read.get(), F_GETFL);
  {
    std::unique_ptr<TerminalRelay> relay = Start();
    ASSERT_NE(relay, nullptr);
    EXPECT_TRUE(::fcntl(in_.read.get(), F_GETFL) & O_NONBLOCK);
  }
  EXPECT_EQ(::fcntl(in_.read.get(), F_GETFL), before);
  EXPECT_FALSE(loop_->Watching(in_.read.get()));
  EXPECT_FALSE(loop_->Watching(pty_.master.get()));
}

TEST_F(RelayTest, SlowReaderHoldsTheWriterBackWithinTheBuffer) {
  MakeRaw(pty_.slave.get());
  constexpr size_t kBuffer = 4096;
  ASSERT_GT(::fcntl(out_.write.get(), F_SETPIPE_SZ, 4096), 0);
  std::unique_ptr<TerminalRelay> relay = Start(kBuffer);
  ASSERT_NE(relay, nullptr);
  constexpr size_t kTotal = 1 << 20;
  std::string data(kTotal, '\0');
  for (size_t i = 0; i < kTotal; ++i) data[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  // The command's side writes 1 MiB; nobody reads our output yet.
  std::thread writer([&] {
    size_t done = 0;
    while (done < kTotal) {
      const ssize_t n = ::write(pty_.slave.get(), data.data() + done, kTotal - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
  });
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(loop_->RunOnce(10).ok());
    EXPECT_LE(relay->queued_to_out(), kBuffer);
  }
  // Held back: the pipe and our buffer are full, the rest waits in the pty.
  EXPECT_EQ(relay->queued_to_out(), kBuffer);
  EXPECT_LT(relay->bytes_out(), kTotal / 2);
  // Now read it all, in order.
  std::string got;
  const int64_t deadline = EventLoop::NowMs() + 20000;
  while (got.size() < kTotal && EventLoop::NowMs() < deadline) {
    ASSERT_TRUE(loop_->RunOnce(5).ok());
    EXPECT_LE(relay->queued_to_out(), kBuffer);
    char buf[65536];
    const ssize_t n = ::read(out_.read.get(), buf, sizeof buf);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
    if (n == 0) break;
    if (n < 0) {
      ASSERT_EQ(errno, EAGAIN);  // the relay made it non-blocking (same pipe)
    }
  }
  pty_.slave.Reset();  // unblocks a writer stuck on a failure above
  writer.join();
  ASSERT_EQ(got.size(), kTotal);
  EXPECT_TRUE(got == data);
}

TEST_F(RelayTest, EndOfInputIsVeofInCanonicalMode) {
  // The default line discipline: canonical, echo on.
  std::unique_ptr<TerminalRelay> relay = Start();
  ASSERT_NE(relay, nullptr);
  ASSERT_EQ(::write(in_.write.get(), "partial", 7), 7);
  in_.write.Reset();
  ASSERT_TRUE(RunUntil(*loop_, [&] { return relay->input_ended() && relay->queued_to_master() == 0; }));
  // The first VEOF hands over the partial line, the second is the EOF.
  ASSERT_EQ(::fcntl(pty_.slave.get(), F_SETFL, O_NONBLOCK | O_RDWR), 0);
  char buf[64];
  EXPECT_EQ(::read(pty_.slave.get(), buf, sizeof buf), 7);
  EXPECT_EQ(::read(pty_.slave.get(), buf, sizeof buf), 0);
  EXPECT_EQ(::read(pty_.slave.get(), buf, sizeof buf), -1);  // and nothing more
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(RelayTest, AfterAWholeLineOneVeofIsTheEof) {
  std::unique_ptr<TerminalRelay> relay = Start();
  ASSERT_NE(relay, nullptr);
  ASSERT_EQ(::write(in_.write.get(), "line\n", 5), 5);
  in_.write.Reset();
  ASSERT_TRUE(RunUntil(*loop_, [&] { return relay->input_ended() && relay->queued_to_master() == 0; }));
  ASSERT_EQ(::fcntl(pty_.slave.get(), F_SETFL, O_NONBLOCK | O_RDWR), 0);
  char buf[64];
  EXPECT_EQ(::read(pty_.slave.get(), buf, sizeof buf), 5);
  EXPECT_EQ(::read(pty_.slave.get(), buf, sizeof buf), 0);
  EXPECT_EQ(::read(pty_.slave.get(), buf, sizeof buf), -1);  // one EOF, not two
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(RelayTest, NoVeofInRawModeOrWhenAskedNot) {
  for (const bool raw : {true, false}) {
    SCOPED_TRACE(raw ? "raw terminal" : "eof_as_veof=false");
    SetUp();
    if (raw) MakeRaw(pty_.slave.get());
    std::unique_ptr<TerminalRelay> relay = Start(64 * 1024, /*veof=*/raw);
    ASSERT_NE(relay, nullptr);
    ASSERT_EQ(::write(in_.write.get(), "x\n", 2), 2);
    in_.write.Reset();
    ASSERT_TRUE(RunUntil(*loop_, [&] { return relay->input_ended() && relay->queued_to_master() == 0; }));
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(loop_->RunOnce(5).ok());
    ASSERT_EQ(::fcntl(pty_.slave.get(), F_SETFL, O_NONBLOCK | O_RDWR), 0);
    char buf[64];
    EXPECT_EQ(::read(pty_.slave.get(), buf, sizeof buf), 2);
    EXPECT_EQ(::read(pty_.slave.get(), buf, sizeof buf), -1);  // no ^D, no EOF
    EXPECT_EQ(errno, EAGAIN);
    relay.reset();
  }
}

TEST_F(RelayTest, OutputReaderGoneStillDrainsTheTerminal) {
  MakeRaw(pty_.slave.get());
  std::unique_ptr<TerminalRelay> relay = Start(1024);
  ASSERT_NE(relay, nullptr);
  out_.read.Reset();  // EPIPE from now on (SIGPIPE ignored below)
  struct sigaction ign{}, old{};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old);
  const std::string chunk(200 * 1024, 'z');
  std::atomic<bool> written{false};
  std::thread writer([&] {
    (void)!::write(pty_.slave.get(), chunk.data(), chunk.size());
    written = true;
  });
  // The command is never blocked by a reader that left: all of it is read.
  const bool drained = RunUntil(*loop_, [&] { return written && !relay->error().ok(); }, 20000);
  if (!drained) pty_.slave.Reset();  // unblocks the writer
  writer.join();
  ::sigaction(SIGPIPE, &old, nullptr);
  ASSERT_TRUE(drained);
  pty_.slave.Reset();
  EXPECT_TRUE(RunUntil(*loop_, [&] { return relay->output_ended(); }));
  EXPECT_NE(std::string(relay->error().message()).find("write(output fd"), std::string::npos) << relay->error();
}

TEST_F(RelayTest, OneSocketBothWays) {
  // As an attach client's connection: one descriptor for input and output.
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd ours(sv[0]), client(sv[1]);
  MakeRaw(pty_.slave.get());
  TerminalRelay::Options o;
  o.in_fd = ours.get();
  o.out_fd = ours.get();
  o.master_fd = pty_.master.get();
  absl::StatusOr<std::unique_ptr<TerminalRelay>> r = TerminalRelay::Start(&*loop_, o);
  ASSERT_TRUE(r.ok()) << r.status();
  TerminalRelay& relay = **r;
  ASSERT_EQ(::write(client.get(), "ls\n", 3), 3);
  ASSERT_EQ(::write(pty_.slave.get(), "file\n", 5), 5);
  ASSERT_TRUE(RunUntil(*loop_, [&] { return relay.bytes_in() == 3 && relay.bytes_out() == 5; }));
  EXPECT_EQ(ReadSome(pty_.slave.get(), 3), "ls\n");
  EXPECT_EQ(ReadSome(client.get(), 5), "file\n");
  // The client leaves: input ends; output still goes on being read.
  ::shutdown(client.get(), SHUT_WR);
  ASSERT_TRUE(RunUntil(*loop_, [&] { return relay.input_ended(); }));
  pty_.slave.Reset();
  EXPECT_TRUE(RunUntil(*loop_, [&] { return relay.output_ended(); }));
}

TEST_F(RelayTest, NoInputFdMeansNoInput) {
  TerminalRelay::Options o;
  o.out_fd = out_.write.get();
  o.master_fd = pty_.master.get();
  absl::StatusOr<std::unique_ptr<TerminalRelay>> r = TerminalRelay::Start(&*loop_, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE((*r)->input_ended());
  EXPECT_FALSE(loop_->Watching(in_.read.get()));
  o.master_fd = -1;
  EXPECT_FALSE(TerminalRelay::Start(&*loop_, o).ok());
}

}  // namespace
}  // namespace runtime
