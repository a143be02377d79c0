// minipod-monitor: the resident part of a detached container's monitor,
// exec'd by `minipod run -d`'s forked monitor once the container runs
// (see monitor/handover.h for what it is handed), and the cgroup janitor.
// One epoll loop: the container's pidfd, its output into the CRI log, the
// control socket ("wait", "attach": runtime/monitor.h), SIGTERM/SIGINT
// passed on; at the end: the exit collected, the cgroup emptied and
// removed, the output drained, the state recorded, the waiters answered.
// Static, musl, no C++ runtime: a few pages resident.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "monitor/cgroups.h"
#include "monitor/cri_writer.h"
#include "monitor/handover.h"
#include "monitor/parse.h"
#include "monitor/relay.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_statx
#define SYS_statx 332
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

namespace monitor {
namespace {

constexpr size_t kReadSize = 16 * 1024;
constexpr int kMaxReadsPerEvent = 4;
constexpr size_t kMaxStateBytes = 1 << 20;
// epoll tags below any pointer: the fixed descriptors and the signalfd.
constexpr uint64_t kTagSignal = 100;

void Say(const char* what, int err) {
  char line[256];
  const int n = snprintf(line, sizeof line, "minipod-monitor[%d]: %s: %s\n", static_cast<int>(::getpid()), what,
                         strerror(err));
  if (n > 0) (void)!::write(2, line, static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1);
}

long long NowMs() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n != 0) {
    const ssize_t r = ::send(fd, data, n, MSG_NOSIGNAL);
    if (r < 0 && errno == ENOTSOCK) {
      const ssize_t w = ::write(fd, data, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      data += w;
      n -= static_cast<size_t>(w);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    data += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// A byte queue of a fixed capacity, allocated on first use.
struct Ring {
  char* buf = nullptr;
  size_t cap = 0, head = 0, len = 0;

  size_t space() const { return cap - len; }
  bool empty() const { return len == 0; }
  bool Reserve(size_t capacity) {
    if (buf != nullptr) return true;
    buf = static_cast<char*>(malloc(capacity));
    if (buf == nullptr) return false;
    cap = capacity;
    return true;
  }
  // Appends what fits; returns how much did.
  size_t Append(const char* data, size_t n) {
    if (n > space()) n = space();
    for (size_t done = 0; done < n;) {
      const size_t tail = (head + len) % cap;
      size_t run = cap - tail;
      if (run > n - done) run = n - done;
      memcpy(buf + tail, data + done, run);
      len += run;
      done += run;
    }
    return n;
  }
  // One write of the contiguous front: >0 bytes gone, else write's result.
  ssize_t WriteTo(int fd) {
    size_t run = cap - head;
    if (run > len) run = len;
    const ssize_t n = ::send(fd, buf + head, run, MSG_NOSIGNAL | MSG_DONTWAIT);
    ssize_t r = n;
    if (n < 0 && errno == ENOTSOCK) r = ::write(fd, buf + head, run);
    if (r > 0) {
      head = (head + static_cast<size_t>(r)) % cap;
      len -= static_cast<size_t>(r);
      if (len == 0) head = 0;
    }
    return r;
  }
  void Clear() { head = len = 0; }
  void Free() {
    free(buf);
    buf = nullptr;
    cap = head = len = 0;
  }
};

// Which of the optional descriptors were handed over: looked at before
// this program opens anything, which would take a free number among them.
struct Handed {
  bool err = false, input = false, init_status = false, janitor = false, tmpl = false;
};

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

enum ConnKind { kPending, kWaiter, kAttach };

struct Conn {
  Tagged tag{kTagConn};  // first: what epoll points at
  int fd = -1;
  ConnKind kind = kPending;
  bool dead = false;
  Ring out;
  unsigned char* in = nullptr;  // kAttach: an incomplete frame
  size_t in_len = 0;
  Conn* next = nullptr;
};

constexpr size_t kInCap = 5 + kAttachMaxPayload;

class Lean {
 public:
  Lean(const MonitorArgs& args, const Handed& handed) : args_(args), handed_(handed), log_(kLogFd) {}
  [[noreturn]] void Run();

 private:
  void Watch(int fd, uint32_t events, uint64_t tag) {
    struct epoll_event ev {};
    ev.events = events;
    ev.data.u64 = tag;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) Say("epoll_ctl(ADD)", errno);
  }
  void Modify(int fd, uint32_t events, uint64_t tag) {
    struct epoll_event ev {};
    ev.events = events;
    ev.data.u64 = tag;
    (void)::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
  }
  void Unwatch(int fd) { (void)::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }
  static uint64_t TagOf(Conn* c) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&c->tag)); }

