// minipod-monitor's CRI writer against runtime::CriLogWriter: the same
// bytes in, the same clock, the same log file out, byte for byte.
#include "monitor/cri_writer.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/cri_log.h"

namespace {

struct timespec Fixed() { return {1764941356, 123456789}; }

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  off_t at = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    at += n;
  }
  return out;
}

// Each chunk goes to (stream, bytes); a stream of 2 means Flush(both).
struct Chunk {
  int stream;
  std::string bytes;
};

void ExpectSameLog(const std::vector<Chunk>& chunks) {
  const int a = ::memfd_create("cpp", MFD_CLOEXEC), b = ::memfd_create("lean", MFD_CLOEXEC);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  {
    runtime::CriLogWriter cpp(common::UniqueFd(::dup(a)), [] { return Fixed(); });
    static monitor::CriWriter lean(-1);
    lean = monitor::CriWriter(b, Fixed);
    for (const Chunk& c : chunks) {
      if (c.stream == 2) {
        (void)cpp.Flush(runtime::LogStream::kStdout);
        (void)cpp.Flush(runtime::LogStream::kStderr);
        lean.Flush(0);
        lean.Flush(1);
        continue;
      }
      (void)cpp.Append(c.stream == 1 ? runtime::LogStream::kStderr : runtime::LogStream::kStdout, c.bytes);
      lean.Append(c.stream, c.bytes.data(), c.bytes.size());
    }
  }
  const std::string want = ReadAll(a), got = ReadAll(b);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "first difference at byte "
                           << std::mismatch(got.begin(), got.end(), want.begin(), want.end()).first - got.begin();
  ::close(a);
  ::close(b);
}

TEST(MonitorCriWriter, LinesAndPartials) {
  ExpectSameLog({{0, "hello\n"}, {1, "err\n"}, {0, "no newline"}, {0, " yet\nnext\n\n"}, {1, "tail"}, {2, ""}});
}

TEST(MonitorCriWriter, LongLinesSplitAt16KiB) {
  const std::string exact(monitor::kCriMaxContent, 'x');
  const std::string longer(3 * monitor::kCriMaxContent + 17, 'y');
  ExpectSameLog({{0, exact + "\n"}, {0, longer}, {0, "\n"}, {1, longer + "\n" + exact}, {2, ""}});
}

TEST(MonitorCriWriter, ArbitraryBytesAndChunkings) {
  std::string bytes;
  for (int i = 0; i < 70000; ++i) bytes.push_back(static_cast<char>((i * 7919) % 251 == 0 ? '\n' : i % 256));
  for (size_t step : {1u, 7u, 4096u, 16384u, 65536u}) {
    std::vector<Chunk> chunks;
    for (size_t at = 0; at < bytes.size(); at += step) chunks.push_back({static_cast<int>(at / step % 2), bytes.substr(at, step)});
    chunks.push_back({2, ""});
    ExpectSameLog(chunks);
  }
}

TEST(MonitorCriWriter, TimestampFormatMatches) {
  for (const struct timespec ts : {timespec{0, 0}, timespec{1764941356, 5}, timespec{-62167219201, 3},
                                   timespec{253402300800, 1}, timespec{951782400, 999999999}}) {
    char lean[monitor::kCriTimestampLen + 1];
    monitor::FormatCriTimestamp(ts, lean);
    EXPECT_EQ(std::string(lean), runtime::FormatCriTimestamp(ts));
  }
}

TEST(MonitorCriWriter, FailingWriteIsCountedAndTheWriterGoesOn) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ::close(p[0]);
  ::signal(SIGPIPE, SIG_IGN);
  static monitor::CriWriter lean(-1);
  lean = monitor::CriWriter(p[1], Fixed);
  lean.Append(0, "a\nb\n", 4);
  EXPECT_EQ(lean.write_errors(), 2u);
  ::close(p[1]);
}

}  // namespace
