// The -p relays of minipod-monitor (see relay.h for the behaviour and its
// reasons). Each descriptor is registered in epoll only while it waits for
// something (a TCP socket's errors count while it can still be written to),
// so a hung-up socket cannot make the level-triggered loop spin.
#include "monitor/relay.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "monitor/handover.h"

namespace monitor {
namespace {

constexpr int kAcceptsPerEvent = 64;
constexpr int kDatagramsPerEvent = 32;
constexpr int kTcpReadsPerEvent = 4;
constexpr long long kEmfileRetryMs = 100;
constexpr size_t kTcpBuffer = 64 * 1024;
constexpr size_t kMaxDatagram = 65536;
constexpr size_t kMaxTcp = 1024, kMaxUdp = 1024;
constexpr long long kUdpIdleMs = 60000;
constexpr int kHelperTimeoutMs = 5000;
constexpr int kAnswerTimeoutMs = 2000;

struct HelperRequest {
  uint32_t seq;
  int32_t domain, type, protocol;
};
struct HelperAnswer {
  uint32_t seq;
  int32_t err;
};

long long NowMs() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void SetInt(int fd, int level, int name, int value) { ::setsockopt(fd, level, name, &value, sizeof value); }

// Closed with a reset (RST) rather than a FIN: how a relay says the other
// side failed.
void ResetAndClose(int fd) {
  if (fd < 0) return;
  struct linger l = {1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

sockaddr_in ContainerLoopback(uint16_t port) {
  sockaddr_in a {};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

void SendAnswer(int sock, uint32_t seq, int err, int fd) {
  HelperAnswer a{seq, err};
  struct iovec iov = {&a, sizeof a};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  while (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

// The helper: in the container's network (and user) namespace, one socket
// per request, handed back over SCM_RIGHTS. Only SIGKILL ends it (ours, or
// as the parent-death signal).
[[noreturn]] void HelperMain(int sock, int pidfd, int parent, bool join_userns) {
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_BLOCK, &all, nullptr);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) ::_exit(1);
  if (::getppid() != parent) ::_exit(1);  // the monitor died before the line above
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // Nothing but the socket and the pidfd stays open here.
  for (int fd = 0; fd < 1024; ++fd) {
    if (fd != sock && fd != pidfd) ::close(fd);
  }
  const int flags = CLONE_NEWNET | (join_userns ? CLONE_NEWUSER : 0);
  const int err = ::setns(pidfd, flags) == 0 ? 0 : errno;
  ::close(pidfd);
  SendAnswer(sock, 0, err, -1);
  if (err != 0) ::_exit(1);
  for (;;) {
    HelperRequest req{};
    const ssize_t n = ::recv(sock, &req, sizeof req, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(0);  // the monitor closed its end (or is gone)
    if (n != static_cast<ssize_t>(sizeof req)) {
      SendAnswer(sock, req.seq, EINVAL, -1);
      continue;
    }
    const int fd = ::socket(req.domain, req.type | SOCK_CLOEXEC, req.protocol);
    SendAnswer(sock, req.seq, fd < 0 ? errno : 0, fd);
    if (fd >= 0) ::close(fd);
  }
}

bool WaitReadable(int fd, int timeout_ms) {
  const long long deadline = NowMs() + timeout_ms;
  for (;;) {
    const long long left = deadline - NowMs();
    struct pollfd p = {fd, POLLIN, 0};
    const int r = ::poll(&p, 1, left > 0 ? static_cast<int>(left) : 0);
    if (r > 0) return true;
    if (r == 0 || errno != EINTR) return false;
  }
}

// One answer and the socket riding on it; errno-style result.
int ReceiveAnswer(int sock, HelperAnswer* a, int* fd) {
  struct iovec iov = {a, sizeof *a};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  *fd = -1;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      memcpy(fd, CMSG_DATA(c), sizeof *fd);
    }
  }
  if (n == 0) return EPIPE;  // the helper is gone
  if ((msg.msg_flags & MSG_CTRUNC) != 0) return EMFILE;  // no room for it here
  if (n != static_cast<ssize_t>(sizeof *a)) return EPROTO;
  return 0;
}

void Say(const char* what, int err) {
  char line[200];
  const int n = snprintf(line, sizeof line, "minipod-monitor[%d]: -p: %s: %s\n", static_cast<int>(::getpid()), what,
                         strerror(err));
  if (n > 0) (void)!::write(2, line, static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1);
}

}  // namespace

struct Relay::Listener {
  Tagged tag{kTagListener};
  int fd = -1;
  RelaySpec spec;
  bool registered = false;
};

// Bytes from one socket to the other that the destination has not taken.
struct Relay::Direction {
  char* pending = nullptr;
  uint32_t off = 0, len = 0;
  bool eof = false;      // the source said EOF
  bool shut_wr = false;  // and the destination was shut down for writing
};

struct Relay::Side {
  Tagged tag;
  TcpConn* conn;
};

struct Relay::TcpConn {
  Side client_side{{kTagTcpClient}, nullptr};
  Side inner_side{{kTagTcpInner}, nullptr};
  int client = -1, inner = -1;
  bool connecting = true;
  Direction up;    // client -> inner
  Direction down;  // inner -> client
  uint32_t client_events = 0, inner_events = 0;  // what epoll watches; 0: not registered
  bool closed = false;
  TcpConn *prev = nullptr, *next = nullptr;
};

struct Relay::UdpSession {
  Tagged tag{kTagUdp};
  Listener* listener = nullptr;
  sockaddr_storage peer {};
  socklen_t peer_len = 0;
  bool have_local = false;
  in_pktinfo local4 {};
  in6_pktinfo local6 {};
  int fd = -1;
  long long last_ms = 0;
  bool closed = false;
  UdpSession *prev = nullptr, *next = nullptr;
};

bool Relay::Start(int epfd, int pidfd, bool join_userns, const RelaySpec* specs, int count) {
  epfd_ = epfd;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    Say("socketpair", errno);
    return false;
  }
  const int parent = static_cast<int>(::getpid());
  const pid_t pid = ::fork();
  if (pid < 0) {
    Say("fork", errno);
    ::close(sv[0]);
    ::close(sv[1]);
    return false;
  }
  if (pid == 0) {
    ::close(sv[0]);
    HelperMain(sv[1], pidfd, parent, join_userns);
  }
  ::close(sv[1]);
  helper_sock_ = sv[0];
  helper_pid_ = pid;
  HelperAnswer ready{};
  int none = -1;
  if (!WaitReadable(helper_sock_, kHelperTimeoutMs) || ReceiveAnswer(helper_sock_, &ready, &none) != 0 ||
      ready.seq != 0 || ready.err != 0) {
    Say("the socket helper could not join the container's network namespace", ready.err != 0 ? ready.err : EPROTO);
    if (none >= 0) ::close(none);
    Stop();
    return false;
  }
  scratch_size_ = kMaxDatagram > kTcpBuffer ? kMaxDatagram : kTcpBuffer;
  scratch_ = static_cast<char*>(malloc(scratch_size_));
  listeners_ = static_cast<Listener*>(calloc(static_cast<size_t>(count), sizeof(Listener)));
  if (scratch_ == nullptr || listeners_ == nullptr) {
    Stop();
    return false;
  }
  listener_count_ = count;
  for (int i = 0; i < count; ++i) {
    Listener* l = &listeners_[i];
    l->tag.kind = kTagListener;
    l->fd = kFirstListenerFd + i;
    l->spec = specs[i];
    WatchListener(l, true);
  }
  return true;
}

int Relay::MakeSocket(int type, int* err) {
  *err = EPIPE;
  if (helper_sock_ < 0) return -1;
  const HelperRequest req{++seq_, AF_INET, type, 0};
  ssize_t n;
  do {
    n = ::send(helper_sock_, &req, sizeof req, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof req)) return -1;
  for (;;) {
    if (!WaitReadable(helper_sock_, kAnswerTimeoutMs)) {
      *err = ETIMEDOUT;
      return -1;
    }
    HelperAnswer a{};
    int fd = -1;
    const int r = ReceiveAnswer(helper_sock_, &a, &fd);
    if (r != 0) {
      if (fd >= 0) ::close(fd);
      *err = r;
      if (r == EPIPE) {  // the helper is gone: no socket inside any more
        ::close(helper_sock_);
        helper_sock_ = -1;
      }
      return -1;
    }
    if (a.seq != req.seq) {  // an answer to a request that timed out
      if (fd >= 0) ::close(fd);
      continue;
    }
    if (a.err != 0 || fd < 0) {
      if (fd >= 0) ::close(fd);
      *err = a.err != 0 ? a.err : EPROTO;
      return -1;
    }
    return fd;
  }
}

void Relay::WatchListener(Listener* l, bool on) {
  if (on == l->registered) return;
  if (on) {
    struct epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.ptr = &l->tag;
    l->registered = ::epoll_ctl(epfd_, EPOLL_CTL_ADD, l->fd, &ev) == 0;
  } else {
    (void)::epoll_ctl(epfd_, EPOLL_CTL_DEL, l->fd, nullptr);
    l->registered = false;
  }
}

void Relay::UpdateTcpListeners() {
  const bool on = !accept_paused_ && tcp_count_ < kMaxTcp;
  for (int i = 0; i < listener_count_; ++i) {
    if (listeners_[i].spec.tcp) WatchListener(&listeners_[i], on);
  }
}

// Out of descriptors: the pending connections stay in the backlog, and
// accepting again at once would spin; OnTimer resumes.
void Relay::PauseAccepting() {
  if (accept_paused_) return;
  accept_paused_ = true;
  resume_at_ = NowMs() + kEmfileRetryMs;
}

void Relay::OnAccept(Listener* l) {
  for (int i = 0; i < kAcceptsPerEvent && !accept_paused_; ++i) {
    if (tcp_count_ >= kMaxTcp) break;
    if (spare_ < 0) {
      // The socket inside first: a client is accepted only when both of
      // its descriptors can be had.
      int err = 0;
      spare_ = MakeSocket(SOCK_STREAM | SOCK_NONBLOCK, &err);
      if (spare_ < 0) {
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
          PauseAccepting();
          break;
        }
        // No socket inside at all: the waiting clients are reset rather
        // than left hanging.
        const int fd = ::accept4(l->fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) break;
        ResetAndClose(fd);
        continue;
      }
    }
    const int fd = ::accept4(l->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        PauseAccepting();
        break;
      }
      if (errno == EAGAIN) break;
      continue;  // ECONNABORTED, EPROTO, EINTR: that one client only
    }
    const int inner = spare_;
    spare_ = -1;
    StartConnection(l, fd, inner);
  }
  UpdateTcpListeners();
}

