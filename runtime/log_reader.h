// `minipod logs`: reads a CRI log (cri_log.h) and writes the container's
// output back, stdout records to one descriptor and stderr records to
// another; --tail from the end of the file in blocks, -f following it with
// inotify. Runs in the CLI process; calls pread(2), fstat(2), openat(2),
// poll(2), inotify_init1(2)/inotify_add_watch(2), write(2), and blocks
// SIGPIPE in its own thread while it writes.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <array>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"
#include "runtime/cri_log.h"

namespace runtime {

struct LogOptions {
  // -f: after the end of the file, wait for more until stop_fd is readable
  // (the monitor's pidfd: once it has exited nothing more is written, so
  // what is left is printed and ShowLogs returns), or the output is gone.
  bool follow = false;
  int stop_fd = -1;  // not owned; -1: follow until the output is gone
  // --tail N: only the last N lines. A line is what the container wrote up
  // to a '\n': its P records and the F record that ends it, whatever the
  // other stream wrote in between. An unterminated last line counts.
  std::optional<uint64_t> tail;
  // --timestamps: each line starts with its first record's timestamp and a
  // space, as docker logs does.
  bool timestamps = false;
  // --since / --until: only lines whose first record's time is >= since and
  // < until. Applied after --tail, as the kubelet does (--tail 5 --since T
  // shows those of the last 5 lines that are not older than T).
  std::optional<CriTime> since;
  std::optional<CriTime> until;
  // Bytes per read(2) of the log, forwards and backwards.
  size_t block_size = 64 * 1024;
  // With -f, how often to look at the file even without an inotify event
  // (and the interval of a plain poll where inotify is not available).
  int poll_ms = 1000;
};

struct LogSummary {
  uint64_t records = 0;    // CRI records read (printed or filtered out)
  uint64_t malformed = 0;  // lines that were not CRI records (printed as they are)
  bool output_closed = false;  // stopped because a reader of out_fd/err_fd went away
};

// Opens name in dir_fd for reading: O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
// O_NOCTTY, refusing a name that is not one path component and anything
// but a regular file (O_NONBLOCK while opening, so a planted FIFO cannot
// block; cleared after).
absl::StatusOr<common::UniqueFd> OpenLogForReading(int dir_fd, absl::string_view name);

// Prints the log in log_fd (read with pread(2): its file offset is left
// alone): each stdout record's content to out_fd, each stderr record's to
// err_fd (they may be the same descriptor; order is kept). A P record's
// content is printed without a newline and the next record of its stream
// continues the line; an F record's is followed by '\n'. A line that is
// not a CRI record (a torn write, a foreign file) is printed as it is to
// err_fd, after a one-time warning there; it never stops the reading.
// An EPIPE (or hang-up) on out_fd/err_fd ends ShowLogs with output_closed
// set and an OK status, the caller deciding its exit code (SIGPIPE is
// blocked in the calling thread meanwhile, and one it raised is taken back,
// so `minipod logs -f | head -1` ends cleanly); any other error writing the
// output or reading the log is returned.
absl::StatusOr<LogSummary> ShowLogs(int log_fd, int out_fd, int err_fd, const LogOptions& options);

// Where --tail N starts, per kind of line: index 0 stdout records, 1 stderr
// records, 2 malformed lines. A record is in the last N lines exactly when
// its offset is at least the entry of its kind (size: none of that kind).
// The lines of one stream stay in order, so each kind's share of the
// result is a suffix of that kind's records. Reads the file backwards in
// blocks of block_size bytes, up to size; the memory it uses does not grow
// with the file. Exposed for tests and the fuzz target.
absl::StatusOr<std::array<uint64_t, 3>> FindTailStarts(int log_fd, uint64_t size, uint64_t lines,
                                                       size_t block_size);

}  // namespace runtime
