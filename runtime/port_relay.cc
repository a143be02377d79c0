// The relays: listeners, TCP connections (two sockets, two directions) and
// UDP sessions, each registered in the event loop only while it waits for
// something (a descriptor with nothing to wait for is taken out, so a
// hung-up socket cannot make the level-triggered loop spin). A handler may
// end its own connection; it then returns at once and touches nothing.
#include "runtime/port_relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"

namespace runtime {
namespace {

constexpr int kAcceptsPerEvent = 64;
constexpr int kDatagramsPerEvent = 32;
constexpr int kTcpReadsPerEvent = 4;
constexpr int64_t kEmfileRetryMs = 100;
constexpr size_t kMaxDatagram = 65536;

void SetInt(int fd, int level, int name, int value) { ::setsockopt(fd, level, name, &value, sizeof value); }

// Closes fd with a reset (RST) rather than a FIN: how a relay says the
// other side failed.
void ResetAndClose(common::UniqueFd& fd) {
  if (!fd) return;
  struct linger l = {1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  fd.Reset();
}

sockaddr_in ContainerLoopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

bool IsWildcard(const PortMapping& m) {
  const size_t n = m.family == AF_INET6 ? 16 : 4;
  return std::all_of(m.host_addr.begin(), m.host_addr.begin() + n, [](uint8_t b) { return b == 0; });
}

}  // namespace

struct PortRelay::Impl {
  struct Listener {
    PortMapping mapping;
    common::UniqueFd fd;
    bool wildcard = false;  // UDP: replies need the address the client used
    bool registered = false;
  };

  // Bytes from one socket to the other that the destination has not taken.
  struct Direction {
    std::unique_ptr<char[]> pending;
    uint32_t off = 0, len = 0;
    bool eof = false;       // the source said EOF
    bool shut_wr = false;   // and the destination was shut down for writing
  };

  struct TcpConn {
    common::UniqueFd client, inner;
    bool connecting = true;
    Direction up;    // client -> inner
    Direction down;  // inner -> client
    uint32_t client_events = 0, inner_events = 0;  // what the loop watches; 0: not in the loop
  };

  struct UdpSession {
    Listener* listener = nullptr;
    std::string key;
    sockaddr_storage peer{};
    socklen_t peer_len = 0;
    // The host address the client sent to (wildcard listeners): replies
    // leave from it.
    bool have_local = false;
    in_pktinfo local4{};
    in6_pktinfo local6{};
    common::UniqueFd fd;
    int64_t last_ms = 0;
    EventLoop::TimerId timer = 0;
  };

  Limits limits;
  std::vector<Listener> listeners;
  std::vector<PortMapping> bound;
  EventLoop* loop = nullptr;
  SocketInContainer make_socket;
  std::unique_ptr<char[]> scratch;
  size_t scratch_size = 0;
  std::unordered_map<TcpConn*, std::unique_ptr<TcpConn>> tcp;
  std::map<std::string, std::unique_ptr<UdpSession>> udp;
  bool accept_paused = false;  // by EMFILE/ENFILE, until a timer
  common::UniqueFd spare;      // a TCP socket in the container for the next client
  EventLoop::TimerId resume_timer = 0;
  Counters counters;
  bool stopped = false;

  // ---- listeners ----

  void WatchListener(Listener& l, bool on) {
    if (on == l.registered || loop == nullptr) return;
    if (on) {
      Listener* lp = &l;
      const bool tcp_listener = l.mapping.proto == PortProto::kTcp;
      const absl::Status s = loop->Add(l.fd.get(), EPOLLIN, [this, lp, tcp_listener](uint32_t) {
        if (tcp_listener) {
          OnAccept(*lp);
        } else {
          OnDatagrams(*lp);
        }
      });
      l.registered = s.ok();
    } else {
      loop->Remove(l.fd.get());
      l.registered = false;
    }
  }

  // TCP listeners accept while there is room and no EMFILE back-off.
  void UpdateTcpListeners() {
    const bool on = !accept_paused && tcp.size() < limits.max_tcp_connections;
    for (Listener& l : listeners) {
      if (l.mapping.proto == PortProto::kTcp) WatchListener(l, on);
    }
  }