  void OnOutput(int stream);
  void OnControl();
  void OnConn(Conn* c, uint32_t events);
  void StartAttach(Conn* c, const char* rest, size_t n);
  bool ParseFrames(Conn* c);
  void OnAttach(Conn* c, uint32_t events);
  void FlushClient(Conn* c);
  void Broadcast(const char* data, size_t n);
  void DropDead();
  void Input(const unsigned char* data, size_t n);
  void FlushInput();
  void OnSignal();
  void OnExit();
  [[noreturn]] void Finish();
  void SaveState();
  void RemoveState();

  MonitorArgs args_;
  Handed handed_;
  CriWriter log_;
  int epfd_ = -1, sigfd_ = -1;
  int out_fd_[2] = {-1, -1};
  int open_streams_ = 0;
  int input_fd_ = -1;
  bool watching_input_ = false;
  Ring input_queue_;
  Conn* conns_ = nullptr;
  Relay relay_;
  bool relaying_ = false;
  bool exited_ = false;
  long long drain_deadline_ = -1;
  long long control_retry_at_ = -1;  // the control socket unwatched till then (out of descriptors)
  int exit_code_ = 0, signal_ = 0;
  bool oom_ = false;
  char oom_line_[320] = {};
  char buf_[kReadSize];
};

void Lean::Run() {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) {
    Say("epoll_create1", errno);
    ::_exit(1);
  }
  // SIGTERM/SIGINT to the monitor (a shutdown) stop the container the way
  // `minipod stop` starts to; SIGHUP and SIGPIPE are ignored. The mask
  // came blocked through the exec; signalfd reads them.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGPIPE);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  sigfd_ = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd_ >= 0) Watch(sigfd_, EPOLLIN, kTagSignal);

  out_fd_[0] = kOutFd;
  out_fd_[1] = handed_.err ? kErrFd : -1;
  for (int i = 0; i < 2; ++i) {
    if (out_fd_[i] < 0) continue;
    ::fcntl(out_fd_[i], F_SETFL, ::fcntl(out_fd_[i], F_GETFL) | O_NONBLOCK);
    Watch(out_fd_[i], EPOLLIN, static_cast<uint64_t>(out_fd_[i]));
    ++open_streams_;
  }
  if (handed_.input) {
    input_fd_ = kInputFd;
    ::fcntl(input_fd_, F_SETFL, ::fcntl(input_fd_, F_GETFL) | O_NONBLOCK);
  }
  ::fcntl(kControlFd, F_SETFL, ::fcntl(kControlFd, F_GETFL) | O_NONBLOCK);
  Watch(kControlFd, EPOLLIN, kControlFd);
  Watch(kPidFd, EPOLLIN, kPidFd);

  if (args_.relay_count > 0) {
    // -p: the listeners are bound already; sockets inside come from a
    // helper in the container's network namespace.
    if (!relay_.Start(epfd_, kPidFd, args_.join_userns, args_.relays, args_.relay_count)) {
      static const char kFail[] = "fail 125 -p: no socket helper in the container's network namespace\n";
      (void)WriteAll(kReportFd, kFail, sizeof kFail - 1);
      ::syscall(SYS_pidfd_send_signal, kPidFd, SIGKILL, nullptr, 0);
      ::_exit(125);  // the janitor removes the cgroup
    }
    relaying_ = true;
  }
  // Running: `run -d` returns.
  char ok[300];
  const int n = snprintf(ok, sizeof ok, "ok %s\n", args_.name);
  if (n > 0 && static_cast<size_t>(n) < sizeof ok) (void)WriteAll(kReportFd, ok, static_cast<size_t>(n));
  ::close(kReportFd);

  for (;;) {
    int timeout = -1;
    const long long now = NowMs();
    if (drain_deadline_ >= 0) {
      const long long left = drain_deadline_ - now;
      if (left <= 0) Finish();
      timeout = static_cast<int>(left);
    }
    if (relaying_) {
      if (const long long at = relay_.NextTimerMs(); at >= 0) {
        if (at <= now) {
          relay_.OnTimer(now);
          continue;
        }
        if (timeout < 0 || at - now < timeout) timeout = static_cast<int>(at - now);
      }
    }
    if (control_retry_at_ >= 0) {
      if (control_retry_at_ <= now) {
        control_retry_at_ = -1;
        Watch(kControlFd, EPOLLIN, kControlFd);
        continue;
      }
      if (timeout < 0 || control_retry_at_ - now < timeout) timeout = static_cast<int>(control_retry_at_ - now);
    }
    struct epoll_event events[16];
    const int k = ::epoll_wait(epfd_, events, 16, timeout);
    if (k < 0) {
      if (errno == EINTR) continue;
      // The loop itself failed: the container cannot be watched any more.
      Say("epoll_wait", errno);
      if (!exited_) {
        ::syscall(SYS_pidfd_send_signal, kPidFd, SIGKILL, nullptr, 0);
        OnExit();
      }
      Finish();
    }
    for (int i = 0; i < k; ++i) {
      const uint64_t tag = events[i].data.u64;
      const uint32_t ev = events[i].events;
      if (tag == kTagSignal) {
        OnSignal();
      } else if (tag == static_cast<uint64_t>(kPidFd)) {
        OnExit();
      } else if (tag == static_cast<uint64_t>(kControlFd)) {
        OnControl();
      } else if (tag == static_cast<uint64_t>(kOutFd)) {
        OnOutput(0);
      } else if (tag == static_cast<uint64_t>(kErrFd)) {
        OnOutput(1);
      } else if (tag == static_cast<uint64_t>(kInputFd)) {
        FlushInput();
      } else if (reinterpret_cast<Tagged*>(static_cast<uintptr_t>(tag))->kind != kTagConn) {
        if (relaying_) relay_.OnEvent(reinterpret_cast<Tagged*>(static_cast<uintptr_t>(tag)), ev);
      } else {
        Conn* c = reinterpret_cast<Conn*>(static_cast<uintptr_t>(tag));
        if (c->kind == kAttach) {
          OnAttach(c, ev);
        } else {
          OnConn(c, ev);
        }
      }
    }
    DropDead();
    relay_.Collect();  // after Stop too: what it closed
    if (exited_ && open_streams_ == 0) Finish();
  }
}

