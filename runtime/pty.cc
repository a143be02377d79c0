// Pseudo-terminals, host side (see pty.h): opening a pair, window sizes,
// raw mode, and the byte relay between plain descriptors and a pty master.
// Runs in the launcher or the monitor (open, ioctl, tcgetattr/tcsetattr,
// fcntl, read, write).
#include "runtime/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace runtime {

absl::StatusOr<PtyPair> OpenPty(const char* ptmx) {
  PtyPair pair;
  // What posix_openpt(O_RDWR|O_NOCTTY) does, from a path we name, and
  // close-on-exec from the start.
  pair.master = common::UniqueFd(::open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pair.master) return common::ErrnoStatus(errno, absl::StrCat("open(", ptmx, ")"));
  // grantpt is a no-op on devpts (the slave is created with our ids);
  // unlockpt is TIOCSPTLCK 0.
  int unlock = 0;
  if (::ioctl(pair.master.get(), TIOCSPTLCK, &unlock) != 0) {
    return common::ErrnoStatus(errno, absl::StrCat("ioctl(", ptmx, ", TIOCSPTLCK)"));
  }
  const int slave = ::ioctl(pair.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave >= 0) {
    pair.slave = common::UniqueFd(slave);
    return pair;
  }
  if (errno != EINVAL && errno != ENOTTY) {
    return common::ErrnoStatus(errno, absl::StrCat("ioctl(", ptmx, ", TIOCGPTPEER)"));
  }
  // Before 4.13: by name, in the devpts instance next to ptmx.
  unsigned int n = 0;
  if (::ioctl(pair.master.get(), TIOCGPTN, &n) != 0) {
    return common::ErrnoStatus(errno, absl::StrCat("ioctl(", ptmx, ", TIOCGPTN)"));
  }
  const std::string name = absl::StrCat("/dev/pts/", n);
  pair.slave = common::UniqueFd(::open(name.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pair.slave) return common::ErrnoStatus(errno, absl::StrCat("open(", name, ")"));
  return pair;
}

absl::StatusOr<struct winsize> GetWindowSize(int fd) {
  struct winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0) return common::ErrnoStatus(errno, absl::StrCat("ioctl(fd ", fd, ", TIOCGWINSZ)"));
  return size;
}

absl::Status SetWindowSize(int fd, const struct winsize& size) {
  if (::ioctl(fd, TIOCSWINSZ, &size) != 0) return common::ErrnoStatus(errno, absl::StrCat("ioctl(fd ", fd, ", TIOCSWINSZ)"));
  return absl::OkStatus();
}

int FirstTerminal(std::initializer_list<int> fds) {
  for (int fd : fds) {
    if (fd >= 0 && ::isatty(fd)) return fd;
  }
  return -1;
}

// --- ScopedRawMode ---------------------------------------------------------

absl::StatusOr<ScopedRawMode> ScopedRawMode::Enter(int fd) {
  ScopedRawMode mode;
  if (::tcgetattr(fd, &mode.saved_) != 0) return common::ErrnoStatus(errno, absl::StrCat("tcgetattr(fd ", fd, ")"));
  struct termios raw = mode.saved_;
  ::cfmakeraw(&raw);
  // Reads return as soon as one byte is there (cfmakeraw leaves VMIN and
  // VTIME as they were).
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (::tcsetattr(fd, TCSANOW, &raw) != 0) return common::ErrnoStatus(errno, absl::StrCat("tcsetattr(fd ", fd, ")"));
  mode.fd_ = fd;
  return mode;
}

ScopedRawMode::ScopedRawMode(ScopedRawMode&& other) noexcept : fd_(other.fd_), saved_(other.saved_) {
  other.fd_ = -1;
}

ScopedRawMode& ScopedRawMode::operator=(ScopedRawMode&& other) noexcept {
  if (this != &other) {
    Restore();
    fd_ = other.fd_;
    saved_ = other.saved_;
    other.fd_ = -1;
  }
  return *this;
}

void ScopedRawMode::Restore() {
  if (fd_ < 0) return;
  // From a background process group tcsetattr raises SIGTTOU, which would
  // stop us with the terminal still raw: blocked, the change goes through.
  sigset_t ttou, old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  ::pthread_sigmask(SIG_BLOCK, &ttou, &old);
  // EINTR: tcsetattr may wait for output to drain; try again rather than
  // leave the terminal raw.
  while (::tcsetattr(fd_, TCSADRAIN, &saved_) != 0 && errno == EINTR) {}
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  fd_ = -1;
}

