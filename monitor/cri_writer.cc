// The CRI writer of minipod-monitor (see cri_writer.h).
#include "monitor/cri_writer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

namespace monitor {
namespace {

constexpr int64_t kFirstSecond = -62167219200;  // 0000-01-01T00:00:00Z
constexpr int64_t kLastSecond = 253402300799;   // 9999-12-31T23:59:59Z

}  // namespace

void FormatCriTimestamp(const struct timespec& ts, char* out) {
  int64_t seconds = ts.tv_sec;
  long nanos = ts.tv_nsec;
  if (nanos < 0 || nanos > 999999999) nanos = 0;
  if (seconds < kFirstSecond) {
    seconds = kFirstSecond;
    nanos = 0;
  }
  if (seconds > kLastSecond) {
    seconds = kLastSecond;
    nanos = 999999999;
  }
  const time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  // Formatted in a buffer with room for any int, then cut to the fixed
  // width (the clamping above keeps every field in range).
  char buf[96];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
  memcpy(out, buf, kCriTimestampLen);
  out[kCriTimestampLen] = '\0';
}

struct timespec CriWriter::Realtime() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

void CriWriter::WriteRecord(int stream, bool partial, const char* a, size_t na, const char* b, size_t nb) {
  size_t len = 0;
  if (torn_) record_[len++] = '\n';
  const size_t prefix = len;
  const size_t ts_len = strlen(timestamp_);
  memcpy(record_ + len, timestamp_, ts_len);
  len += ts_len;
  const char* mid = stream == 1 ? (partial ? " stderr P " : " stderr F ") : (partial ? " stdout P " : " stdout F ");
  memcpy(record_ + len, mid, 10);
  len += 10;
  // na + nb <= kCriMaxContent (Append's loop), so this fits record_.
  if (na + nb > kCriMaxContent) nb = kCriMaxContent - (na < kCriMaxContent ? na : kCriMaxContent);
  if (na > kCriMaxContent) na = kCriMaxContent;
  if (na != 0) memcpy(record_ + len, a, na);
  len += na;
  if (nb != 0) memcpy(record_ + len, b, nb);
  len += nb;
  record_[len++] = '\n';

  size_t done = 0;
  while (done < len) {
    const ssize_t r = ::write(fd_, record_ + done, len - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (r == 0) break;  // no progress and no errno: a full device
    done += static_cast<size_t>(r);
  }
  if (done == len) {
    torn_ = false;
    return;
  }
  // Part of this record reached the file: its line is ended before the next.
  if (done > prefix) {
    torn_ = true;
  } else if (done == prefix && prefix == 1) {
    torn_ = false;
  }
  ++write_errors_;
}

void CriWriter::Append(int stream, const char* data, size_t n) {
  if (n == 0) return;
  stream &= 1;
  FormatCriTimestamp(clock_(), timestamp_);
  char* tail = tail_[stream];
  size_t& tail_len = tail_len_[stream];
  while (n != 0) {
    const char* nl = static_cast<const char*>(memchr(data, '\n', n));
    const bool ends_line = nl != nullptr;
    const char* piece = data;
    size_t piece_len = ends_line ? static_cast<size_t>(nl - data) : n;
    const size_t used = ends_line ? piece_len + 1 : piece_len;
    data += used;
    n -= used;
    // tail + piece is the line so far; tail never holds more than
    // kCriMaxContent bytes, so a P record takes all of it.
    while (tail_len + piece_len > kCriMaxContent) {
      const size_t from_piece = kCriMaxContent - tail_len;
      WriteRecord(stream, /*partial=*/true, tail, tail_len, piece, from_piece);
      tail_len = 0;
      piece += from_piece;
      piece_len -= from_piece;
    }
    if (ends_line) {
      WriteRecord(stream, /*partial=*/false, tail, tail_len, piece, piece_len);
      tail_len = 0;
    } else {
      memcpy(tail + tail_len, piece, piece_len);
      tail_len += piece_len;
    }
  }
}

void CriWriter::Flush(int stream) {
  stream &= 1;
  if (tail_len_[stream] == 0) return;
  FormatCriTimestamp(clock_(), timestamp_);
  WriteRecord(stream, /*partial=*/true, tail_[stream], tail_len_[stream], nullptr, 0);
  tail_len_[stream] = 0;
}

}  // namespace monitor