void Relay::StartConnection(Listener* l, int client, int inner) {
  TcpConn* c = static_cast<TcpConn*>(calloc(1, sizeof(TcpConn)));
  if (c == nullptr) {
    ResetAndClose(client);
    ::close(inner);
    return;
  }
  c->client_side.tag.kind = kTagTcpClient;
  c->client_side.conn = c;
  c->inner_side.tag.kind = kTagTcpInner;
  c->inner_side.conn = c;
  c->client = client;
  c->inner = inner;
  c->connecting = true;
  SetInt(client, IPPROTO_TCP, TCP_NODELAY, 1);
  SetInt(inner, IPPROTO_TCP, TCP_NODELAY, 1);
  const sockaddr_in to = ContainerLoopback(l->spec.container_port);
  if (::connect(inner, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) {
    c->connecting = false;
  } else if (errno != EINPROGRESS) {
    ResetAndClose(client);
    ::close(inner);
    free(c);
    return;
  }
  c->next = tcp_;
  if (tcp_ != nullptr) tcp_->prev = c;
  tcp_ = c;
  ++tcp_count_;
  if (!c->connecting) {
    Progress(c);
  } else {
    Update(c);
  }
}

// Writes what waits in d to `to`, then reads from `from` and writes on
// while both sides keep up. False on an error or reset of either socket.
bool Relay::Pump(int from, int to, Direction* d) {
  if (d->len > 0) {
    const ssize_t w = ::send(to, d->pending + d->off, d->len, MSG_NOSIGNAL);
    if (w < 0) return errno == EAGAIN || errno == EINTR;
    d->off += static_cast<uint32_t>(w);
    d->len -= static_cast<uint32_t>(w);
    if (d->len > 0) return true;
    free(d->pending);  // an idle connection keeps no buffer
    d->pending = nullptr;
    d->off = 0;
  }
  for (int i = 0; i < kTcpReadsPerEvent && !d->eof; ++i) {
    const ssize_t n = ::recv(from, scratch_, kTcpBuffer, 0);
    if (n == 0) {
      d->eof = true;
      break;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return false;
    }
    ssize_t w = ::send(to, scratch_, static_cast<size_t>(n), MSG_NOSIGNAL);
    if (w < 0) {
      if (errno != EAGAIN && errno != EINTR) return false;
      w = 0;
    }
    if (w < n) {
      d->len = static_cast<uint32_t>(n - w);
      d->pending = static_cast<char*>(malloc(d->len));
      if (d->pending == nullptr) return false;
      memcpy(d->pending, scratch_ + w, d->len);
      break;  // stop reading until the destination takes it
    }
    if (n < static_cast<ssize_t>(kTcpBuffer)) break;  // drained for now
  }
  if (d->eof && d->len == 0 && !d->shut_wr) {
    if (::shutdown(to, SHUT_WR) != 0 && errno != ENOTCONN) return false;
    d->shut_wr = true;
  }
  return true;
}

void Relay::Progress(TcpConn* c) {
  if (!Pump(c->client, c->inner, &c->up) || !Pump(c->inner, c->client, &c->down)) {
    Close(c, /*reset=*/true);
    return;
  }
  Update(c);
}

void Relay::Update(TcpConn* c) {
  if (c->up.shut_wr && c->down.shut_wr) {
    Close(c, /*reset=*/false);
    return;
  }
  uint32_t client_events = 0, inner_events = 0;
  if (c->connecting) {
    inner_events = EPOLLOUT;
  } else {
    if (!c->up.eof && c->up.len == 0) client_events |= EPOLLIN;
    if (c->up.len > 0) inner_events |= EPOLLOUT;
    if (!c->down.eof && c->down.len == 0) inner_events |= EPOLLIN;
    if (c->down.len > 0) client_events |= EPOLLOUT;
  }
  // A socket that may still be written to stays watched for its errors
  // (EPOLLERR, with the EPOLLHUP epoll adds) even when nothing else is
  // wanted from it (its EOF came, or its bytes wait for the other side):
  // its reset must reach the other side now, not when next written to.
  // Once it is shut down for writing too it is left out, or a hung-up
  // socket would be reported again and again.
  if (client_events == 0 && !c->down.shut_wr) client_events = EPOLLERR;
  if (inner_events == 0 && !c->up.shut_wr) inner_events = EPOLLERR;
  if (!WatchSide(c, true, client_events) || !WatchSide(c, false, inner_events)) Close(c, /*reset=*/true);
}

bool Relay::WatchSide(TcpConn* c, bool client, uint32_t wanted) {
  uint32_t& current = client ? c->client_events : c->inner_events;
  const int fd = client ? c->client : c->inner;
  if (current == wanted) return true;
  int r = 0;
  if (wanted == 0) {
    (void)::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  } else {
    struct epoll_event ev {};
    ev.events = wanted;
    ev.data.ptr = client ? &c->client_side.tag : &c->inner_side.tag;
    r = ::epoll_ctl(epfd_, current == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
  }
  current = r == 0 ? wanted : 0;
  return r == 0;
}

void Relay::OnConnEvent(TcpConn* c, bool client, uint32_t events) {
  if (!client && c->connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(c->inner, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err == 0 && (events & EPOLLHUP) == 0) {
      if ((events & EPOLLOUT) == 0) return;  // not yet
      c->connecting = false;
      Progress(c);
      return;
    }
    Close(c, /*reset=*/true);  // nothing listens on the port inside
    return;
  }
  if ((events & EPOLLERR) != 0) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(client ? c->client : c->inner, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      Close(c, /*reset=*/true);
      return;
    }
  }
  Progress(c);
}

void Relay::Close(TcpConn* c, bool reset) {
  (void)::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->client, nullptr);
  (void)::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->inner, nullptr);
  if (reset) {
    ResetAndClose(c->client);
    ResetAndClose(c->inner);
  } else {
    ::close(c->client);
    ::close(c->inner);
  }
  free(c->up.pending);
  free(c->down.pending);
  if (c->prev != nullptr) c->prev->next = c->next;
  if (c->next != nullptr) c->next->prev = c->prev;
  if (tcp_ == c) tcp_ = c->next;
  c->closed = true;
  c->prev = nullptr;
  c->next = closed_tcp_;
  closed_tcp_ = c;
  --tcp_count_;
  UpdateTcpListeners();
}

