// minipod-monitor's CRI log writer: byte for byte what runtime/cri_log.h's
// CriLogWriter writes (format notes there), without the C++ runtime: fixed
// buffers, one write(2) per record on an O_APPEND descriptor, a failing
// write counted and the writer going on. Calls write(2) and, through the
// clock, clock_gettime(2).
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

namespace monitor {

inline constexpr size_t kCriMaxContent = 16 * 1024;
inline constexpr size_t kCriTimestampLen = 30;  // 2026-12-05T13:29:16.123456789Z

// "2026-12-05T13:29:16.123456789Z" into out (at least 31 bytes, NUL-ended);
// instants outside the years 0000-9999 clamped, as FormatCriTimestamp does.
void FormatCriTimestamp(const struct timespec& ts, char* out);

class CriWriter {
 public:
  using Clock = struct timespec (*)();
  static struct timespec Realtime();

  CriWriter(int fd, Clock clock = Realtime) : fd_(fd), clock_(clock) {}

  // Any bytes read from stream 0 (stdout) or 1 (stderr): an F record per
  // complete line, P records of kCriMaxContent bytes for longer ones, the
  // rest pending. One timestamp per call.
  void Append(int stream, const char* data, size_t n);
  // The stream's pending bytes as a P record.
  void Flush(int stream);

  uint64_t write_errors() const { return write_errors_; }
  size_t pending(int stream) const { return tail_len_[stream & 1]; }

 private:
  void WriteRecord(int stream, bool partial, const char* a, size_t na, const char* b, size_t nb);

  int fd_;
  Clock clock_;
  char timestamp_[kCriTimestampLen + 1] = {};
  char tail_[2][kCriMaxContent];
  size_t tail_len_[2] = {0, 0};
  // '\n' + header + content + '\n'
  char record_[1 + kCriTimestampLen + 10 + kCriMaxContent + 1];
  bool torn_ = false;
  uint64_t write_errors_ = 0;
};

}  // namespace monitor