void Lean::OnOutput(int stream) {
  const int fd = out_fd_[stream];
  if (fd < 0) return;
  for (int i = 0; i < kMaxReadsPerEvent;) {
    const ssize_t n = ::read(fd, buf_, sizeof buf_);
    if (n > 0) {
      Broadcast(buf_, static_cast<size_t>(n));
      log_.Append(stream, buf_, static_cast<size_t>(n));
      ++i;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    // 0: the end; EIO: a pty whose slave side is closed.
    log_.Flush(stream);
    Unwatch(fd);
    ::close(fd);
    out_fd_[stream] = -1;
    --open_streams_;
    return;
  }
}

void Lean::OnControl() {
  for (;;) {
    const int fd = ::accept4(kControlFd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: the client waits in the backlog, and the
        // level-triggered listener would be reported again at once; it is
        // watched again a little later.
        Unwatch(kControlFd);
        control_retry_at_ = NowMs() + kControlRetryMs;
      }
      return;
    }
    struct ucred cred {};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || (cred.uid != 0 && cred.uid != ::geteuid())) {
      ::close(fd);  // the directory is private; this is a second fence
      continue;
    }
    Conn* c = static_cast<Conn*>(calloc(1, sizeof(Conn)));
    if (c == nullptr) {
      ::close(fd);
      continue;
    }
    c->tag.kind = kTagConn;
    c->fd = fd;
    c->kind = kPending;
    c->next = conns_;
    conns_ = c;
    Watch(fd, EPOLLIN, TagOf(c));
  }
}