void Relay::OnDatagrams(Listener* l) {
  for (int i = 0; i < kDatagramsPerEvent; ++i) {
    sockaddr_storage peer {};
    struct iovec iov = {scratch_, scratch_size_};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo))];
    struct msghdr msg {};
    msg.msg_name = &peer;
    msg.msg_namelen = sizeof peer;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(l->fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN) return;
      continue;  // an ICMP error queued by an earlier reply, EINTR
    }
    UdpSession* s = FindOrOpenSession(l, &peer, msg.msg_namelen, &msg);
    if (s == nullptr) continue;  // dropped: the bound, or no socket inside
    s->last_ms = NowMs();
    (void)::send(s->fd, scratch_, static_cast<size_t>(n), MSG_NOSIGNAL);
  }
}

Relay::UdpSession* Relay::FindOrOpenSession(Listener* l, const void* peer, unsigned peer_len, void* msg_ptr) {
  struct msghdr* msg = static_cast<struct msghdr*>(msg_ptr);
  in_pktinfo local4 {};
  in6_pktinfo local6 {};
  bool have_local = false;
  if (l->spec.wildcard) {
    for (struct cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        memcpy(&local4, CMSG_DATA(c), sizeof local4);
        local4.ipi_spec_dst = local4.ipi_addr;  // reply from the address the client used
        local4.ipi_ifindex = 0;
        have_local = true;
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        memcpy(&local6, CMSG_DATA(c), sizeof local6);
        local6.ipi6_ifindex = 0;
        have_local = true;
      }
    }
  }
  if (peer_len > sizeof(sockaddr_storage)) peer_len = sizeof(sockaddr_storage);
  // The key: which listener, who sent, and to which of our addresses.
  for (UdpSession* s = udp_; s != nullptr; s = s->next) {
    if (s->listener != l || s->peer_len != peer_len || memcmp(&s->peer, peer, peer_len) != 0 ||
        s->have_local != have_local) {
      continue;
    }
    if (have_local && (l->spec.family == AF_INET
                           ? memcmp(&s->local4.ipi_spec_dst, &local4.ipi_spec_dst, sizeof local4.ipi_spec_dst) != 0
                           : memcmp(&s->local6.ipi6_addr, &local6.ipi6_addr, sizeof local6.ipi6_addr) != 0)) {
      continue;
    }
    return s;
  }
  if (udp_count_ >= kMaxUdp) return nullptr;
  int err = 0;
  const int fd = MakeSocket(SOCK_DGRAM | SOCK_NONBLOCK, &err);
  if (fd < 0) return nullptr;
  const sockaddr_in to = ContainerLoopback(l->spec.container_port);
  UdpSession* s = static_cast<UdpSession*>(calloc(1, sizeof(UdpSession)));
  if (s == nullptr || ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    free(s);
    ::close(fd);
    return nullptr;
  }
  s->tag.kind = kTagUdp;
  s->listener = l;
  memcpy(&s->peer, peer, peer_len);
  s->peer_len = peer_len;
  s->have_local = have_local;
  s->local4 = local4;
  s->local6 = local6;
  s->fd = fd;
  s->last_ms = NowMs();
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.ptr = &s->tag;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    ::close(fd);
    free(s);
    return nullptr;
  }
  s->next = udp_;
  if (udp_ != nullptr) udp_->prev = s;
  udp_ = s;
  ++udp_count_;
  return s;
}