// --- ByteQueue -------------------------------------------------------------

char* ByteQueue::Buffer() {
  // Default-initialized: the pages are only touched as bytes arrive.
  if (!buf_) buf_.reset(new char[capacity_]);
  return buf_.get();
}

void ByteQueue::Compact() {
  if (head_ == 0) return;
  memmove(buf_.get(), buf_.get() + head_, size());
  tail_ -= head_;
  head_ = 0;
}

size_t ByteQueue::Append(std::string_view data) {
  if (data.empty()) return 0;
  char* buf = Buffer();
  if (capacity_ - tail_ < data.size()) Compact();
  const size_t n = std::min(data.size(), capacity_ - tail_);
  memcpy(buf + tail_, data.data(), n);
  tail_ += n;
  return n;
}

void ByteQueue::Consume(size_t n) {
  head_ += std::min(n, size());
  if (head_ == tail_) head_ = tail_ = 0;
}

ssize_t ByteQueue::ReadFrom(int fd) {
  char* buf = Buffer();
  Compact();
  if (tail_ == capacity_) {
    errno = ENOBUFS;
    return -1;
  }
  const ssize_t n = ::read(fd, buf + tail_, capacity_ - tail_);
  if (n > 0) tail_ += static_cast<size_t>(n);
  return n;
}

ssize_t ByteQueue::WriteTo(int fd) {
  if (empty()) return ::write(fd, "", 0);
  const ssize_t n = ::write(fd, buf_.get() + head_, size());
  if (n > 0) Consume(static_cast<size_t>(n));
  return n;
}

// --- TerminalRelay ---------------------------------------------------------

TerminalRelay::TerminalRelay(EventLoop* loop, const Options& options)
    : loop_(loop), options_(options), to_master_(options.buffer_bytes), to_out_(options.buffer_bytes) {}

absl::StatusOr<std::unique_ptr<TerminalRelay>> TerminalRelay::Start(EventLoop* loop, const Options& options) {
  if (options.master_fd < 0) return absl::InvalidArgumentError("terminal relay: no pty master");
  if (options.buffer_bytes == 0) return absl::InvalidArgumentError("terminal relay: a buffer of 0 bytes");
  std::unique_ptr<TerminalRelay> relay(new TerminalRelay(loop, options));
  for (int fd : {options.in_fd, options.out_fd, options.master_fd}) {
    if (fd < 0) continue;
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) return common::ErrnoStatus(errno, absl::StrCat("fcntl(fd ", fd, ", F_GETFL)"));
    if ((flags & O_NONBLOCK) != 0) continue;
    if (::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
      return common::ErrnoStatus(errno, absl::StrCat("fcntl(fd ", fd, ", F_SETFL)"));
    }
    relay->saved_flags_.emplace_back(fd, flags);
  }
  relay->in_open_ = options.in_fd >= 0;
  relay->UpdateInterest();
  RETURN_IF_ERROR(relay->error_);
  return relay;
}

TerminalRelay::~TerminalRelay() {
  for (const auto& [fd, events] : registered_) loop_->Remove(fd);
  // In reverse: descriptors sharing one open file description end with
  // the flags the first of them had.
  for (auto it = saved_flags_.rbegin(); it != saved_flags_.rend(); ++it) ::fcntl(it->first, F_SETFL, it->second);
}

void TerminalRelay::Note(absl::Status s) {
  if (error_.ok()) error_ = std::move(s);
}

