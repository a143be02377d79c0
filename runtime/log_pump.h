// Drains one of a container's output descriptors (a pipe's read end, or
// the pty master of a -t container) into a CriLogWriter from the monitor's
// EventLoop. Runs in the monitor; calls read(2) and fcntl(2).
//
// What it settles so the monitor does not have to: the descriptor is made
// non-blocking and read until EAGAIN, at most a few times per event so one
// chatty container cannot starve the control socket; read() returning 0
// is the end, and so is an error: a pty master reads EIO once the last
// slave descriptor is closed, which is how a -t container's end shows; at
// the end the stream's unterminated tail is written (a P record) before
// on_eof runs.
#pragma once

#include <stddef.h>

#include <functional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"
#include "runtime/cri_log.h"
#include "runtime/event_loop.h"

namespace runtime {

struct LogPumpOptions {
  // Runs once, at the end of the descriptor, after the tail was written and
  // the descriptor closed and removed from the loop.
  std::function<void()> on_eof;
  // Every error the writer reports (a full disk); the pump goes on.
  std::function<void(const absl::Status&)> on_write_error;
  // Every chunk read, before it goes to the log (for attach clients).
  std::function<void(LogStream, absl::string_view)> tee;
  // A tail left unterminated for this long goes out as a P record, so a
  // prompt ("Password: ") shows in `logs -f`; the line goes on in the next
  // record. 0: only at 16 KiB and at the end, as containerd does.
  int idle_flush_ms = 0;
  size_t read_size = 64 * 1024;
  int max_reads_per_event = 4;
};

// Watches fd in loop until its end. loop and writer must outlive the pump
// (until on_eof has run, or the loop is destroyed).
absl::Status StartLogPump(EventLoop& loop, common::UniqueFd fd, LogStream stream, CriLogWriter* writer,
                          LogPumpOptions options);

}  // namespace runtime