void Relay::OnReplies(UdpSession* s) {
  for (int i = 0; i < kDatagramsPerEvent; ++i) {
    const ssize_t n = ::recv(s->fd, scratch_, scratch_size_, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN) return;
      // ECONNREFUSED: nothing listens inside (yet); the error is consumed,
      // the client may retry.
      if (errno == ECONNREFUSED || errno == EINTR) continue;
      CloseSession(s);
      return;
    }
    s->last_ms = NowMs();
    struct iovec iov = {scratch_, static_cast<size_t>(n)};
    struct msghdr msg {};
    msg.msg_name = &s->peer;
    msg.msg_namelen = s->peer_len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
    if (s->have_local) {
      msg.msg_control = control;
      struct cmsghdr* c = reinterpret_cast<struct cmsghdr*>(control);
      if (s->listener->spec.family == AF_INET) {
        msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
        memcpy(CMSG_DATA(c), &s->local4, sizeof s->local4);
      } else {
        msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
        memcpy(CMSG_DATA(c), &s->local6, sizeof s->local6);
      }
    }
    (void)::sendmsg(s->listener->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  }
}

void Relay::CloseSession(UdpSession* s) {
  (void)::epoll_ctl(epfd_, EPOLL_CTL_DEL, s->fd, nullptr);
  ::close(s->fd);
  if (s->prev != nullptr) s->prev->next = s->next;
  if (s->next != nullptr) s->next->prev = s->prev;
  if (udp_ == s) udp_ = s->next;
  s->closed = true;
  s->prev = nullptr;
  s->next = closed_udp_;
  closed_udp_ = s;
  --udp_count_;
}

