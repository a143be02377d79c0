// Fuzzes the container log both ways. As a file (damaged, foreign, or
// written by a container that chose every content byte): ParseCriLine on
// each line, and ShowLogs with --tail from a memfd, checked against the
// slow model in tests/testing/cri_log_oracle.h. As container output: the
// bytes go through CriLogWriter in chunks on both streams, and ShowLogs
// must give each stream's bytes back exactly.
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "runtime/cri_log.h"
#include "runtime/log_reader.h"
#include "tests/testing/cri_log_oracle.h"
#include "tests/testing/memfd.h"

namespace {

int MemFd() {
  const int fd = testing_util::NewMemFd("cri-log-fuzz");
  if (fd < 0) __builtin_trap();
  return fd;
}

using testing_util::Contents;

void WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) __builtin_trap();
    done += static_cast<size_t>(n);
  }
}

struct Output {
  std::string out, err;
};

Output Show(int log_fd, const runtime::LogOptions& options, bool same_fd) {
  const int out = MemFd(), err = same_fd ? out : MemFd();
  const auto r = runtime::ShowLogs(log_fd, out, err, options);
  if (!r.ok()) __builtin_trap();  // memfds: nothing can fail
  Output o{Contents(out), same_fd ? std::string() : Contents(err)};
  ::close(out);
  if (!same_fd) ::close(err);
  return o;
}

void CheckLine(const std::string& line) {
  const auto r = runtime::ParseCriLine(line);
  if (!r) return;
  // Views inside the line; the content is its end and holds no '\n'.
  const char* b = line.data();
  const char* e = b + line.size();
  if (r->content.data() < b || r->content.data() + r->content.size() > e) __builtin_trap();
  if (r->timestamp.data() != b) __builtin_trap();
  if (r->content.find('\n') != absl::string_view::npos) __builtin_trap();
  // A parsed time within the years 0000-9999 prints and parses back to
  // itself (an offset may move one just outside; printing clamps those).
  if (r->time.seconds < -62167219200 || r->time.seconds > 253402300799) return;
  const std::string again = runtime::FormatCriTimestamp({static_cast<time_t>(r->time.seconds), r->time.nanos});
  const auto t = runtime::ParseCriTimestamp(again);
  if (!t || !(*t == r->time)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3 || size > 8192) return 0;
  const uint8_t tail = data[0];
  const uint8_t flags = data[1];
  const size_t block = 1 + data[2] % 97;
  const std::string body(reinterpret_cast<const char*>(data) + 3, size - 3);

  // 1. The bytes as a log file.
  size_t start = 0;
  while (start <= body.size()) {
    const size_t nl = body.find('\n', start);
    CheckLine(body.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  const int log = MemFd();
  WriteAll(log, body);
  runtime::LogOptions options;
  if (tail != 0xff) options.tail = tail % 32;
  options.timestamps = flags & 1;
  options.block_size = block;
  const bool same_fd = flags & 2;
  const Output got = Show(log, options, same_fd);
  const testing_util::OracleOutput want = testing_util::ShowLogsOracle(body, options.tail, options.timestamps, same_fd);
  if (got.out != want.out || got.err != want.err) __builtin_trap();
  ::close(log);

  // 2. The bytes as container output: cut into chunks at each 0x01 byte,
  // the stream switching at each 0x02, records of 1 to 16 bytes.
  const int log2 = MemFd();
  {
    runtime::CriLogWriter writer(common::UniqueFd(::dup(log2)), runtime::CriLogWriter::RealtimeClock,
                                 1 + (flags >> 4));
    std::string streams[2];
    size_t s = 0;
    size_t chunk_start = 0;
    for (size_t i = 0; i <= body.size(); ++i) {
      if (i < body.size() && body[i] != '\x01' && body[i] != '\x02') continue;
      const std::string chunk = body.substr(chunk_start, i - chunk_start);
      if (!writer.Append(s ? runtime::LogStream::kStderr : runtime::LogStream::kStdout, chunk).ok()) __builtin_trap();
      streams[s] += chunk;
      if (i < body.size() && body[i] == '\x02') s ^= 1;
      chunk_start = i + 1;
    }
    if (!writer.Flush(runtime::LogStream::kStdout).ok() || !writer.Flush(runtime::LogStream::kStderr).ok()) {
      __builtin_trap();
    }
    runtime::LogOptions plain;
    plain.block_size = block;
    const Output back = Show(log2, plain, /*same_fd=*/false);
    if (back.out != streams[0] || back.err != streams[1]) __builtin_trap();
  }
  ::close(log2);
  return 0;
}
