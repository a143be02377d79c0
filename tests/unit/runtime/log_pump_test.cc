// The log pump on real descriptors: a child process's stdout and stderr
// pipes, a pseudo-terminal whose slave side closes, an idle prompt, a full
// disk. Every loop is bounded by a deadline.
#include "runtime/log_pump.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/log_reader.h"
#include "tests/testing/memfd.h"

namespace runtime {
namespace {

common::UniqueFd MemFd() {
  common::UniqueFd fd(testing_util::NewMemFd("log-pump-test"));
  EXPECT_TRUE(fd.valid()) << strerror(errno);
  return fd;
}

using testing_util::Contents;

struct Shown {
  std::string out, err;
};

Shown Show(int log_fd) {
  common::UniqueFd out = MemFd(), err = MemFd();
  EXPECT_TRUE(ShowLogs(log_fd, out.get(), err.get(), {}).ok());
  return {Contents(out.get()), Contents(err.get())};
}

// Runs loop rounds until done() or 10 s.
bool RunUntil(EventLoop& loop, const std::function<bool()>& done) {
  const int64_t deadline = EventLoop::NowMs() + 10000;
  while (!done()) {
    if (EventLoop::NowMs() > deadline) return false;
    if (!loop.RunOnce(100).ok()) return false;
  }
  return true;
}

struct Pipe {
  Pipe() {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    r = common::UniqueFd(p[0]);
    w = common::UniqueFd(p[1]);
  }
  common::UniqueFd r, w;
};

void WriteAll(int fd, absl::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

TEST(LogPump, DrainsAChildsStdoutAndStderrIntoTheLog) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  common::UniqueFd log = MemFd();
  CriLogWriter writer(common::UniqueFd(::dup(log.get())));
  Pipe out, err;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::dup2(out.w.get(), 1);
    ::dup2(err.w.get(), 2);
    WriteAll(1, "out one\nout ");
    WriteAll(2, "err one\n");
    ::usleep(20000);
    WriteAll(1, "two\n");
    WriteAll(1, std::string(100000, 'x'));  // more than a pipe holds, no '\n'
    WriteAll(1, "\nno newline at the end");
    ::_exit(0);
  }
  out.w.Reset();
  err.w.Reset();
  int ended = 0;
  std::string teed;
  LogPumpOptions o;
  o.on_eof = [&] { ++ended; };
  o.tee = [&](LogStream s, absl::string_view chunk) {
    if (s == LogStream::kStderr) teed.append(chunk.data(), chunk.size());
  };
  ASSERT_TRUE(StartLogPump(*loop, std::move(out.r), LogStream::kStdout, &writer, o).ok());
  ASSERT_TRUE(StartLogPump(*loop, std::move(err.r), LogStream::kStderr, &writer, o).ok());
  const bool done = RunUntil(*loop, [&] { return ended == 2; });
  if (!done) ::kill(child, SIGKILL);  // blocked on a pipe nobody drains
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(done) << "the pump did not see both ends";
  const Shown s = Show(log.get());
  EXPECT_EQ(s.out, "out one\nout two\n" + std::string(100000, 'x') + "\nno newline at the end");
  EXPECT_EQ(s.err, "err one\n");
  EXPECT_EQ(teed, "err one\n");
  EXPECT_EQ(writer.write_errors(), 0u);
}

// A -t container: its end shows as EIO on the pty master.
TEST(LogPump, APtyMasterReadingEioIsTheEnd) {
  common::UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) GTEST_SKIP() << "no pseudo-terminals here: " << strerror(errno);
  ASSERT_EQ(::grantpt(master.get()), 0);
  ASSERT_EQ(::unlockpt(master.get()), 0);
  common::UniqueFd slave(::open(::ptsname(master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(slave.valid()) << strerror(errno);
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  common::UniqueFd log = MemFd();
  CriLogWriter writer(common::UniqueFd(::dup(log.get())));
  bool ended = false;
  LogPumpOptions o;
  o.on_eof = [&] { ended = true; };
  ASSERT_TRUE(StartLogPump(*loop, std::move(master), LogStream::kStdout, &writer, o).ok());
  WriteAll(slave.get(), "hello\nprompt> ");
  slave.Reset();
  ASSERT_TRUE(RunUntil(*loop, [&] { return ended; }));
  // The terminal turned "\n" into "\r\n" (ONLCR); the '\r' is kept.
  EXPECT_EQ(Show(log.get()).out, "hello\r\nprompt> ");
}

TEST(LogPump, AnIdlePromptIsWrittenAsAPartialRecord) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  common::UniqueFd log = MemFd();
  CriLogWriter writer(common::UniqueFd(::dup(log.get())));
  Pipe p;
  LogPumpOptions o;
  o.idle_flush_ms = 50;
  bool ended = false;
  o.on_eof = [&] { ended = true; };
  ASSERT_TRUE(StartLogPump(*loop, std::move(p.r), LogStream::kStdout, &writer, o).ok());
  WriteAll(p.w.get(), "Password: ");
  ASSERT_TRUE(RunUntil(*loop, [&] { return Contents(log.get()).find(" P Password: \n") != std::string::npos; }))
      << Contents(log.get());
  EXPECT_EQ(writer.pending(LogStream::kStdout), 0u);
  WriteAll(p.w.get(), "secret\n");
  p.w.Reset();
  ASSERT_TRUE(RunUntil(*loop, [&] { return ended; }));
  EXPECT_EQ(Show(log.get()).out, "Password: secret\n");
}

TEST(LogPump, WithoutIdleFlushAPromptWaitsForItsLine) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  common::UniqueFd log = MemFd();
  CriLogWriter writer(common::UniqueFd(::dup(log.get())));
  Pipe p;
  ASSERT_TRUE(StartLogPump(*loop, std::move(p.r), LogStream::kStdout, &writer, {}).ok());
  WriteAll(p.w.get(), "Password: ");
  ASSERT_TRUE(RunUntil(*loop, [&] { return writer.pending(LogStream::kStdout) == 10; }));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(loop->RunOnce(50).ok());
  EXPECT_EQ(Contents(log.get()), "");
}

TEST(LogPump, AFullDiskIsReportedAndTheContainerStillDrained) {
  common::UniqueFd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  if (!full) GTEST_SKIP() << "no /dev/full: " << strerror(errno);
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  CriLogWriter writer(std::move(full));
  Pipe p;
  int errors = 0;
  bool ended = false;
  LogPumpOptions o;
  o.on_write_error = [&](const absl::Status& s) {
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
    ++errors;
  };
  o.on_eof = [&] { ended = true; };
  ASSERT_TRUE(StartLogPump(*loop, std::move(p.r), LogStream::kStderr, &writer, o).ok());
  // More than a pipe holds: the writer below would block if nobody drained.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    p.r.Reset();
    const std::string line(999, 'l');
    for (int i = 0; i < 300; ++i) WriteAll(p.w.get(), line + "\n");
    ::_exit(0);
  }
  p.w.Reset();
  const bool done = RunUntil(*loop, [&] { return ended; });
  if (!done) ::kill(child, SIGKILL);  // blocked on a pipe nobody drains
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(done);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_GE(errors, 1);
  EXPECT_EQ(writer.write_errors(), 300u);
}

}  // namespace
}  // namespace runtime
