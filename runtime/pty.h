// Pseudo-terminals for a container's command, on the host side: a pair
// from /dev/ptmx, window sizes, a raw mode for the caller's terminal that
// is always put back, and TerminalRelay, which moves bytes between plain
// descriptors (our stdin/stdout, a log pipe, an attach socket) and a pty
// master over runtime::EventLoop with bounded buffers. ForegroundTerminal
// puts them together for `minipod run -t`. Parent only (open, ioctl,
// tcsetattr, read, write, fcntl).
#pragma once

#include <sys/ioctl.h>
#include <sys/types.h>
#include <termios.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "runtime/event_loop.h"
#include "sandbox/launcher.h"

namespace runtime {

struct PtyPair {
  common::UniqueFd master, slave;
};

// A new pair from ptmx (the host's /dev/ptmx by default): the master opened
// O_RDWR|O_NOCTTY|O_CLOEXEC and unlocked, the slave through TIOCGPTPEER
// (4.13+), which needs no path lookup in /dev/pts; on older kernels by the
// name TIOCGPTN gives. Neither end becomes our controlling terminal.
absl::StatusOr<PtyPair> OpenPty(const char* ptmx = "/dev/ptmx");

absl::StatusOr<struct winsize> GetWindowSize(int fd);
absl::Status SetWindowSize(int fd, const struct winsize& size);

// The terminal among fds (the first that is one), or -1.
int FirstTerminal(std::initializer_list<int> fds);

// Raw mode (cfmakeraw) on a terminal for the life of this object; the
// modes it found come back on destruction or Restore(), whatever the way
// out. Move-only.
class ScopedRawMode {
 public:
  ScopedRawMode() = default;
  static absl::StatusOr<ScopedRawMode> Enter(int fd);
  ScopedRawMode(ScopedRawMode&& other) noexcept;
  ScopedRawMode& operator=(ScopedRawMode&& other) noexcept;
  ScopedRawMode(const ScopedRawMode&) = delete;
  ScopedRawMode& operator=(const ScopedRawMode&) = delete;
  ~ScopedRawMode() { Restore(); }

  // Puts the saved modes back (TCSADRAIN: after what we wrote has gone
  // out); a no-op once done.
  void Restore();
  bool active() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  struct termios saved_{};
};

// A bounded FIFO of bytes: what one side of a relay has read and the other
// has not yet taken.
class ByteQueue {
 public:
  // The buffer is allocated on first use and never zero-filled: a monitor
  // holds queues of a MiB that most containers never use, and touching
  // them would cost every container that much memory and page faults.
  explicit ByteQueue(size_t capacity) : capacity_(capacity) {}
  size_t size() const { return tail_ - head_; }
  size_t capacity() const { return capacity_; }
  size_t space() const { return capacity_ - size(); }
  bool empty() const { return head_ == tail_; }
  bool full() const { return space() == 0; }
  // Copies in as much of data as fits; returns how much.
  size_t Append(std::string_view data);
  // The oldest bytes, contiguous; Consume(n) drops n of them.
  std::string_view Peek() const { return buf_ ? std::string_view(buf_.get() + head_, size()) : std::string_view(); }
  void Consume(size_t n);
  void Clear() { head_ = tail_ = 0; }
  // One read(2) of fd into the free space: its result, errno as it left it.
  ssize_t ReadFrom(int fd);
  // One write(2) of the queued bytes to fd: its result, errno as it left it.
  ssize_t WriteTo(int fd);