void TerminalRelay::UpdateInterest() {
  std::vector<std::pair<int, uint32_t>> want;
  auto add = [&want](int fd, uint32_t ev) {
    if (fd < 0 || ev == 0) return;
    for (auto& [f, e] : want) {
      if (f == fd) {
        e |= ev;
        return;
      }
    }
    want.emplace_back(fd, ev);
  };
  if (in_open_ && !to_master_.full() && !veof_pending_) add(options_.in_fd, EPOLLIN);
  if (master_open_) {
    if (!to_out_.full()) add(options_.master_fd, EPOLLIN);
    if (!to_master_.empty() || veof_pending_) add(options_.master_fd, EPOLLOUT);
  }
  if (!to_out_.empty() && !out_broken_) add(options_.out_fd, EPOLLOUT);

  for (auto it = registered_.begin(); it != registered_.end();) {
    bool kept = false;
    for (const auto& [fd, ev] : want) kept = kept || fd == it->first;
    if (kept) {
      ++it;
    } else {
      loop_->Remove(it->first);
      it = registered_.erase(it);
    }
  }
  for (const auto& [fd, ev] : want) {
    auto it = std::find_if(registered_.begin(), registered_.end(), [fd = fd](const auto& r) { return r.first == fd; });
    if (it == registered_.end()) {
      absl::Status s = loop_->Add(fd, ev, [this, fd = fd](uint32_t events) { OnEvents(fd, events); });
      if (!s.ok()) {
        Note(s);
        continue;
      }
      registered_.emplace_back(fd, ev);
    } else if (it->second != ev) {
      if (absl::Status s = loop_->Modify(fd, ev); !s.ok()) Note(s);
      it->second = ev;
    }
  }
}

void TerminalRelay::OnEvents(int fd, uint32_t events) {
  const uint32_t readable = EPOLLIN | EPOLLHUP | EPOLLERR;
  const uint32_t writable = EPOLLOUT | EPOLLHUP | EPOLLERR;
  if (fd == options_.master_fd) {
    // Output first: what the command wrote before its slave closed is
    // read before the hang-up is believed.
    if ((events & readable) != 0 && !to_out_.full()) ReadMaster();
    if (master_open_ && (events & EPOLLHUP) != 0 && to_out_.full()) {
      // Hung up with output still to read: nothing to write to it any
      // more, and reading waits for room on our side.
      to_master_.Clear();
      veof_pending_ = false;
      in_open_ = false;
    }
    if (master_open_ && (events & writable) != 0) WriteMaster();
  }
  if (fd == options_.out_fd && (events & writable) != 0) WriteOut();
  if (fd == options_.in_fd && (events & readable) != 0) ReadInput();
  // Moving bytes on one side may make room or work on the other.
  if (master_open_ && !to_master_.empty()) WriteMaster();
  if (!to_out_.empty() && !out_broken_) WriteOut();
  if (!master_open_ && to_out_.empty() && !output_ended_) EndOutput();
  UpdateInterest();
}

void TerminalRelay::ReadInput() {
  while (in_open_ && !to_master_.full()) {
    const ssize_t n = to_master_.ReadFrom(options_.in_fd);
    if (n > 0) {
      bytes_in_ += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) Note(common::ErrnoStatus(errno, absl::StrCat("read(input fd ", options_.in_fd, ")")));
    EndInput();
  }
}

void TerminalRelay::EndInput() {
  in_open_ = false;
  veof_pending_ = options_.eof_as_veof && master_open_;
}