  // Out of descriptors: the pending connections stay in the backlog, and
  // accepting again at once would spin. Try again shortly (or when a
  // connection ends and the bound, not the table, was the limit).
  void PauseAccepting() {
    ++counters.tcp_accept_paused;
    if (accept_paused) return;
    accept_paused = true;
    resume_timer = loop->After(kEmfileRetryMs, [this] {
      resume_timer = 0;
      accept_paused = false;
      UpdateTcpListeners();
    });
  }

  // The socket in the container comes first, so that a client is accepted
  // only when both of its descriptors can be had; one left over (nobody
  // was waiting after all) is kept for the next client.
  void OnAccept(Listener& l) {
    for (int i = 0; i < kAcceptsPerEvent && !accept_paused; ++i) {
      if (tcp.size() >= limits.max_tcp_connections) break;
      if (!spare) {
        absl::StatusOr<common::UniqueFd> inner = make_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
        if (!inner.ok()) {
          if (absl::IsResourceExhausted(inner.status())) {
            PauseAccepting();
            break;
          }
          // No socket inside at all (the helper is gone): the waiting
          // clients are reset rather than left hanging.
          const int fd = ::accept4(l.fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
          if (fd < 0) break;
          ++counters.tcp_accepted;
          ++counters.tcp_refused;
          common::UniqueFd client(fd);
          ResetAndClose(client);
          continue;
        }
        spare = std::move(*inner);
      }
      const int fd = ::accept4(l.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          PauseAccepting();
          break;
        }
        if (errno == EAGAIN) break;
        continue;  // ECONNABORTED, EPROTO, EINTR: that one client only
      }
      ++counters.tcp_accepted;
      StartConnection(l, common::UniqueFd(fd), std::move(spare));
    }
    UpdateTcpListeners();
  }

  // ---- TCP ----

  void StartConnection(Listener& l, common::UniqueFd client, common::UniqueFd inner) {
    auto owned = std::make_unique<TcpConn>();
    TcpConn* c = owned.get();
    c->client = std::move(client);
    c->inner = std::move(inner);
    SetInt(c->client.get(), IPPROTO_TCP, TCP_NODELAY, 1);
    SetInt(c->inner.get(), IPPROTO_TCP, TCP_NODELAY, 1);
    if (limits.tcp_socket_buffer > 0) {  // the client's came from the listener
      SetInt(c->inner.get(), SOL_SOCKET, SO_SNDBUF, limits.tcp_socket_buffer);
      SetInt(c->inner.get(), SOL_SOCKET, SO_RCVBUF, limits.tcp_socket_buffer);
    }
    const sockaddr_in to = ContainerLoopback(l.mapping.container_port);
    if (::connect(c->inner.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) {
      c->connecting = false;
    } else if (errno != EINPROGRESS) {
      ++counters.tcp_refused;
      ResetAndClose(c->client);
      return;
    }
    tcp.emplace(c, std::move(owned));
    if (!c->connecting) {
      Progress(c);
    } else {
      Update(c);
    }
  }

  // Writes what waits in d to `to`, then reads from `from` and writes on
  // while both sides keep up. False on an error or reset of either socket.
  bool Pump(int from, int to, Direction& d) {
    if (d.len > 0) {
      const ssize_t w = ::send(to, d.pending.get() + d.off, d.len, MSG_NOSIGNAL);
      if (w < 0) return errno == EAGAIN || errno == EINTR;
      d.off += static_cast<uint32_t>(w);
      d.len -= static_cast<uint32_t>(w);
      if (d.len > 0) return true;
      d.pending.reset();  // an idle connection keeps no buffer
      d.off = 0;
    }
    for (int i = 0; i < kTcpReadsPerEvent && !d.eof; ++i) {
      const ssize_t n = ::recv(from, scratch.get(), limits.tcp_buffer, 0);
      if (n == 0) {
        d.eof = true;
        break;
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        return false;
      }
      ssize_t w = ::send(to, scratch.get(), static_cast<size_t>(n), MSG_NOSIGNAL);
      if (w < 0) {
        if (errno != EAGAIN && errno != EINTR) return false;
        w = 0;
      }
      if (w < n) {
        ++counters.tcp_stalls;
        d.len = static_cast<uint32_t>(n - w);
        d.pending.reset(new char[d.len]);
        memcpy(d.pending.get(), scratch.get() + w, d.len);
        break;  // stop reading until the destination takes it
      }
      if (n < static_cast<ssize_t>(limits.tcp_buffer)) break;  // drained for now
    }
    if (d.eof && d.len == 0 && !d.shut_wr) {
      if (::shutdown(to, SHUT_WR) != 0 && errno != ENOTCONN) return false;
      d.shut_wr = true;
    }
    return true;
  }

  // Moves data both ways, then watches what the connection now waits for
  // (or ends it).
  void Progress(TcpConn* c) {
    if (!Pump(c->client.get(), c->inner.get(), c->up) || !Pump(c->inner.get(), c->client.get(), c->down)) {
      ++counters.tcp_reset;
      Close(c, /*reset=*/true);
      return;
    }
    Update(c);
  }

  void Update(TcpConn* c) {
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
    if (!Watch(c, c->client.get(), c->client_events, client_events, /*is_client=*/true) ||
        !Watch(c, c->inner.get(), c->inner_events, inner_events, /*is_client=*/false)) {
      ++counters.tcp_reset;
      Close(c, /*reset=*/true);
    }
  }

  bool Watch(TcpConn* c, int fd, uint32_t& current, uint32_t wanted, bool is_client) {
    if (current == wanted) return true;
    absl::Status s;
    if (wanted == 0) {
      loop->Remove(fd);
    } else if (current == 0) {
      s = loop->Add(fd, wanted, [this, c, is_client](uint32_t events) { OnConnEvent(c, is_client, events); });
    } else {
      s = loop->Modify(fd, wanted);
    }
    current = s.ok() ? wanted : 0;
    return s.ok();
  }

  void OnConnEvent(TcpConn* c, bool is_client, uint32_t events) {
    if (!is_client && c->connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(c->inner.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err == 0 && (events & EPOLLHUP) == 0) {
        if ((events & EPOLLOUT) == 0) return;  // not yet
        c->connecting = false;
        Progress(c);
        return;
      }
      ++counters.tcp_refused;  // nothing listens on the port inside
      Close(c, /*reset=*/true);
      return;
    }
    if ((events & EPOLLERR) != 0) {
      int err = 0;
      socklen_t len = sizeof err;
      const int fd = is_client ? c->client.get() : c->inner.get();
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        ++counters.tcp_reset;
        Close(c, /*reset=*/true);
        return;
      }
    }
    Progress(c);
  }