void Relay::OnEvent(Tagged* tag, uint32_t events) {
  switch (tag->kind) {
    case kTagListener: {
      Listener* l = reinterpret_cast<Listener*>(tag);
      if (l->spec.tcp) {
        OnAccept(l);
      } else {
        OnDatagrams(l);
      }
      break;
    }
    case kTagTcpClient:
    case kTagTcpInner: {
      Side* side = reinterpret_cast<Side*>(tag);
      if (!side->conn->closed) OnConnEvent(side->conn, tag->kind == kTagTcpClient, events);
      break;
    }
    case kTagUdp: {
      UdpSession* s = reinterpret_cast<UdpSession*>(tag);
      if (!s->closed) OnReplies(s);
      break;
    }
    default:
      break;
  }
}

long long Relay::NextTimerMs() const {
  long long next = accept_paused_ ? resume_at_ : -1;
  for (const UdpSession* s = udp_; s != nullptr; s = s->next) {
    const long long at = s->last_ms + kUdpIdleMs;
    if (next < 0 || at < next) next = at;
  }
  return next;
}

void Relay::OnTimer(long long now_ms) {
  if (accept_paused_ && now_ms >= resume_at_) {
    accept_paused_ = false;
    resume_at_ = -1;
    UpdateTcpListeners();
  }
  for (UdpSession* s = udp_; s != nullptr;) {
    UdpSession* next = s->next;
    if (now_ms - s->last_ms >= kUdpIdleMs) CloseSession(s);
    s = next;
  }
}

void Relay::Collect() {
  while (closed_tcp_ != nullptr) {
    TcpConn* next = closed_tcp_->next;
    free(closed_tcp_);
    closed_tcp_ = next;
  }
  while (closed_udp_ != nullptr) {
    UdpSession* next = closed_udp_->next;
    free(closed_udp_);
    closed_udp_ = next;
  }
}

void Relay::Stop() {
  while (tcp_ != nullptr) Close(tcp_, /*reset=*/false);
  while (udp_ != nullptr) CloseSession(udp_);
  for (int i = 0; i < listener_count_; ++i) {
    WatchListener(&listeners_[i], false);
    ::close(listeners_[i].fd);
  }
  listener_count_ = 0;
  if (spare_ >= 0) ::close(spare_);
  spare_ = -1;
  if (helper_sock_ >= 0) ::close(helper_sock_);
  helper_sock_ = -1;
  if (helper_pid_ > 0) {
    // Our child: its pid cannot be reused before this wait.
    ::kill(helper_pid_, SIGKILL);
    while (::waitpid(helper_pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    helper_pid_ = -1;
  }
}

}  // namespace monitor