 private:
  void Compact();
  char* Buffer();
  size_t capacity_;
  std::unique_ptr<char[]> buf_;
  size_t head_ = 0, tail_ = 0;
};

// Moves bytes both ways between (in_fd, out_fd) and a pty master, as the
// loop reports them ready. Each direction holds at most buffer_bytes: a
// full buffer stops reading its source until the destination takes some,
// so a slow reader holds the writer back instead of growing memory.
//
// The descriptors are not owned and are not assumed to be terminals. They
// are made O_NONBLOCK while the relay lives (the flags come back at
// destruction): note that this shows through every descriptor sharing the
// same open file description.
//
// Ends: EOF (or an error) on in_fd stops input; with eof_as_veof it is
// passed on as the terminal's EOF character, once the pending input is
// written and only while the terminal is in canonical mode (where VEOF
// means end of input: after a partial line a second one is sent, since the
// first only ends the line). In non-canonical mode a ^D byte would be data,
// so nothing is sent, as `docker run -t` sends nothing. EIO from the master
// (every slave descriptor closed) or its hang-up ends output once what was
// read is written; pending input is then dropped, nobody can read it. An
// error writing out_fd (EPIPE: our reader left) drops output from then on,
// still draining the master so the command is not blocked on a full pty.
class TerminalRelay {
 public:
  struct Options {
    int in_fd = -1;      // read and written to the master; -1: no input
    int out_fd = -1;     // the master's output goes here; -1: read and dropped
    int master_fd = -1;  // required
    size_t buffer_bytes = 64 * 1024;
    bool eof_as_veof = true;
  };

  // Registers with loop (which must outlive the relay).
  static absl::StatusOr<std::unique_ptr<TerminalRelay>> Start(EventLoop* loop, const Options& options);
  ~TerminalRelay();
  TerminalRelay(const TerminalRelay&) = delete;
  TerminalRelay& operator=(const TerminalRelay&) = delete;

  // Called once, from a loop round, when output has ended (see above).
  void set_on_output_end(std::function<void()> fn) { on_output_end_ = std::move(fn); }
  bool output_ended() const { return output_ended_; }
  bool input_ended() const { return !in_open_; }
  // Bytes taken from in_fd, and written to out_fd.
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }
  // Queued bytes, each way (at most buffer_bytes).
  size_t queued_to_master() const { return to_master_.size(); }
  size_t queued_to_out() const { return to_out_.size(); }
  // The first error that ended a side early (none: OK).
  const absl::Status& error() const { return error_; }

 private:
  TerminalRelay(EventLoop* loop, const Options& options);
  void OnEvents(int fd, uint32_t events);
  void ReadInput();
  void WriteMaster();
  void ReadMaster();
  void WriteOut();
  void EndInput();
  void EndOutput();
  void Note(absl::Status s);
  // Registers each descriptor for exactly what it is waited on for now
  // (removed when nothing: epoll reports a hang-up even unasked).
  void UpdateInterest();

  EventLoop* loop_;
  Options options_;
  ByteQueue to_master_, to_out_;
  bool in_open_ = false;
  bool veof_pending_ = false;
  char last_in_ = '\n';  // the last input byte written to the master
  bool master_open_ = true;
  bool out_broken_ = false;
  bool output_ended_ = false;
  std::function<void()> on_output_end_;
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
  absl::Status error_;
  std::vector<std::pair<int, uint32_t>> registered_;  // fd -> events now in the loop
  std::vector<std::pair<int, int>> saved_flags_;      // fd -> F_GETFL before, in the order set
};

// `minipod run -t` in the foreground: the launcher's TerminalSession. Our
// terminal (in_fd when it is one, else out_fd) gives the pty its size at
// start and on SIGWINCH; with `interactive`, in_fd is relayed and, when it
// is a terminal, put in raw mode (Ctrl-C, Ctrl-Z and Ctrl-D then reach the
// container's terminal as bytes, and its line discipline acts on them).
// Without `interactive` our input is left alone. Everything is put back
// in Finish() or the destructor, on every way out.
class ForegroundTerminal : public sandbox::TerminalSession {
 public:
  ForegroundTerminal(int in_fd, int out_fd, bool interactive);
  ~ForegroundTerminal() override;

  struct winsize InitialSize() override;
  absl::Status Begin(common::UniqueFd master) override;
  int PollFd() const override;
  absl::Status Pump() override;
  void WindowChanged() override;
  absl::Status Finish(int idle_timeout_ms) override;

 private:
  int in_fd_, out_fd_;
  bool interactive_;
  int terminal_;  // ours, for sizes; -1: none
  common::UniqueFd master_;
  std::optional<EventLoop> loop_;
  ScopedRawMode raw_;
  std::unique_ptr<TerminalRelay> relay_;
};

}  // namespace runtime