void Lean::OnConn(Conn* c, uint32_t events) {
  char buf[256];
  const ssize_t n = ::read(c->fd, buf, sizeof buf - 1);
  if (n > 0) {
    if (c->kind == kWaiter) return;  // a waiter has said all it says
    size_t rest = 0;
    switch (ClassifyRequest(buf, static_cast<size_t>(n), &rest)) {
      case kRequestAttach:
        StartAttach(c, buf + rest, static_cast<size_t>(n) - rest);
        return;
      case kRequestWait:
        c->kind = kWaiter;
        return;
      case kRequestUnknown:
        (void)WriteAll(c->fd, "error unknown request\n", 22);
        break;
    }
  } else if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(events & (EPOLLHUP | EPOLLERR))) {
    return;
  }
  c->dead = true;
}

void Lean::StartAttach(Conn* c, const char* rest, size_t n) {
  c->kind = kAttach;
  c->in = static_cast<unsigned char*>(malloc(kInCap));
  if (c->in == nullptr || !c->out.Reserve(kAttachBuffer) || n > kInCap) {
    c->dead = true;
    return;
  }
  memcpy(c->in, rest, n);
  c->in_len = n;
  if (!ParseFrames(c)) c->dead = true;
}

bool Lean::ParseFrames(Conn* c) {
  size_t at = 0;
  bool ok = true;
  for (;;) {
    char type = 0;
    const unsigned char* payload = nullptr;
    uint32_t len = 0;
    size_t frame = 0;
    const FrameResult r = NextFrame(c->in + at, c->in_len - at, &type, &payload, &len, &frame);
    if (r == kFrameNeedMore) break;
    if (r == kFrameBad) {
      ok = false;
      break;
    }
    unsigned short rows = 0, cols = 0;
    if (type == 'd') {
      Input(payload, len);
    } else if (args_.tty && input_fd_ >= 0 && DecodeResize(payload, len, &rows, &cols) && rows != 0 && cols != 0) {
      // The kernel signals the container's foreground group (SIGWINCH).
      struct winsize ws {};
      ws.ws_row = rows;
      ws.ws_col = cols;
      (void)::ioctl(input_fd_, TIOCSWINSZ, &ws);
    }
    at += frame;
  }
  memmove(c->in, c->in + at, c->in_len - at);
  c->in_len -= at;
  return ok;
}