void TerminalRelay::WriteMaster() {
  while (master_open_ && !to_master_.empty()) {
    const std::string_view pending = to_master_.Peek();
    const ssize_t n = to_master_.WriteTo(options_.master_fd);
    if (n > 0) {
      last_in_ = pending[static_cast<size_t>(n) - 1];
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    // EIO: the slave is gone; nobody will read input again.
    to_master_.Clear();
    in_open_ = false;
    veof_pending_ = false;
    return;
  }
  if (!veof_pending_ || !master_open_) return;
  // The master's termios are the slave's: VEOF means end of input only in
  // canonical mode.
  struct termios t;
  if (::tcgetattr(options_.master_fd, &t) != 0 || (t.c_lflag & ICANON) == 0 || t.c_cc[VEOF] == _POSIX_VDISABLE) {
    veof_pending_ = false;
    return;
  }
  // After a partial line the first VEOF only hands the line over.
  const char eof[2] = {static_cast<char>(t.c_cc[VEOF]), static_cast<char>(t.c_cc[VEOF])};
  const bool line_start = last_in_ == '\n' || last_in_ == static_cast<char>(t.c_cc[VEOL]) ||
                          last_in_ == static_cast<char>(t.c_cc[VEOF]);
  const size_t count = line_start ? 1 : 2;
  veof_pending_ = false;
  to_master_.Append(std::string_view(eof, count));
  WriteMaster();
}

void TerminalRelay::ReadMaster() {
  while (master_open_ && !to_out_.full()) {
    const ssize_t n = to_out_.ReadFrom(options_.master_fd);
    if (n > 0) {
      if (out_broken_ || options_.out_fd < 0) to_out_.Clear();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    // EIO (or 0): every slave descriptor is closed and the buffer empty.
    if (n < 0 && errno != EIO) Note(common::ErrnoStatus(errno, "read(pty master)"));
    master_open_ = false;
    to_master_.Clear();
    veof_pending_ = false;
    in_open_ = false;
  }
}

void TerminalRelay::WriteOut() {
  while (!to_out_.empty() && !out_broken_) {
    const ssize_t n = to_out_.WriteTo(options_.out_fd);
    if (n > 0) {
      bytes_out_ += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    Note(common::ErrnoStatus(n < 0 ? errno : EIO, absl::StrCat("write(output fd ", options_.out_fd, ")")));
    out_broken_ = true;
    to_out_.Clear();
  }
}

void TerminalRelay::EndOutput() {
  output_ended_ = true;
  if (on_output_end_) on_output_end_();
}

// --- ForegroundTerminal ----------------------------------------------------

ForegroundTerminal::ForegroundTerminal(int in_fd, int out_fd, bool interactive)
    : in_fd_(in_fd), out_fd_(out_fd), interactive_(interactive), terminal_(FirstTerminal({in_fd, out_fd})) {}

ForegroundTerminal::~ForegroundTerminal() {
  relay_.reset();
  raw_.Restore();
}

struct winsize ForegroundTerminal::InitialSize() {
  struct winsize size{};
  if (terminal_ >= 0) {
    if (absl::StatusOr<struct winsize> s = GetWindowSize(terminal_); s.ok()) size = *s;
  }
  return size;
}

absl::Status ForegroundTerminal::Begin(common::UniqueFd master) {
  master_ = std::move(master);
  ASSIGN_OR_RETURN(EventLoop loop, EventLoop::Create());
  loop_.emplace(std::move(loop));
  const bool in_is_terminal = interactive_ && ::isatty(in_fd_);
  if (in_is_terminal) {
    ASSIGN_OR_RETURN(raw_, ScopedRawMode::Enter(in_fd_));
  }
  TerminalRelay::Options options;
  options.in_fd = interactive_ ? in_fd_ : -1;
  options.out_fd = out_fd_;
  options.master_fd = master_.get();
  // Our terminal's own EOF (a hang-up) is no end of typed input to pass on.
  options.eof_as_veof = !in_is_terminal;
  ASSIGN_OR_RETURN(relay_, TerminalRelay::Start(&*loop_, options));
  // The size may have changed between InitialSize() and now.
  WindowChanged();
  return absl::OkStatus();
}

int ForegroundTerminal::PollFd() const { return loop_.has_value() ? loop_->fd() : -1; }

absl::Status ForegroundTerminal::Pump() {
  if (!loop_.has_value()) return absl::OkStatus();
  return loop_->RunOnce(0);
}

void ForegroundTerminal::WindowChanged() {
  if (terminal_ < 0 || !master_) return;
  absl::StatusOr<struct winsize> size = GetWindowSize(terminal_);
  if (size.ok()) (void)SetWindowSize(master_.get(), *size);
}

absl::Status ForegroundTerminal::Finish(int idle_timeout_ms) {
  absl::Status status;
  if (relay_ != nullptr) {
    // Every slave closes when the command's pid namespace ends; a process
    // left holding one (a joined pid namespace) must not keep us here
    // forever: give up after a quiet spell.
    uint64_t seen = relay_->bytes_out();
    int64_t quiet_since = EventLoop::NowMs();
    while (!relay_->output_ended() && EventLoop::NowMs() - quiet_since < idle_timeout_ms) {
      if (absl::Status s = loop_->RunOnce(50); !s.ok()) {
        status = s;
        break;
      }
      if (relay_->bytes_out() != seen) {
        seen = relay_->bytes_out();
        quiet_since = EventLoop::NowMs();
      }
    }
    relay_.reset();
  }
  raw_.Restore();
  master_.Reset();
  return status;
}

}  // namespace runtime