  void Close(TcpConn* c, bool reset) {
    loop->Remove(c->client.get());
    loop->Remove(c->inner.get());
    if (reset) {
      ResetAndClose(c->client);
      ResetAndClose(c->inner);
    }
    tcp.erase(c);  // closes both sockets
    UpdateTcpListeners();
  }

  // ---- UDP ----

  void OnDatagrams(Listener& l) {
    for (int i = 0; i < kDatagramsPerEvent; ++i) {
      sockaddr_storage peer{};
      struct iovec iov = {scratch.get(), scratch_size};
      alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo))];
      struct msghdr msg {};
      msg.msg_name = &peer;
      msg.msg_namelen = sizeof peer;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      const ssize_t n = ::recvmsg(l.fd.get(), &msg, 0);
      if (n < 0) {
        if (errno == EAGAIN) return;
        continue;  // an ICMP error queued by an earlier reply, EINTR
      }
      UdpSession* s = FindOrOpenSession(l, peer, msg);
      if (s == nullptr) {
        ++counters.udp_dropped;
        continue;
      }
      s->last_ms = EventLoop::NowMs();
      if (::send(s->fd.get(), scratch.get(), static_cast<size_t>(n), MSG_NOSIGNAL) < 0) ++counters.udp_dropped;
    }
  }

  UdpSession* FindOrOpenSession(Listener& l, const sockaddr_storage& peer, struct msghdr& msg) {
    const socklen_t peer_len = msg.msg_namelen;
    in_pktinfo local4{};
    in6_pktinfo local6{};
    bool have_local = false;
    if (l.wildcard) {
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
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
    // The key: which listener, who sent, and to which of our addresses.
    std::string key;
    const Listener* lp = &l;
    key.append(reinterpret_cast<const char*>(&lp), sizeof lp);
    key.append(reinterpret_cast<const char*>(&peer), peer_len);
    if (have_local) {
      if (l.mapping.family == AF_INET) {
        key.append(reinterpret_cast<const char*>(&local4.ipi_spec_dst), sizeof local4.ipi_spec_dst);
      } else {
        key.append(reinterpret_cast<const char*>(&local6.ipi6_addr), sizeof local6.ipi6_addr);
      }
    }
    if (auto it = udp.find(key); it != udp.end()) return it->second.get();
    if (udp.size() >= limits.max_udp_sessions) return nullptr;

    absl::StatusOr<common::UniqueFd> fd = make_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK);
    if (!fd.ok()) return nullptr;
    const sockaddr_in to = ContainerLoopback(l.mapping.container_port);
    if (::connect(fd->get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) return nullptr;
    auto owned = std::make_unique<UdpSession>();
    UdpSession* s = owned.get();
    s->listener = &l;
    s->key = key;
    memcpy(&s->peer, &peer, peer_len);
    s->peer_len = peer_len;
    s->have_local = have_local;
    s->local4 = local4;
    s->local6 = local6;
    s->fd = std::move(*fd);
    s->last_ms = EventLoop::NowMs();
    if (!loop->Add(s->fd.get(), EPOLLIN, [this, s](uint32_t) { OnReplies(s); }).ok()) return nullptr;
    s->timer = loop->After(limits.udp_idle_ms, [this, s] { OnIdleCheck(s); });
    udp.emplace(std::move(key), std::move(owned));
    ++counters.udp_sessions;
    return s;
  }

  void OnReplies(UdpSession* s) {
    for (int i = 0; i < kDatagramsPerEvent; ++i) {
      const ssize_t n = ::recv(s->fd.get(), scratch.get(), scratch_size, 0);
      if (n < 0) {
        if (errno == EAGAIN) return;
        // ECONNREFUSED: nothing listens inside (yet); the error is
        // consumed, the client may retry.
        if (errno == ECONNREFUSED || errno == EINTR) continue;
        CloseSession(s);
        return;
      }
      s->last_ms = EventLoop::NowMs();
      struct iovec iov = {scratch.get(), static_cast<size_t>(n)};
      struct msghdr msg {};
      msg.msg_name = &s->peer;
      msg.msg_namelen = s->peer_len;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
      if (s->have_local) {
        msg.msg_control = control;
        struct cmsghdr* c = reinterpret_cast<struct cmsghdr*>(control);
        if (s->listener->mapping.family == AF_INET) {
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
      if (::sendmsg(s->listener->fd.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) ++counters.udp_dropped;
    }
  }

  void OnIdleCheck(UdpSession* s) {
    s->timer = 0;
    const int64_t idle = EventLoop::NowMs() - s->last_ms;
    if (idle >= limits.udp_idle_ms) {
      CloseSession(s);
      return;
    }
    s->timer = loop->After(limits.udp_idle_ms - idle, [this, s] { OnIdleCheck(s); });
  }

  void CloseSession(UdpSession* s) {
    loop->Remove(s->fd.get());
    if (s->timer != 0) loop->Cancel(s->timer);
    udp.erase(s->key);  // s is gone
  }

  // ---- all ----

  void StopAll() {
    stopped = true;
    if (loop != nullptr) {
      while (!tcp.empty()) {
        TcpConn* c = tcp.begin()->first;
        loop->Remove(c->client.get());
        loop->Remove(c->inner.get());
        tcp.erase(tcp.begin());
      }
      while (!udp.empty()) CloseSession(udp.begin()->second.get());
      if (resume_timer != 0) loop->Cancel(resume_timer);
      resume_timer = 0;
      for (Listener& l : listeners) WatchListener(l, false);
    }
    listeners.clear();  // closes them
    spare.Reset();
    loop = nullptr;
    make_socket = nullptr;
    scratch.reset();
  }
};

PortRelay::PortRelay(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PortRelay::PortRelay(PortRelay&&) noexcept = default;
PortRelay& PortRelay::operator=(PortRelay&& other) noexcept {
  if (this != &other) {
    Stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
PortRelay::~PortRelay() { Stop(); }

absl::StatusOr<PortRelay> PortRelay::Bind(const std::vector<PortMapping>& mappings, const Limits& limits) {
  auto impl = std::make_unique<Impl>();
  impl->limits = limits;
  impl->limits.tcp_buffer = std::max<size_t>(limits.tcp_buffer, 1024);
  impl->listeners.reserve(mappings.size());  // the handlers keep pointers into it
  for (const PortMapping& m : mappings) {
    const bool is_tcp = m.proto == PortProto::kTcp;
    const std::string what = absl::StrCat("-p ", m.spec.empty() ? PublishSpec(m) : m.spec, ": ");
    common::UniqueFd fd(::socket(m.family, (is_tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return common::ErrnoStatus(errno, absl::StrCat(what, "socket"));
    if (m.family == AF_INET6) SetInt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1);
    // Not for UDP: there it would let a second socket share the port.
    if (is_tcp) SetInt(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1);
    if (is_tcp && limits.tcp_socket_buffer > 0) {  // accepted sockets inherit them
      SetInt(fd.get(), SOL_SOCKET, SO_SNDBUF, limits.tcp_socket_buffer);
      SetInt(fd.get(), SOL_SOCKET, SO_RCVBUF, limits.tcp_socket_buffer);
    }
    Impl::Listener l;
    l.mapping = m;
    l.wildcard = !is_tcp && IsWildcard(m);
    if (l.wildcard) {
      if (m.family == AF_INET) {
        SetInt(fd.get(), IPPROTO_IP, IP_PKTINFO, 1);
      } else {
        SetInt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
      }
    }
    sockaddr_storage addr{};
    socklen_t len = 0;
    if (m.family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(m.host_port);
      memcpy(&a->sin6_addr, m.host_addr.data(), 16);
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&addr);
      a->sin_family = AF_INET;
      a->sin_port = htons(m.host_port);
      memcpy(&a->sin_addr, m.host_addr.data(), 4);
      len = sizeof *a;
    }
    const std::string host = m.family == AF_INET6 ? absl::StrCat("[", HostAddressText(m), "]") : HostAddressText(m);
    const std::string bind_what = absl::StrCat(what, "bind(", host, ":", m.host_port, "/", PortProtoName(m.proto), ")");
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
      return common::ErrnoStatus(errno, bind_what);
    }
    if (is_tcp && ::listen(fd.get(), SOMAXCONN) != 0) return common::ErrnoStatus(errno, absl::StrCat(what, "listen"));
    len = sizeof addr;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return common::ErrnoStatus(errno, absl::StrCat(what, "getsockname"));
    }
    l.mapping.host_port = ntohs(m.family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                                     : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    l.fd = std::move(fd);
    impl->bound.push_back(l.mapping);
    impl->listeners.push_back(std::move(l));
  }
  return PortRelay(std::move(impl));
}

const std::vector<PortMapping>& PortRelay::mappings() const { return impl_->bound; }

std::vector<int> PortRelay::listener_fds() const {
  std::vector<int> fds;
  for (const Impl::Listener& l : impl_->listeners) fds.push_back(l.fd.get());
  return fds;
}

absl::Status PortRelay::Start(EventLoop& loop, SocketInContainer socket_in_container) {
  if (!impl_ || impl_->stopped) return absl::FailedPreconditionError("port relay: already stopped");
  if (impl_->loop != nullptr) return absl::FailedPreconditionError("port relay: already started");
  Impl& im = *impl_;
  im.loop = &loop;
  im.make_socket = std::move(socket_in_container);
  bool any_udp = false;
  for (const Impl::Listener& l : im.listeners) any_udp |= l.mapping.proto == PortProto::kUdp;
  im.scratch_size = any_udp ? std::max(im.limits.tcp_buffer, kMaxDatagram) : im.limits.tcp_buffer;
  im.scratch.reset(new char[im.scratch_size]);
  for (Impl::Listener& l : im.listeners) {
    im.WatchListener(l, true);
    if (!l.registered) {
      im.StopAll();
      return absl::InternalError(absl::StrCat("-p ", l.mapping.spec, ": cannot watch the listener"));
    }
  }
  return absl::OkStatus();
}

void PortRelay::Stop() {
  if (impl_) impl_->StopAll();
}

size_t PortRelay::tcp_connections() const { return impl_ ? impl_->tcp.size() : 0; }
size_t PortRelay::udp_sessions() const { return impl_ ? impl_->udp.size() : 0; }
PortRelay::Counters PortRelay::counters() const { return impl_ ? impl_->counters : Counters(); }

}  // namespace runtime
