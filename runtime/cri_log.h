// The container log in the CRI format: the opening of the log file (by
// `run -d`, before minipod-monitor takes it over), a writer, and the parser
// of one record (`minipod logs`). The writer is the reference that
// minipod-monitor's own (monitor/cri_writer.cc) is tested against, and what
// the tests and the fuzz target write logs with; calls write(2),
// openat(2), fstat(2), fcntl(2) and clock_gettime(2).
//
// The format is the one the container runtimes write under /var/log/pods
// and that `kubectl logs`, fluent-bit's `cri` parser, Vector and Promtail
// read (Kubernetes' "kubelet-cri-logging" design, cri-api's LogTag*):
//
//   2026-12-05T13:29:16.123456789Z stdout F the content of the line\n
//   TIMESTAMP                      STREAM TAG CONTENT
//
// - one record per line, the four fields separated by one space each;
// - TIMESTAMP is RFC 3339 with nanoseconds. We always write UTC with nine
//   fraction digits (the kubelet's RFC3339NanoFixed). Readers must be
//   lenient: containerd writes Go's RFC3339Nano, which drops trailing zeros
//   of the fraction (even the whole fraction), and CRI-O's conmon writes
//   local time with a numeric offset (+01:00);
// - STREAM is `stdout` or `stderr`;
// - TAG is `F` (full: this record's content ends a line) or `P` (partial:
//   the line continues in the next record of the same stream). Further
//   tags may follow after a ':' (`F:x`); readers look at the first only;
// - CONTENT is the bytes of the line without its '\n': anything else,
//   including '\r', NUL and invalid UTF-8, comes through untouched (what a
//   container wrote is what `minipod logs` prints back).
//
// Line splitting follows containerd's CRI logger: a line longer than 16 KiB
// (its default max_container_log_line_size) is cut into P records of
// exactly 16 KiB of content and a final F record; a line of exactly 16 KiB
// is one F record. At the end of a stream an unterminated tail is written
// as a P record: containerd does so ("treated as a partial line"), and so
// does conmon for every unterminated chunk; the kubelet itself writes no
// logs, its reader prints a P record's content with no newline, so a
// container whose output does not end in '\n' reads back exactly so.
// The '\r' of a "\r\n" is kept (containerd drops it, conmon keeps it):
// bytes in, same bytes out.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace runtime {

enum class LogStream : uint8_t { kStdout = 0, kStderr = 1 };

// "stdout" or "stderr".
absl::string_view LogStreamName(LogStream stream);

// Content bytes of one record at most: longer lines are split into P records.
inline constexpr size_t kCriMaxContent = 16 * 1024;

// TIMESTAMP STREAM TAG and their three spaces fit in this many bytes (the
// longest timestamp is 35 bytes, with an offset; a tag has room for a few
// extra flags). A line whose header is not complete within it is malformed:
// readers never need more of a line than this to classify it.
inline constexpr size_t kCriMaxHeader = 64;

// An instant, seconds and nanoseconds since the epoch (UTC). Seconds and not
// one int64 of nanoseconds: RFC 3339 allows the years 0000-9999, far more
// than ±292 years of nanoseconds.
struct CriTime {
  int64_t seconds = 0;
  int32_t nanos = 0;
  friend bool operator==(const CriTime&, const CriTime&) = default;
  friend auto operator<=>(const CriTime&, const CriTime&) = default;
};

// "2026-12-05T13:29:16.123456789Z": always 30 bytes, UTC, nine digits.
// Instants outside the years 0000-9999 are clamped to those years.
std::string FormatCriTimestamp(const struct timespec& ts);

// Parses an RFC 3339 timestamp: YYYY-MM-DDTHH:MM:SS, an optional fraction of
// 1 to 9 digits, then Z or +HH:MM/-HH:MM. Fields out of range (month 13,
// February 30th, hour 24, second 60) are rejected, as Go's time.Parse does.
std::optional<CriTime> ParseCriTimestamp(absl::string_view text);

// The three header fields of a record; content starts at content_offset.
struct CriHeader {
  absl::string_view timestamp;  // as written
  CriTime time;
  LogStream stream = LogStream::kStdout;
  bool partial = false;
  size_t content_offset = 0;
};

enum class CriHeaderResult { kOk, kNeedMore, kMalformed };

// Classifies the beginning of a line (prefix: the line's first bytes, no
// '\n' in them). Looks at kCriMaxHeader bytes at most. kNeedMore: the header
// is not complete yet and more bytes of the line may follow (complete is
// false and the prefix is shorter than kCriMaxHeader); when the whole line is
// in hand pass complete=true and the answer is kOk or kMalformed.
CriHeaderResult ParseCriHeader(absl::string_view prefix, bool complete, CriHeader* header);

