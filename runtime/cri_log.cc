// The CRI log writer and the record parser (format notes in cri_log.h).
// The writer runs in the monitor: every syscall failure is counted and
// returned, never fatal. The parser reads bytes a container chose and a
// crash may have cut: every index is checked against the view's size.
#include "runtime/cri_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"

namespace runtime {
namespace {

// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds since the epoch:
// the years RFC 3339 can write with its four digits.
constexpr int64_t kFirstSecond = -62167219200;
constexpr int64_t kLastSecond = 253402300799;

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. Counts
// in 400-year eras (146097 days each) of years starting on March 1st, so
// the leap day is the last day of its year and needs no special case.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  if (m <= 2) --y;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t year_of_era = y - era * 400;                           // [0, 399]
  const int64_t day_of_year = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;  // 719468: days from 0000-03-01 to 1970-01-01
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly n digits at text[*pos...]; false when any is not a digit or
// the text is too short.
bool Digits(absl::string_view text, size_t* pos, size_t n, int64_t* value) {
  if (*pos > text.size() || text.size() - *pos < n) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *value = v;
  return true;
}

bool Expect(absl::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

absl::string_view LogStreamName(LogStream stream) {
  return stream == LogStream::kStderr ? "stderr" : "stdout";
}

std::string FormatCriTimestamp(const struct timespec& ts) {
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
  char buf[48];
  const int n = snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

std::optional<CriTime> ParseCriTimestamp(absl::string_view text) {
  size_t pos = 0;
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(text, &pos, 4, &year) || !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &month) ||
      !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &day) || !Expect(text, &pos, 'T') ||
      !Digits(text, &pos, 2, &hour) || !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &minute) ||
      !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, static_cast<int>(month)) || hour > 23 ||
      minute > 59 || second > 59) {
    return std::nullopt;
  }
  int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (++digits > 9) return std::nullopt;
      nanos = nanos * 10 + (text[pos] - '0');
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset = 0;
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const bool east = text[pos] == '+';
    ++pos;
    int64_t oh = 0, om = 0;
    if (!Digits(text, &pos, 2, &oh) || !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (east ? 1 : -1);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  CriTime t;
  t.seconds = DaysFromCivil(year, static_cast<int>(month), static_cast<int>(day)) * 86400 + hour * 3600 +
              minute * 60 + second - offset;
  t.nanos = static_cast<int32_t>(nanos);
  return t;
}

CriHeaderResult ParseCriHeader(absl::string_view prefix, bool complete, CriHeader* header) {
  const absl::string_view w = prefix.substr(0, kCriMaxHeader);
  // More bytes can still complete the header only while the window is short.
  const CriHeaderResult short_result =
      !complete && prefix.size() < kCriMaxHeader ? CriHeaderResult::kNeedMore : CriHeaderResult::kMalformed;

  const size_t sp1 = w.find(' ');
  if (sp1 == absl::string_view::npos) return short_result;
  const absl::string_view timestamp = w.substr(0, sp1);
  const std::optional<CriTime> time = ParseCriTimestamp(timestamp);
  if (!time) return CriHeaderResult::kMalformed;

  const size_t sp2 = w.find(' ', sp1 + 1);
  if (sp2 == absl::string_view::npos) return short_result;
  const absl::string_view stream = w.substr(sp1 + 1, sp2 - sp1 - 1);
  LogStream s;
  if (stream == "stdout") {
    s = LogStream::kStdout;
  } else if (stream == "stderr") {
    s = LogStream::kStderr;
  } else {
    return CriHeaderResult::kMalformed;
  }

  const size_t sp3 = w.find(' ', sp2 + 1);
  if (sp3 == absl::string_view::npos) return short_result;
  const absl::string_view tags = w.substr(sp2 + 1, sp3 - sp2 - 1);
  const absl::string_view first = tags.substr(0, tags.find(':'));
  if (first != "P" && first != "F") return CriHeaderResult::kMalformed;

  header->timestamp = timestamp;
  header->time = *time;
  header->stream = s;
  header->partial = first == "P";
  header->content_offset = sp3 + 1;
  return CriHeaderResult::kOk;
}

std::optional<CriRecord> ParseCriLine(absl::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line.find('\n') != absl::string_view::npos) return std::nullopt;
  CriHeader h;
  if (ParseCriHeader(line, /*complete=*/true, &h) != CriHeaderResult::kOk) return std::nullopt;
  CriRecord r;
  r.timestamp = h.timestamp;
  r.time = h.time;
  r.stream = h.stream;
  r.partial = h.partial;
  r.content = line.substr(h.content_offset);
  return r;
}