void Lean::OnAttach(Conn* c, uint32_t events) {
  if (c->dead) return;
  if (events & EPOLLOUT) FlushClient(c);
  if (!c->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
    for (int i = 0; i < 4 && !c->dead; ++i) {
      const ssize_t n = ::read(c->fd, c->in + c->in_len, kInCap - c->in_len);
      if (n > 0) {
        c->in_len += static_cast<size_t>(n);
        if (!ParseFrames(c)) c->dead = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      c->dead = true;  // the client left
    }
  }
}

void Lean::FlushClient(Conn* c) {
  while (!c->dead && !c->out.empty()) {
    const ssize_t n = c->out.WriteTo(c->fd);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    c->dead = true;
  }
  if (!c->dead) Modify(c->fd, c->out.empty() ? EPOLLIN : EPOLLIN | EPOLLOUT, TagOf(c));
}

void Lean::Broadcast(const char* data, size_t n) {
  for (Conn* c = conns_; c != nullptr; c = c->next) {
    if (c->kind != kAttach || c->dead) continue;
    if (c->out.space() < n) {
      // Too slow: disconnected, so that neither the log nor the others wait.
      c->dead = true;
      continue;
    }
    c->out.Append(data, n);
    FlushClient(c);
  }
}

void Lean::DropDead() {
  for (Conn** p = &conns_; *p != nullptr;) {
    Conn* c = *p;
    if (!c->dead) {
      p = &c->next;
      continue;
    }
    *p = c->next;
    Unwatch(c->fd);
    ::close(c->fd);
    c->out.Free();
    free(c->in);
    free(c);
  }
}

void Lean::Input(const unsigned char* data, size_t n) {
  if (input_fd_ < 0) return;  // neither -t nor -i: nobody reads it
  if (!input_queue_.Reserve(kAttachBuffer)) return;
  // Whatever does not fit behind what already waits is dropped.
  input_queue_.Append(reinterpret_cast<const char*>(data), n);
  FlushInput();
}

void Lean::FlushInput() {
  while (input_fd_ >= 0 && !input_queue_.empty()) {
    const ssize_t n = input_queue_.WriteTo(input_fd_);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    // EPIPE (stdin's reader gone), EIO (the pty's slave side gone): no more input.
    input_queue_.Clear();
    if (watching_input_) Unwatch(input_fd_);
    watching_input_ = false;
    input_fd_ = -1;
    return;
  }
  if (input_fd_ < 0) return;
  if (!input_queue_.empty() && !watching_input_) {
    Watch(input_fd_, EPOLLOUT, kInputFd);
    watching_input_ = true;
  } else if (input_queue_.empty() && watching_input_) {
    Unwatch(input_fd_);
    watching_input_ = false;
  }
}

void Lean::OnSignal() {
  struct signalfd_siginfo info;
  while (::read(sigfd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    const int sig = static_cast<int>(info.ssi_signo);
    if ((sig == SIGTERM || sig == SIGINT) && !exited_) {
      ::syscall(SYS_pidfd_send_signal, kPidFd, sig, nullptr, 0);
    }
  }
}

void Lean::OnExit() {
  if (exited_) return;
  exited_ = true;
  Unwatch(kPidFd);
  if (relaying_) {
    relay_.Stop();
    relaying_ = false;
  }
  siginfo_t si {};
  int r;
  do {
    r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(kPidFd), &si, WEXITED);
  } while (r != 0 && errno == EINTR);
  if (r != 0) {
    Say("waitid(container)", errno);
  } else if (si.si_code == CLD_EXITED) {
    exit_code_ = si.si_status;
  } else {
    signal_ = si.si_status;
    exit_code_ = 128 + signal_;
  }
  bool from_init = false;
  if (handed_.init_status) {
    // minipod-init's own line: the command's status, not the init's.
    ::fcntl(kInitStatusFd, F_SETFL, O_NONBLOCK);
    char text[260];
    size_t len = 0;
    for (;;) {
      const ssize_t n = ::read(kInitStatusFd, text + len, sizeof text - len);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      len += static_cast<size_t>(n);
      if (len > 256) break;
    }
    bool signaled = false;
    int value = 0;
    if (ParseInitStatus(text, len, &signaled, &value)) {
      signal_ = signaled ? value : signal_;
      exit_code_ = signaled ? 128 + value : value;
    }
    from_init = true;
    ::close(kInitStatusFd);
  }
  if (args_.oom_file != nullptr) {
    char text[1024];
    ssize_t len = 0;
    const int fd = ::open(args_.oom_file, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      len = ::read(fd, text, sizeof text - 1);
      ::close(fd);
    }
    long long kills = 0, under = 0;
    bool killed = false;
    if (len > 0) {
      if (KeyedValue(text, static_cast<size_t>(len), "oom_kill", &kills)) {
        killed = kills > 0;
      } else {
        // v1 before 4.13: only whether it is under OOM now.
        killed = args_.oom_v1 && KeyedValue(text, static_cast<size_t>(len), "under_oom", &under) && under > 0;
        kills = 0;
      }
    }
    if (killed) {
      oom_ = true;
      const bool command_killed = signal_ == SIGKILL || (args_.init && !from_init && exit_code_ == 128 + SIGKILL);
      DescribeOom(args_.memory, kills, command_killed, oom_line_, sizeof oom_line_);
    }
  }
  // Everything left in the cgroup killed, the cgroup removed: the pipes
  // then close. Then the janitor has nothing to do.
  const bool removed = KillAndRemoveCgroups(args_.cgroups, args_.cgroup_count, 5000);
  if (handed_.janitor) {
    if (removed) (void)!::send(kJanitorFd, "D", 1, MSG_NOSIGNAL);
    ::close(kJanitorFd);  // without "D": the janitor removes what is left
    if (args_.janitor_pid > 0 && removed) {
      // Our child (forked before the exec): waited for through a pidfd,
      // bounded in case it is stopped.
      const int pfd = static_cast<int>(::syscall(SYS_pidfd_open, args_.janitor_pid, 0));
      if (pfd >= 0) {
        struct pollfd p = {pfd, POLLIN, 0};
        while (::poll(&p, 1, 2000) < 0 && errno == EINTR) {
        }
        ::close(pfd);
      }
      (void)::waitpid(args_.janitor_pid, nullptr, WNOHANG);
    }
  }
  ::close(kPidFd);
  drain_deadline_ = NowMs() + kDrainMs;
}

void Lean::SaveState() {
  struct stat st {};
  if (!handed_.tmpl || ::fstat(kTemplateFd, &st) != 0 || st.st_size <= 0 || static_cast<size_t>(st.st_size) > kMaxStateBytes) return;
  const size_t len = static_cast<size_t>(st.st_size);
  char* tmpl = static_cast<char*>(malloc(len));
  const size_t out_cap = len + 256;
  char* out = static_cast<char*>(malloc(out_cap));
  if (tmpl == nullptr || out == nullptr) return;
  size_t got = 0;
  while (got < len) {
    const ssize_t n = ::pread(kTemplateFd, tmpl + got, len - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    got += static_cast<size_t>(n);
  }
  char finished[kCriTimestampLen + 1];
  FormatCriTimestamp(CriWriter::Realtime(), finished);
  const long n = FillStateTemplate(tmpl, len, finished, exit_code_, signal_, oom_, out, out_cap);
  if (n < 0) {
    Say("state template", EINVAL);
    return;
  }
  char tmp[64];
  snprintf(tmp, sizeof tmp, "state.json.tmp-%d", static_cast<int>(::getpid()));
  const int fd = ::openat(kStateDirFd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    Say("create(state.json.tmp)", errno);
    return;
  }
  const bool ok = WriteAll(fd, out, static_cast<size_t>(n));
  ::close(fd);
  if (!ok || ::renameat(kStateDirFd, tmp, kStateDirFd, "state.json") != 0) {
    Say("save(state.json)", errno);
    ::unlinkat(kStateDirFd, tmp, 0);
  }
}

// --rm: the state directory's files, then the directory; never into a
// mount or a subdirectory (a state directory holds neither).
void Lean::RemoveState() {
  const char* name = args_.name;
  if (strchr(name, '/') != nullptr || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return;
  // struct statx by hand (musl 1.2.3 has none): stx_attributes is the
  // u64 at offset 8 of its 256 bytes.
  uint64_t sx[32] = {};
  if (::syscall(SYS_statx, kStateDirFd, "", AT_EMPTY_PATH, 0, sx) == 0 && (sx[1] & STATX_ATTR_MOUNT_ROOT) != 0) {
    Say("--rm: the state directory is a mount point", EBUSY);
    return;
  }
  const int fd = ::openat(kStateDirFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* d = fd >= 0 ? ::fdopendir(fd) : nullptr;
  if (d == nullptr) {
    if (fd >= 0) ::close(fd);
    return;
  }
  while (struct dirent* e = ::readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (::unlinkat(kStateDirFd, e->d_name, 0) != 0 && errno != ENOENT) Say("--rm: unlink", errno);
  }
  ::closedir(d);
  if (::unlinkat(kKindDirFd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) Say("--rm: rmdir", errno);
}

void Lean::Finish() {
  log_.Flush(0);
  if (oom_line_[0] != '\0') {
    char line[340];
    const int n = snprintf(line, sizeof line, "minipod: %s\n", oom_line_);
    if (n > 0) log_.Append(1, line, static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1);
  }
  log_.Flush(1);
  if (args_.auto_remove) {
    RemoveState();
  } else {
    SaveState();
    ::unlinkat(kStateDirFd, "ctl.sock", 0);
  }
  char exit_line[32];
  const int len = snprintf(exit_line, sizeof exit_line, "exit %d\n", exit_code_);
  for (Conn* c = conns_; c != nullptr; c = c->next) {
    if (c->kind == kWaiter && !c->dead) (void)WriteAll(c->fd, exit_line, static_cast<size_t>(len));
  }
  // The attach clients' last output, for a bounded time; then they see the
  // end (the descriptors close as we exit).
  const long long deadline = NowMs() + kAttachFlushMs;
  for (;;) {
    struct pollfd fds[64];
    nfds_t count = 0;
    for (Conn* c = conns_; c != nullptr && count < 64; c = c->next) {
      if (c->kind == kAttach && !c->dead && !c->out.empty()) fds[count++] = {c->fd, POLLOUT, 0};
    }
    const long long left = deadline - NowMs();
    if (count == 0 || left <= 0) break;
    if (::poll(fds, count, static_cast<int>(left)) < 0 && errno != EINTR) break;
    for (Conn* c = conns_; c != nullptr; c = c->next) {
      if (c->kind == kAttach && !c->dead) {
        while (!c->out.empty()) {
          const ssize_t n = c->out.WriteTo(c->fd);
          if (n > 0) continue;
          if (n < 0 && errno == EINTR) continue;
          if (n < 0 && errno != EAGAIN) c->dead = true;
          break;
        }
      }
    }
  }
  for (Conn* c = conns_; c != nullptr; c = c->next) {
    if (c->kind == kAttach) ::shutdown(c->fd, SHUT_RDWR);
  }
  ::_exit(0);
}

}  // namespace
}  // namespace monitor

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], monitor::kJanitorMode) == 0) return monitor::JanitorMain(argc - 2, argv + 2);
  monitor::MonitorArgs args;
  struct stat st {};
  if (argc < 2 || strcmp(argv[1], monitor::kMonitorMode) != 0 ||
      !monitor::ParseMonitorArgs(argc - 2, argv + 2, &args) || ::fstat(monitor::kControlFd, &st) != 0 ||
      !S_ISSOCK(st.st_mode)) {
    static const char kMsg[] = "minipod-monitor: an internal program of minipod run -d, not for direct use\n";
    (void)!::write(2, kMsg, sizeof kMsg - 1);
    return 2;
  }
  // Whatever else the caller of `run -d` left open (not CLOEXEC) is not
  // ours to keep alive for the container's lifetime.
  ::syscall(SYS_close_range, monitor::kFirstListenerFd + args.relay_count, ~0U, 0U);
  monitor::Handed handed;
  handed.err = !args.tty && monitor::IsOpen(monitor::kErrFd);
  handed.input = monitor::IsOpen(monitor::kInputFd);
  handed.init_status = monitor::IsOpen(monitor::kInitStatusFd);
  handed.janitor = monitor::IsOpen(monitor::kJanitorFd);
  handed.tmpl = monitor::IsOpen(monitor::kTemplateFd);
  // Nothing handed over reaches anything we might start.
  for (int fd = 3; fd < monitor::kFirstListenerFd + args.relay_count; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  static monitor::Lean lean(args, handed);
  lean.Run();
}