// One parsed record; the views point into the parsed line.
struct CriRecord {
  absl::string_view timestamp;  // as written
  CriTime time;
  LogStream stream = LogStream::kStdout;
  bool partial = false;  // tag P: the line continues in the next record
  absl::string_view content;
};

// Parses one line of a CRI log, with or without its '\n'. Bounds-checked: a
// full disk or a crash may leave a line cut anywhere, and the content is
// whatever the container wrote. nullopt when the line is not a record (a
// '\n' inside it included).
std::optional<CriRecord> ParseCriLine(absl::string_view line);

// Turns what a container writes to its stdout and stderr into CRI records
// appended to a log file. Single-threaded (the monitor's event loop). Each
// record goes out in one write(2) on an O_APPEND descriptor, so records of
// the two streams, or of another writer, never mix inside a line.
// A write that fails (ENOSPC, EIO, EPIPE on a pipe) drops that record, is
// counted and returned, and the writer goes on: a full disk must not stop
// the monitor from draining the container's pipes (the container would
// block on a full pipe). A record cut by a failing write is ended with a
// '\n' in front of the next record that goes out, so one torn line never
// swallows the next.
// Opens name, one path component, in dir_fd with flags (plus O_CLOEXEC,
// O_NOFOLLOW, O_NOCTTY; created 0600 with O_CREAT), refusing anything but a
// regular file: opened with O_NONBLOCK, so a planted FIFO cannot block,
// checked with fstat, then O_NONBLOCK cleared.
absl::StatusOr<common::UniqueFd> OpenLogFileAt(int dir_fd, absl::string_view name, int flags);

class CriLogWriter {
 public:
  // The wall clock of a record's timestamp (CLOCK_REALTIME unless replaced).
  using Clock = std::function<struct timespec()>;
  static struct timespec RealtimeClock();

  // Opens (creating, mode 0600) name in dir_fd for appending: O_WRONLY |
  // O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, through
  // openat(2). name is one path component (no '/', not "." or ".."); a
  // symbolic link, FIFO, device or any other non-regular file there is
  // refused (opened with O_NONBLOCK, so a planted FIFO cannot block us,
  // then checked with fstat).
  static absl::StatusOr<common::UniqueFd> OpenLogFile(int dir_fd, absl::string_view name);

  explicit CriLogWriter(common::UniqueFd fd, Clock clock = RealtimeClock,
                        size_t max_content = kCriMaxContent);
  CriLogWriter(CriLogWriter&&) noexcept = default;
  CriLogWriter& operator=(CriLogWriter&&) noexcept = default;

  // Takes what one read(2) of the stream's pipe returned, any bytes: one F
  // record per complete line; the unfinished rest stays pending for the
  // next call, and is cut into P records of max_content bytes while it is
  // longer than that. All records of one call share one timestamp.
  // Returns the first write error of this call; the call still handled
  // every byte.
  absl::Status Append(LogStream stream, const char* data, size_t n);
  absl::Status Append(LogStream stream, absl::string_view data) {
    return Append(stream, data.data(), data.size());
  }

  // Writes the stream's pending bytes, if any, as a P record. Call it at
  // the stream's EOF; the monitor may also call it when a prompt has sat
  // unterminated for a while (a P record never breaks a line in two).
  absl::Status Flush(LogStream stream);

  size_t pending(LogStream stream) const { return pending_[Index(stream)].size(); }
  int fd() const { return fd_.get(); }

  // Records that failed to be written, their bytes, and the last error.
  uint64_t write_errors() const { return write_errors_; }
  uint64_t dropped_bytes() const { return dropped_bytes_; }
  const absl::Status& last_error() const { return last_error_; }

 private:
  static size_t Index(LogStream s) { return static_cast<size_t>(s); }
  // One record: header, the two content pieces, '\n'; one write(2).
  absl::Status WriteRecord(LogStream stream, bool partial, absl::string_view a, absl::string_view b);

  common::UniqueFd fd_;
  Clock clock_;
  size_t max_content_;
  std::string pending_[2];
  std::string timestamp_;  // of the current Append/Flush call
  std::string record_;     // scratch, reused
  bool torn_ = false;      // the last record was cut by a failing write
  uint64_t write_errors_ = 0;
  uint64_t dropped_bytes_ = 0;
  absl::Status last_error_;
};

}  // namespace runtime