struct timespec CriLogWriter::RealtimeClock() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

absl::StatusOr<common::UniqueFd> OpenLogFileAt(int dir_fd, absl::string_view name, int flags) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != absl::string_view::npos ||
      name.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("log file name \"", name, "\": not one path component"));
  }
  const std::string path(name);
  int fd;
  do {
    fd = ::openat(dir_fd, path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return common::ErrnoStatus(errno, absl::StrCat("openat(log file ", path, ")"));
  common::UniqueFd owned(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("fstat(log file ", path, ")"));
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("log file ", path, ": not a regular file"));
  }
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
    return common::ErrnoStatus(errno, absl::StrCat("fcntl(log file ", path, ")"));
  }
  return owned;
}

absl::StatusOr<common::UniqueFd> CriLogWriter::OpenLogFile(int dir_fd, absl::string_view name) {
  return OpenLogFileAt(dir_fd, name, O_WRONLY | O_APPEND | O_CREAT);
}

CriLogWriter::CriLogWriter(common::UniqueFd fd, Clock clock, size_t max_content)
    : fd_(std::move(fd)), clock_(std::move(clock)), max_content_(std::max<size_t>(max_content, 1)) {
  record_.reserve(kCriMaxHeader + max_content_ + 2);
}

absl::Status CriLogWriter::WriteRecord(LogStream stream, bool partial, absl::string_view a, absl::string_view b) {
  record_.clear();
  if (torn_) record_.push_back('\n');
  const size_t prefix = record_.size();
  absl::StrAppend(&record_, timestamp_, " ", LogStreamName(stream), partial ? " P " : " F ", a, b, "\n");

  size_t done = 0;
  int err = 0;
  while (done < record_.size()) {
    const ssize_t r = ::write(fd_.get(), record_.data() + done, record_.size() - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (r == 0) {  // no progress and no errno: treat as a full device
      err = ENOSPC;
      break;
    }
    done += static_cast<size_t>(r);
  }
  if (done == record_.size()) {
    torn_ = false;
    return absl::OkStatus();
  }
  // Some of this record reached the file: its line must be ended before
  // the next one. Only the '\n' ending an earlier torn line: that is done.
  if (done > prefix) {
    torn_ = true;
  } else if (done == prefix && prefix == 1) {
    torn_ = false;
  }
  ++write_errors_;
  dropped_bytes_ += a.size() + b.size();
  last_error_ = common::ErrnoStatus(err, absl::StrCat("write(CRI log, fd ", fd_.get(), ", ",
                                                      LogStreamName(stream), ")"));
  return last_error_;
}

absl::Status CriLogWriter::Append(LogStream stream, const char* data, size_t n) {
  if (n == 0) return absl::OkStatus();
  timestamp_ = FormatCriTimestamp(clock_());
  absl::Status first;
  auto note = [&first](absl::Status s) {
    if (!s.ok() && first.ok()) first = std::move(s);
  };
  std::string& tail = pending_[Index(stream)];
  absl::string_view rest(data, n);
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const bool ends_line = nl != absl::string_view::npos;
    absl::string_view piece = rest.substr(0, ends_line ? nl : rest.size());
    rest.remove_prefix(ends_line ? nl + 1 : rest.size());
    // tail + piece is the line so far; tail never holds more than
    // max_content_ bytes, so a P record takes all of it.
    while (tail.size() + piece.size() > max_content_) {
      const size_t from_piece = max_content_ - tail.size();
      note(WriteRecord(stream, /*partial=*/true, tail, piece.substr(0, from_piece)));
      tail.clear();
      piece.remove_prefix(from_piece);
    }
    if (ends_line) {
      note(WriteRecord(stream, /*partial=*/false, tail, piece));
      tail.clear();
    } else {
      tail.append(piece.data(), piece.size());
    }
  }
  return first;
}

absl::Status CriLogWriter::Flush(LogStream stream) {
  std::string& tail = pending_[Index(stream)];
  if (tail.empty()) return absl::OkStatus();
  timestamp_ = FormatCriTimestamp(clock_());
  absl::Status s = WriteRecord(stream, /*partial=*/true, tail, {});
  tail.clear();
  return s;
}

}  // namespace runtime
