// Reading a CRI log back: a backwards line scanner for --tail, a streaming
// printer that never holds more than a record's header in memory (a line
// of a foreign or damaged file may be any length), and the -f loop over
// inotify, the stop descriptor and the output's hang-up.
#include "runtime/log_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"

namespace runtime {
namespace {

constexpr size_t kMalformedKind = 2;
constexpr size_t kOutputFlushAt = 64 * 1024;
// Without inotify, -f looks at the file at least this often.
constexpr int kPlainPollMs = 250;

constexpr absl::string_view kMalformedWarning =
    "warning: the log holds lines that are not CRI records; they are shown as they are\n";

absl::Status ReadError(int err, int fd) { return common::ErrnoStatus(err, absl::StrCat("pread(log, fd ", fd, ")")); }

// Up to len bytes at offset; fewer only at the end of the file.
absl::StatusOr<size_t> PreadFull(int fd, char* buf, size_t len, uint64_t offset) {
  size_t done = 0;
  while (done < len) {
    const ssize_t r = ::pread(fd, buf + done, len - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ReadError(errno, fd);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

// The lines of [0, size) from the last to the first, one block of the file
// in memory at a time.
class ReverseLines {
 public:
  ReverseLines(int fd, uint64_t size, size_t block) : fd_(fd), cur_(size), buf_(std::max<size_t>(block, 1)) {}

  // The previous line, [*start, *end) without its '\n'; false before the
  // first line. The last line may lack its '\n' (a write in progress).
  absl::StatusOr<bool> Prev(uint64_t* start, uint64_t* end) {
    if (cur_ == 0) return false;
    absl::StatusOr<int64_t> last = NewlineBefore(cur_, cur_ - 1);
    if (!last.ok()) return last.status();
    uint64_t e = cur_;
    if (*last == static_cast<int64_t>(cur_ - 1)) e = cur_ - 1;  // drop the terminator
    absl::StatusOr<int64_t> nl = NewlineBefore(e, 0);
    if (!nl.ok()) return nl.status();
    *start = static_cast<uint64_t>(*nl + 1);
    *end = e;
    cur_ = *start;
    return true;
  }

 private:
  // The offset of the last '\n' in [floor, pos), or floor - 1 (-1 when floor
  // is 0) when there is none.
  absl::StatusOr<int64_t> NewlineBefore(uint64_t pos, uint64_t floor) {
    while (pos > floor) {
      if (!(buf_start_ < pos && pos <= buf_start_ + buf_len_)) {
        const uint64_t from = pos > buf_.size() ? pos - buf_.size() : 0;
        absl::StatusOr<size_t> n = PreadFull(fd_, buf_.data(), pos - from, from);
        if (!n.ok()) return n.status();
        if (*n != pos - from) {
          return absl::FailedPreconditionError(absl::StrCat("log fd ", fd_, ": shrank while being read"));
        }
        buf_start_ = from;
        buf_len_ = *n;
      }
      const uint64_t low = std::max(buf_start_, floor);
      const void* hit = memrchr(buf_.data() + (low - buf_start_), '\n', pos - low);
      if (hit != nullptr) return static_cast<int64_t>(buf_start_ + (static_cast<const char*>(hit) - buf_.data()));
      pos = low;
    }
    return static_cast<int64_t>(floor) - 1;
  }

  int fd_;
  uint64_t cur_;  // the lines before this offset are still to come
  std::vector<char> buf_;
  uint64_t buf_start_ = 0;
  size_t buf_len_ = 0;
};

// Buffered output to the two descriptors, in order: switching descriptors
// flushes first. An EPIPE closes it quietly; other errors stick.
class Output {
 public:
  Output(int out_fd, int err_fd) : fds_{out_fd, err_fd} {}

  void Write(size_t which, absl::string_view data) {
    if (stopped() || data.empty()) return;
    if (which != current_ && !buf_.empty()) Flush();
    current_ = which;
    buf_.append(data.data(), data.size());
    if (buf_.size() >= kOutputFlushAt) Flush();
  }

  void Flush() {
    size_t done = 0;
    const int fd = fds_[current_];
    while (done < buf_.size() && !stopped()) {
      const ssize_t r = ::write(fd, buf_.data() + done, buf_.size() - done);
      if (r >= 0) {
        done += static_cast<size_t>(r);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {  // a non-blocking terminal or pipe: wait until it drains
        struct pollfd p = {fd, POLLOUT, 0};
        if (::poll(&p, 1, -1) > 0 && (p.revents & (POLLERR | POLLHUP)) && !(p.revents & POLLOUT)) closed_ = true;
        continue;
      }
      if (errno == EPIPE) {
        closed_ = true;
      } else {
        status_ = common::ErrnoStatus(errno, absl::StrCat("write(logs output, fd ", fd, ")"));
      }
    }
    buf_.clear();
  }

  void MarkClosed() { closed_ = true; }
  bool closed() const { return closed_; }
  bool stopped() const { return closed_ || !status_.ok(); }
  const absl::Status& status() const { return status_; }

 private:
  int fds_[2];
  size_t current_ = 0;
  std::string buf_;
  bool closed_ = false;
  absl::Status status_;
};

// Turns the bytes of the log, fed in order, into output. Holds at most
// kCriMaxHeader bytes of a line: the content streams through.
class Printer {
 public:
  Printer(Output* out, const LogOptions& options, const std::array<uint64_t, 3>& starts, uint64_t first_offset,
          LogSummary* summary)
      : out_(out), options_(options), starts_(starts), line_start_(first_offset), summary_(summary) {}

  // The bytes at [offset, offset + data.size()), right after the last call's.
  void Feed(uint64_t offset, absl::string_view data) {
    size_t i = 0;
    while (i < data.size()) {
      const absl::string_view rest = data.substr(i);
      const size_t nl = rest.find('\n');
      const size_t line_part = nl == absl::string_view::npos ? rest.size() : nl;
      if (state_ == State::kHeader) {
        const size_t take = std::min(line_part, kCriMaxHeader - header_.size());
        header_.append(rest.data(), take);
        i += take;
        if (nl != absl::string_view::npos && take == nl) {
          Decide(/*complete=*/true);
          ++i;
          EndLine(offset + i);
        } else if (header_.size() >= kCriMaxHeader) {
          Decide(/*complete=*/false);
        }
        continue;
      }
      Emit(rest.substr(0, line_part));
      i += line_part;
      if (nl != absl::string_view::npos) {
        ++i;
        EndLine(offset + i);
      }
    }
  }

  // The end of the log: a line without its '\n' (cut by a crash or still
  // being written) is finished as if the '\n' were there.
  void Finish(uint64_t offset) {
    if (state_ == State::kHeader) {
      if (header_.empty()) return;
      Decide(/*complete=*/true);
    }
    EndLine(offset);
  }

  bool at_line_start() const { return state_ == State::kHeader && header_.empty(); }

 private:
  enum class State { kHeader, kRecord, kRaw, kSkipRecord, kSkipRaw };

  bool InWindow(const CriTime& t) const {
    return (!options_.since || t >= *options_.since) && (!options_.until || t < *options_.until);
  }

  void Decide(bool complete) {
    CriHeader h;
    if (ParseCriHeader(header_, complete, &h) == CriHeaderResult::kOk) {
      ++summary_->records;
      stream_ = static_cast<size_t>(h.stream);
      partial_ = h.partial;
      const bool first_fragment = !mid_line_[stream_];
      bool show = false;
      if (line_start_ >= starts_[stream_]) {
        if (first_fragment) shown_[stream_] = InWindow(h.time);
        show = shown_[stream_];
      }
      if (!show) {
        state_ = State::kSkipRecord;
        return;
      }
      state_ = State::kRecord;
      if (first_fragment && options_.timestamps) {
        out_->Write(stream_, h.timestamp);
        out_->Write(stream_, " ");
      }
      Emit(absl::string_view(header_).substr(h.content_offset));
      return;
    }
    ++summary_->malformed;
    if (line_start_ < starts_[kMalformedKind]) {
      state_ = State::kSkipRaw;
      return;
    }
    if (!warned_) {
      warned_ = true;
      out_->Write(1, kMalformedWarning);
    }
    state_ = State::kRaw;
    Emit(header_);
  }

  void Emit(absl::string_view data) {
    if (state_ == State::kRecord) out_->Write(stream_, data);
    if (state_ == State::kRaw) out_->Write(1, data);
  }

  void EndLine(uint64_t next_line) {
    switch (state_) {
      case State::kRecord:
        if (!partial_) out_->Write(stream_, "\n");
        mid_line_[stream_] = partial_;
        break;
      case State::kSkipRecord:
        mid_line_[stream_] = partial_;
        break;
      case State::kRaw:
        out_->Write(1, "\n");
        break;
      case State::kSkipRaw:
      case State::kHeader:
        break;
    }
    state_ = State::kHeader;
    header_.clear();
    line_start_ = next_line;
  }

  Output* out_;
  const LogOptions& options_;
  std::array<uint64_t, 3> starts_;
  uint64_t line_start_;
  LogSummary* summary_;
  State state_ = State::kHeader;
  std::string header_;
  size_t stream_ = 0;
  bool partial_ = false;
  bool mid_line_[2] = {false, false};  // the stream's last record was P
  bool shown_[2] = {false, false};     // --since/--until let the stream's current line through
  bool warned_ = false;
};

// Keeps a write to a pipe whose reader is gone from killing the process:
// SIGPIPE for a write(2) is sent to the writing thread, so blocking it in
// this thread leaves it pending, and it is taken back before the mask is
// restored. The write still fails with EPIPE, which ends ShowLogs.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    sigset_t pending;
    sigemptyset(&pending);
    was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
  }
  ~ScopedSigpipeBlock() {
    sigset_t pending;
    sigemptyset(&pending);
    if (!was_pending_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
      const struct timespec zero = {0, 0};
      (void)sigtimedwait(&pipe_, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

// inotify on the log through /proc/self/fd (the caller may hold only the
// descriptor); invalid when /proc or inotify is not there.
common::UniqueFd WatchLog(int log_fd) {
  common::UniqueFd ifd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!ifd) return ifd;
  const std::string path = absl::StrCat("/proc/self/fd/", log_fd);
  if (::inotify_add_watch(ifd.get(), path.c_str(), IN_MODIFY) < 0) ifd.Reset();
  return ifd;
}

void Drain(int fd) {
  char buf[4096];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

}  // namespace

absl::StatusOr<common::UniqueFd> OpenLogForReading(int dir_fd, absl::string_view name) {
  return OpenLogFileAt(dir_fd, name, O_RDONLY);
}

absl::StatusOr<std::array<uint64_t, 3>> FindTailStarts(int log_fd, uint64_t size, uint64_t lines,
                                                       size_t block_size) {
  std::array<uint64_t, 3> starts = {size, size, size};
  enum class Seen { kNot, kOpen, kClosed };
  // kOpen: the stream's earliest counted line may still have P records
  // further back; kClosed: its earlier records are all left out.
  Seen seen[2] = {Seen::kNot, Seen::kNot};
  uint64_t counted = 0;
  ReverseLines reverse(log_fd, size, block_size);
  char head[kCriMaxHeader];
  for (;;) {
    if (counted == lines && seen[0] != Seen::kOpen && seen[1] != Seen::kOpen) break;
    uint64_t start = 0, end = 0;
    absl::StatusOr<bool> more = reverse.Prev(&start, &end);
    if (!more.ok()) return more.status();
    if (!*more) break;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(end - start, kCriMaxHeader));
    absl::StatusOr<size_t> got = PreadFull(log_fd, head, want, start);
    if (!got.ok()) return got.status();
    if (*got != want) {
      return absl::FailedPreconditionError(absl::StrCat("log fd ", log_fd, ": shrank while being read"));
    }
    CriHeader h;
    // The same bytes the printer decides on: at most kCriMaxHeader of them.
    if (ParseCriHeader(absl::string_view(head, want), /*complete=*/true, &h) != CriHeaderResult::kOk) {
      if (counted < lines) {
        ++counted;
        starts[kMalformedKind] = start;
      }
      continue;
    }
    const size_t s = static_cast<size_t>(h.stream);
    // A line ends here when this is an F record, or the stream's last
    // record of all (an unterminated line at the end of the log).
    const bool line_end = !h.partial || seen[s] == Seen::kNot;
    if (line_end) {
      if (counted < lines) {
        ++counted;
        starts[s] = start;
        seen[s] = Seen::kOpen;
      } else {
        seen[s] = Seen::kClosed;
      }
    } else if (seen[s] == Seen::kOpen) {
      starts[s] = start;
    }
  }
  return starts;
}

absl::StatusOr<LogSummary> ShowLogs(int log_fd, int out_fd, int err_fd, const LogOptions& options) {
  struct stat st {};
  if (::fstat(log_fd, &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("fstat(log, fd ", log_fd, ")"));
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("log fd ", log_fd, ": not a regular file"));
  }
  const uint64_t limit = static_cast<uint64_t>(st.st_size);
  const size_t block = std::max<size_t>(options.block_size, 1);

  std::array<uint64_t, 3> starts = {0, 0, 0};
  if (options.tail) {
    absl::StatusOr<std::array<uint64_t, 3>> found = FindTailStarts(log_fd, limit, *options.tail, block);
    if (!found.ok()) return found.status();
    starts = *found;
  }
  uint64_t offset = std::min({starts[0], starts[1], starts[2]});

  LogSummary summary;
  const ScopedSigpipeBlock no_sigpipe;
  Output out(out_fd, err_fd);
  Printer printer(&out, options, starts, offset, &summary);
  std::vector<char> buf(block);
  common::UniqueFd watch;
  bool watch_tried = false;
  bool stopping = false;

  for (;;) {
    if (out.stopped()) break;
    // Without -f the log ends at its size when we started (what --tail
    // counted from), finishing a line a writer was in the middle of.
    if (!options.follow && offset >= limit && printer.at_line_start()) break;
    size_t want = block;
    if (!options.follow && offset < limit) want = static_cast<size_t>(std::min<uint64_t>(block, limit - offset));
    ssize_t n;
    do {
      n = ::pread(log_fd, buf.data(), want, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return ReadError(errno, log_fd);
    if (n > 0) {
      absl::string_view data(buf.data(), static_cast<size_t>(n));
      if (!options.follow && offset >= limit) {
        const size_t nl = data.find('\n');
        if (nl != absl::string_view::npos) data = data.substr(0, nl + 1);
      }
      printer.Feed(offset, data);
      offset += data.size();
      continue;
    }
    // The end of the file for now.
    if (!options.follow || stopping) break;
    out.Flush();
    if (out.stopped()) break;
    if (!watch_tried) {
      watch_tried = true;
      watch = WatchLog(log_fd);
      continue;  // read once more: a write may have come before the watch
    }
    struct pollfd fds[4];
    nfds_t nfds = 0;
    int stop_index = -1, watch_index = -1;
    if (options.stop_fd >= 0) {
      stop_index = static_cast<int>(nfds);
      fds[nfds++] = {options.stop_fd, POLLIN, 0};
    }
    if (watch) {
      watch_index = static_cast<int>(nfds);
      fds[nfds++] = {watch.get(), POLLIN, 0};
    }
    // No events asked: poll reports POLLERR when a pipe's reader is gone
    // and POLLHUP when a terminal hangs up, whatever we ask for.
    const nfds_t first_output = nfds;
    fds[nfds++] = {out_fd, 0, 0};
    if (err_fd != out_fd) fds[nfds++] = {err_fd, 0, 0};
    const int timeout = watch ? options.poll_ms : std::min(options.poll_ms, kPlainPollMs);
    const int r = ::poll(fds, nfds, std::max(timeout, 1));
    if (r < 0) {
      if (errno == EINTR) continue;
      return common::ErrnoStatus(errno, "poll(logs -f)");
    }
    for (nfds_t i = first_output; i < nfds; ++i) {
      if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) out.MarkClosed();
    }
    if (stop_index >= 0 && (fds[stop_index].revents & (POLLIN | POLLHUP | POLLERR))) stopping = true;
    if (watch_index >= 0 && (fds[watch_index].revents & POLLIN)) Drain(watch.get());
  }
  if (!out.stopped()) printer.Finish(offset);
  out.Flush();
  if (!out.status().ok()) return out.status();
  summary.output_closed = out.closed();
  return summary;
}

}  // namespace runtime
