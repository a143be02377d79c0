// -p relays on this host's kernel: a forked child plays the container (a
// new network namespace, lo up, a TCP and UDP echo server on 127.0.0.1),
// NetnsSockets joins it through its pidfd, and PortRelay relays a port on
// the host's 127.0.0.1 (chosen by the kernel) into it, with the event loop
// on a thread of the test. Checked: 1 MiB both ways with the client
// writing before it reads (back-pressure), half-close, many clients at
// once, a refused port inside, UDP from two clients and the idle timeout,
// a second bind of the same port, the helper gone and no descriptor left
// after every test; and the same relay run by an unprivileged uid into a
// network namespace owned by a new user namespace (the rootless path).
// Only loopback addresses and namespaces the test made.
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/event_loop.h"
#include "runtime/netns_sockets.h"
#include "runtime/port_relay.h"
#include "runtime/publish.h"
#include "sandbox/ns_net.h"
#include "tests/testing/child_report.h"

namespace itest {
namespace {

using ::testing::HasSubstr;
using runtime::EventLoop;
using runtime::NetnsSockets;
using runtime::PortMapping;
using runtime::PortRelay;

constexpr uint16_t kEchoPort = 7007;     // TCP and UDP echo inside
constexpr uint16_t kClosedPort = 7008;   // nothing listens there inside
constexpr int kTimeoutMs = 10'000;       // every wait of a client
constexpr char kTrailer[] = "bye\n";     // the echo server's last words after EOF

int CountFds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  int n = 0;
  while (::readdir(d) != nullptr) ++n;
  ::closedir(d);
  return n;
}

long long NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// ---- the container: runs in a forked child ----

// TCP echo: what a client sends comes back; after the client's EOF the
// rest, then kTrailer, then EOF. UDP echo: each datagram back to its
// sender. One poll loop; reads only what it can write back (so it
// pushes back too). Never returns.
[[noreturn]] void ServeEcho() {
  ::alarm(300);  // a backstop: the test kills it long before
  const int lt = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int lu = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(kEchoPort);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Small buffers (inherited by accepted sockets), so that 1 MiB cannot
  // hide in them and the relay has to push back.
  const int small = 8192;
  if (lt >= 0) {
    ::setsockopt(lt, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    ::setsockopt(lt, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  }
  if (lt < 0 || lu < 0 || ::bind(lt, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(lt, 256) != 0 ||
      ::bind(lu, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::_exit(3);
  }
  struct Conn {
    int fd;
    size_t off, len;
    bool eof;
    char buf[16384];
  };
  constexpr size_t kMax = 256;
  std::vector<std::unique_ptr<Conn>> conns;
  std::vector<pollfd> pfds;
  static char dgram[65536];
  for (;;) {
    pfds.clear();
    pfds.push_back({lt, static_cast<short>(conns.size() < kMax ? POLLIN : 0), 0});
    pfds.push_back({lu, POLLIN, 0});
    for (auto& c : conns) pfds.push_back({c->fd, static_cast<short>(c->len > 0 ? POLLOUT : POLLIN), 0});
    if (::poll(pfds.data(), pfds.size(), -1) < 0) continue;
    if (pfds[0].revents & POLLIN) {
      for (int fd; conns.size() < kMax && (fd = ::accept4(lt, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
        auto c = std::make_unique<Conn>();
        c->fd = fd;
        c->off = c->len = 0;
        c->eof = false;
        conns.push_back(std::move(c));
      }
    }
    if (pfds[1].revents & POLLIN) {
      for (;;) {
        sockaddr_storage peer{};
        socklen_t plen = sizeof peer;
        const ssize_t n = ::recvfrom(lu, dgram, sizeof dgram, 0, reinterpret_cast<sockaddr*>(&peer), &plen);
        if (n < 0) break;
        ::sendto(lu, dgram, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&peer), plen);
      }
    }
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn& c = *conns[i];
      const short re = i + 2 < pfds.size() ? pfds[i + 2].revents : 0;
      bool drop = false;
      if (re == 0) continue;
      if (c.len == 0 && !c.eof) {
        const ssize_t n = ::read(c.fd, c.buf, sizeof c.buf);
        if (n == 0) {
          // The trailer goes out like echoed bytes: when the socket takes it.
          c.eof = true;
          memcpy(c.buf, kTrailer, sizeof kTrailer - 1);
          c.off = 0;
          c.len = sizeof kTrailer - 1;
        } else if (n < 0) {
          drop = errno != EAGAIN;
        } else {
          c.off = 0;
          c.len = static_cast<size_t>(n);
        }
      }
      if (!drop && c.len > 0) {
        const ssize_t w = ::write(c.fd, c.buf + c.off, c.len);
        if (w > 0) {
          c.off += static_cast<size_t>(w);
          c.len -= static_cast<size_t>(w);
        } else if (w < 0 && errno != EAGAIN) {
          drop = true;
        }
      }
      if (!drop && c.eof && c.len == 0) {
        ::shutdown(c.fd, SHUT_WR);
        drop = true;
      }
      if (drop) {
        ::close(c.fd);
        conns.erase(conns.begin() + static_cast<long>(i));
        --i;
        pfds.erase(pfds.begin() + static_cast<long>(i + 3));
      }
    }
  }
}

// The child: a new network namespace (owned by a new user namespace when
// new_user), lo up, then the echo server. Writes {step, errno} to ready_fd
// first: {0, 0} once it serves.
[[noreturn]] void ContainerMain(bool new_user, int ready_fd, const sandbox::NetlinkRequest& lo_up) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  int report[2] = {0, 0};
  auto fail = [&](int step) {
    report[0] = step;
    report[1] = errno;
    (void)!::write(ready_fd, report, sizeof report);
    ::_exit(2);
  };
  if (::unshare(CLONE_NEWNET | (new_user ? CLONE_NEWUSER : 0)) != 0) fail(1);
  if (new_user) {
    // Root inside is the caller outside; not needed for lo, but what a
    // rootless container has.
    char map[64];
    const int len = snprintf(map, sizeof map, "0 %u 1\n", static_cast<unsigned>(::geteuid()));
    const int fd = ::open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, map, static_cast<size_t>(len)) != len) fail(2);
    ::close(fd);
  }
  const char* step = nullptr;
  if (const int err = sandbox::LoopbackUpInChild(lo_up, &step); err != 0) {
    errno = err;
    fail(3);
  }
  (void)!::write(ready_fd, report, sizeof report);
  ::close(ready_fd);
  ServeEcho();
}

// The container as seen from its parent: the child, its pidfd, and its
// end on destruction (SIGKILL, reaped).
class Container {
 public:
  explicit Container(bool new_user) {
    const sandbox::NetlinkRequest lo_up = sandbox::PrepareLoopbackUp();
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      error_ = "pipe2 failed";
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(p[0]);
      ContainerMain(new_user, p[1], lo_up);
    }
    ::close(p[1]);
    if (pid_ < 0) {
      ::close(p[0]);
      error_ = "fork failed";
      return;
    }
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    int report[2] = {-1, 0};
    pollfd pfd{p[0], POLLIN, 0};
    if (::poll(&pfd, 1, kTimeoutMs) != 1 || ::read(p[0], report, sizeof report) != sizeof report) {
      error_ = "the container did not report";
    } else if (report[0] != 0) {
      static const char* const kSteps[] = {"", "unshare", "write uid_map", "bring lo up"};
      step_ = report[0];
      err_ = report[1];
      error_ = std::string(kSteps[report[0] & 3]) + ": " + strerror(report[1]);
    }
    ::close(p[0]);
  }
  ~Container() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (pidfd_ >= 0) ::close(pidfd_);
  }
  bool ok() const { return error_.empty() && pidfd_ >= 0; }
  const std::string& error() const { return error_; }
  int step() const { return step_; }
  int err() const { return err_; }
  int pidfd() const { return pidfd_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int step_ = 0, err_ = 0;
  std::string error_;
};

// ---- the monitor's side ----

// The event loop on a thread; Pause() before looking at the relay.
class LoopThread {
 public:
  explicit LoopThread(EventLoop& loop) : loop_(loop) { Resume(); }
  ~LoopThread() { Pause(); }
  void Pause() {
    quit_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void Resume() {
    quit_ = false;
    thread_ = std::thread([this] {
      while (!quit_) {
        if (!loop_.RunOnce(20).ok()) return;
      }
    });
  }

 private:
  EventLoop& loop_;
  std::atomic<bool> quit_{false};
  std::thread thread_;
};

PortMapping Mapping(const std::string& spec) {
  auto m = runtime::ParsePublish(spec);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : PortMapping{};
}

// ---- clients: plain sockets, every wait bounded ----

// small_buffers: 8 KiB each way, set before connecting (no autotuning).
int ConnectTcp(uint16_t port, bool small_buffers = false) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (small_buffers) {
    const int small = 8192;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  pollfd pfd{fd, POLLOUT, 0};
  int err = 0;
  socklen_t len = sizeof err;
  if (::poll(&pfd, 1, kTimeoutMs) != 1 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct Exchanged {
  std::string in;
  bool eof = false;
  int err = 0;  // of a failed call, or ETIMEDOUT
  size_t sent_before_reading = 0;  // write_first: what went in before the first read
};

// Sends `out` on the non-blocking fd while reading whatever comes back,
// until want_in bytes or EOF arrived. write_first: fill every buffer on
// the way before reading a byte (the relay must stop reading the client).
// half_close: shutdown(SHUT_WR) once everything is sent.
Exchanged Exchange(int fd, const std::string& out, size_t want_in, bool half_close, bool write_first = false) {
  Exchanged r;
  size_t sent = 0;
  const long long deadline = NowMs() + 3 * kTimeoutMs;
  if (write_first) {
    // Until nothing more goes in for 300 ms.
    for (long long quiet_since = NowMs(); sent < out.size() && NowMs() - quiet_since < 300;) {
      const ssize_t w = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (w > 0) {
        sent += static_cast<size_t>(w);
        quiet_since = NowMs();
      } else {
        ::usleep(10'000);
      }
    }
    r.sent_before_reading = sent;
  }
  bool shut = false;
  char buf[65536];
  while (r.in.size() < want_in && !r.eof) {
    if (sent == out.size() && half_close && !shut) {
      ::shutdown(fd, SHUT_WR);
      shut = true;
    }
    const long long left = deadline - NowMs();
    if (left <= 0) {
      r.err = ETIMEDOUT;
      break;
    }
    pollfd pfd{fd, static_cast<short>(POLLIN | (sent < out.size() ? POLLOUT : 0)), 0};
    if (::poll(&pfd, 1, static_cast<int>(left)) < 0 && errno != EINTR) {
      r.err = errno;
      break;
    }
    if (sent < out.size() && (pfd.revents & POLLOUT)) {
      const ssize_t w = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (w > 0) sent += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN) {
        r.err = errno;
        break;
      }
    }
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) r.in.append(buf, static_cast<size_t>(n));
      if (n == 0) r.eof = true;
      if (n < 0 && errno != EAGAIN) {
        r.err = errno;
        break;
      }
    }
  }
  return r;
}

std::string Pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// Sends one datagram on a connected UDP socket and waits for one back.
std::optional<std::string> UdpRoundTrip(int fd, const std::string& out) {
  if (::send(fd, out.data(), out.size(), 0) != static_cast<ssize_t>(out.size())) return std::nullopt;
  pollfd pfd{fd, POLLIN, 0};
  if (::poll(&pfd, 1, kTimeoutMs) != 1) return std::nullopt;
  char buf[65536];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

int UdpClient(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// ---- the fixture: container, helper, relay of tcp 7007, tcp 7008, udp 7007 ----

class PortRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fds_before_ = CountFds();
    container_.emplace(/*new_user=*/false);
    ASSERT_TRUE(container_->ok()) << container_->error();
    auto ns = NetnsSockets::Start(container_->pidfd(), /*join_user_ns=*/false);
    ASSERT_TRUE(ns.ok()) << ns.status();
    ns_.emplace(std::move(*ns));
    helper_pid_ = ns_->helper_pid();
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_.emplace(std::move(*loop));
    PortRelay::Limits limits;
    limits.udp_idle_ms = 1500;
    // Far below 1 MiB, in the relay and in the kernel under it, so that a
    // client that writes before it reads makes the relay push back.
    limits.tcp_buffer = 16384;
    limits.tcp_socket_buffer = 8192;
    auto relay = PortRelay::Bind({Mapping("127.0.0.1:0:7007"), Mapping("127.0.0.1:0:7008"),
                                  Mapping("127.0.0.1:0:7007/udp")},
                                 limits);
    ASSERT_TRUE(relay.ok()) << relay.status();
    relay_.emplace(std::move(*relay));
    ASSERT_EQ(relay_->mappings().size(), 3u);
    for (const PortMapping& m : relay_->mappings()) ASSERT_NE(m.host_port, 0) << m.spec;
    ASSERT_TRUE(relay_->Start(*loop_, [this](int domain, int type) { return ns_->Socket(domain, type); }).ok());
    thread_.emplace(*loop_);
  }

  void TearDown() override {
    thread_.reset();
    extra_.clear();
    if (relay_) relay_->Stop();
    relay_.reset();
    ns_.reset();
    if (helper_pid_ > 0) {
      errno = 0;
      EXPECT_EQ(::kill(helper_pid_, 0), -1) << "the socket helper " << helper_pid_ << " is still there";
      EXPECT_EQ(errno, ESRCH);
    }
    container_.reset();
    loop_.reset();
    EXPECT_EQ(CountFds(), fds_before_) << "descriptors left open";
  }

  uint16_t TcpPort() const { return relay_->mappings()[0].host_port; }
  uint16_t ClosedPort() const { return relay_->mappings()[1].host_port; }
  uint16_t UdpPort() const { return relay_->mappings()[2].host_port; }

  // The relay's state, read with the loop stopped; fn returns true when it
  // is as expected. Waits at most kTimeoutMs.
  bool WaitForRelay(const std::function<bool(const PortRelay&)>& fn) {
    for (const long long deadline = NowMs() + kTimeoutMs;;) {
      thread_->Pause();
      const bool ok = fn(*relay_);
      thread_->Resume();
      if (ok) return true;
      if (NowMs() > deadline) return false;
      ::usleep(20'000);
    }
  }

  // Another relay into the same container, in the running loop.
  PortRelay* AddRelay(const std::vector<PortMapping>& mappings, const PortRelay::Limits& limits) {
    auto relay = PortRelay::Bind(mappings, limits);
    EXPECT_TRUE(relay.ok()) << relay.status();
    if (!relay.ok()) return nullptr;
    thread_->Pause();
    extra_.push_back(std::make_unique<PortRelay>(std::move(*relay)));
    const absl::Status started =
        extra_.back()->Start(*loop_, [this](int domain, int type) { return ns_->Socket(domain, type); });
    thread_->Resume();
    EXPECT_TRUE(started.ok()) << started;
    return started.ok() ? extra_.back().get() : nullptr;
  }

  // Its state, read with the loop stopped, until fn says it is as expected
  // (at most kTimeoutMs).
  bool WaitFor(const PortRelay& relay, const std::function<bool(const PortRelay&)>& fn) {
    for (const long long deadline = NowMs() + kTimeoutMs;;) {
      thread_->Pause();
      const bool ok = fn(relay);
      thread_->Resume();
      if (ok) return true;
      if (NowMs() > deadline) return false;
      ::usleep(20'000);
    }
  }

  int fds_before_ = -1;
  pid_t helper_pid_ = 0;
  std::vector<std::unique_ptr<PortRelay>> extra_;
  std::optional<Container> container_;
  std::optional<NetnsSockets> ns_;
  std::optional<EventLoop> loop_;
  std::optional<PortRelay> relay_;
  std::optional<LoopThread> thread_;
};

TEST_F(PortRelayTest, TheHelperSitsInTheContainersNetworkNamespace) {
  struct stat helper {}, container {}, self {};
  ASSERT_EQ(::stat(("/proc/" + std::to_string(helper_pid_) + "/ns/net").c_str(), &helper), 0);
  ASSERT_EQ(::stat(("/proc/" + std::to_string(container_->pid()) + "/ns/net").c_str(), &container), 0);
  ASSERT_EQ(::stat("/proc/self/ns/net", &self), 0);
  EXPECT_EQ(helper.st_ino, container.st_ino);
  EXPECT_NE(helper.st_ino, self.st_ino);
}

TEST_F(PortRelayTest, OneMiBBothWaysWithTheClientWritingFirst) {
  const int fd = ConnectTcp(TcpPort(), /*small_buffers=*/true);
  ASSERT_GE(fd, 0) << strerror(errno);
  const std::string out = Pattern(1 << 20, 1);
  const Exchanged r = Exchange(fd, out, out.size(), /*half_close=*/false, /*write_first=*/true);
  ::close(fd);
  EXPECT_EQ(r.err, 0) << strerror(r.err);
  ASSERT_EQ(r.in.size(), out.size());
  EXPECT_TRUE(r.in == out) << "the bytes came back changed";
  // The client was held back, and the relay stopped reading while a side
  // could not take more.
  EXPECT_LT(r.sent_before_reading, out.size());
  EXPECT_TRUE(WaitForRelay([](const PortRelay& p) {
    return p.tcp_connections() == 0 && p.counters().tcp_stalls > 0;
  }));
}

TEST_F(PortRelayTest, HalfCloseKeepsTheOtherDirection) {
  const int fd = ConnectTcp(TcpPort());
  ASSERT_GE(fd, 0) << strerror(errno);
  const std::string out = Pattern(200 * 1024, 2);
  // The server sends kTrailer only after it read our EOF: it arrives after
  // our shutdown(SHUT_WR), through the relay's shutdown of its own socket.
  const Exchanged r = Exchange(fd, out, ~size_t{0}, /*half_close=*/true);
  ::close(fd);
  EXPECT_EQ(r.err, 0) << strerror(r.err);
  EXPECT_TRUE(r.eof);
  ASSERT_EQ(r.in.size(), out.size() + strlen(kTrailer));
  EXPECT_TRUE(r.in.compare(0, out.size(), out) == 0);
  EXPECT_EQ(r.in.substr(out.size()), kTrailer);
  EXPECT_TRUE(WaitForRelay([](const PortRelay& p) { return p.tcp_connections() == 0; }));
}

TEST_F(PortRelayTest, ManyClientsAtOnce) {
  constexpr int kClients = 100;
  std::vector<int> fds;
  for (int i = 0; i < kClients; ++i) {
    fds.push_back(ConnectTcp(TcpPort()));
    ASSERT_GE(fds.back(), 0) << "client " << i << ": " << strerror(errno);
  }
  // Every client connected before any sends: the relay holds them all.
  EXPECT_TRUE(WaitForRelay([](const PortRelay& p) { return p.tcp_connections() == kClients; }));
  std::vector<std::string> outs, ins(kClients);
  std::vector<size_t> sent(kClients, 0);
  for (int i = 0; i < kClients; ++i) outs.push_back(Pattern(20000, 100 + i));
  char buf[65536];
  for (const long long deadline = NowMs() + 3 * kTimeoutMs; NowMs() < deadline;) {
    std::vector<pollfd> pfds;
    bool done = true;
    for (int i = 0; i < kClients; ++i) {
      const bool more_out = sent[i] < outs[i].size();
      done &= !more_out && ins[i].size() == outs[i].size();
      pfds.push_back({fds[i], static_cast<short>(POLLIN | (more_out ? POLLOUT : 0)), 0});
    }
    if (done) break;
    ::poll(pfds.data(), pfds.size(), 100);
    for (int i = 0; i < kClients; ++i) {
      if (pfds[i].revents & POLLOUT) {
        const ssize_t w = ::send(fds[i], outs[i].data() + sent[i], outs[i].size() - sent[i], MSG_NOSIGNAL);
        if (w > 0) sent[i] += static_cast<size_t>(w);
      }
      if (pfds[i].revents & POLLIN) {
        const ssize_t n = ::recv(fds[i], buf, sizeof buf, 0);
        if (n > 0) ins[i].append(buf, static_cast<size_t>(n));
      }
    }
  }
  for (int i = 0; i < kClients; ++i) {
    EXPECT_TRUE(ins[i] == outs[i]) << "client " << i << " got " << ins[i].size() << " bytes";
    ::close(fds[i]);
  }
  EXPECT_TRUE(WaitForRelay([](const PortRelay& p) {
    return p.tcp_connections() == 0 && p.counters().tcp_accepted == kClients;
  }));
}

TEST_F(PortRelayTest, RefusedInsideResetsTheClientAtOnce) {
  // The kernel completes the handshake before the relay accepts; the reset
  // may come before or after we look at the connection.
  const long long start = NowMs();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(ClosedPort());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ASSERT_TRUE(rc == 0 || errno == EINPROGRESS) << strerror(errno);
  pollfd pfd{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, kTimeoutMs), 1) << "the client was left waiting";
  char c;
  const ssize_t n = ::recv(fd, &c, 1, 0);
  const int err = n < 0 ? errno : 0;
  ::close(fd);
  EXPECT_EQ(n, -1) << (n == 0 ? "a plain EOF" : "data");
  EXPECT_EQ(err, ECONNRESET) << strerror(err);
  EXPECT_LT(NowMs() - start, 2000);
  EXPECT_TRUE(WaitForRelay([](const PortRelay& p) {
    return p.tcp_connections() == 0 && p.counters().tcp_refused == 1;
  }));
}

TEST_F(PortRelayTest, AClientsResetEndsTheConnection) {
  const int fd = ConnectTcp(TcpPort());
  ASSERT_GE(fd, 0) << strerror(errno);
  EXPECT_EQ(Exchange(fd, "x", 1, false).in, "x");
  struct linger l = {1, 0};
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
  ::close(fd);  // RST
  EXPECT_TRUE(WaitForRelay([](const PortRelay& p) {
    return p.tcp_connections() == 0 && p.counters().tcp_reset == 1;
  }));
}

TEST_F(PortRelayTest, UdpFromTwoClientsAndTheIdleTimeout) {
  const int a = UdpClient(UdpPort());
  const int b = UdpClient(UdpPort());
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  for (int round = 0; round < 5; ++round) {
    const std::string da = "a" + std::to_string(round), db = "b" + Pattern(1000 + round, round);
    // Loopback UDP is not lost, but the relay may open a session while the
    // first datagram is on its way; one retry keeps the test honest.
    auto ra = UdpRoundTrip(a, da);
    if (!ra && round == 0) ra = UdpRoundTrip(a, da);
    auto rb = UdpRoundTrip(b, db);
    EXPECT_EQ(ra.value_or("<nothing>"), da);
    EXPECT_TRUE(rb.has_value() && *rb == db) << "round " << round;
  }
  // One session per client (counted as opened: a loaded machine may let
  // them idle out before we look).
  EXPECT_TRUE(WaitForRelay([](const PortRelay& p) { return p.counters().udp_sessions == 2; }));
  // Idle for 1.5 s: both sessions close (their sockets too, which the
  // descriptor count in TearDown sees).
  EXPECT_TRUE(WaitForRelay([](const PortRelay& p) { return p.udp_sessions() == 0; }));
  // And a client that comes back gets a new one.
  EXPECT_EQ(UdpRoundTrip(a, "again").value_or("<nothing>"), "again");
  ::close(a);
  ::close(b);
}

TEST_F(PortRelayTest, ASecondBindOfTheSamePortNamesTheSpec) {
  const std::string spec = "127.0.0.1:" + std::to_string(TcpPort()) + ":80";
  auto second = PortRelay::Bind({Mapping(spec)});
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("-p " + spec + ": bind("));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("Address already in use"));
  const std::string udp = "127.0.0.1:" + std::to_string(UdpPort()) + ":53/udp";
  auto third = PortRelay::Bind({Mapping("127.0.0.1:0:1"), Mapping(udp)});
  ASSERT_FALSE(third.ok());
  EXPECT_THAT(std::string(third.status().message()), HasSubstr("-p " + udp + ": bind("));
  EXPECT_THAT(std::string(third.status().message()), HasSubstr("Address already in use"));
}

TEST_F(PortRelayTest, AtTheBoundsNewClientsWait) {
  PortRelay::Limits limits;
  limits.max_tcp_connections = 2;
  limits.max_udp_sessions = 1;
  PortRelay* small = AddRelay({Mapping("127.0.0.1:0:7007"), Mapping("127.0.0.1:0:7007/udp")}, limits);
  ASSERT_NE(small, nullptr);
  const uint16_t tcp_port = small->mappings()[0].host_port, udp_port = small->mappings()[1].host_port;
  int a = ConnectTcp(tcp_port), b = ConnectTcp(tcp_port), c = ConnectTcp(tcp_port);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  ASSERT_GE(c, 0);  // the kernel completes it; it waits in the backlog
  EXPECT_EQ(Exchange(a, "a", 1, false).in, "a");
  EXPECT_EQ(Exchange(b, "b", 1, false).in, "b");
  EXPECT_TRUE(WaitFor(*small, [](const PortRelay& p) { return p.tcp_connections() == 2; }));
  ASSERT_EQ(::send(c, "c", 1, MSG_NOSIGNAL), 1);
  pollfd pfd{c, POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 300), 0) << "a third connection was relayed past the bound of 2";
  ::close(a);
  const Exchanged r = Exchange(c, "", 1, false);  // accepted once a is gone
  EXPECT_EQ(r.in, "c") << strerror(r.err);
  ::close(b);
  ::close(c);

  const int u1 = UdpClient(udp_port), u2 = UdpClient(udp_port);
  auto r1 = UdpRoundTrip(u1, "one");
  if (!r1) r1 = UdpRoundTrip(u1, "one");
  EXPECT_EQ(r1.value_or("<nothing>"), "one");
  ASSERT_EQ(::send(u2, "two", 3, 0), 3);
  pfd = {u2, POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 300), 0) << "a second UDP session past the bound of 1";
  EXPECT_TRUE(WaitFor(*small, [](const PortRelay& p) {
    return p.udp_sessions() == 1 && p.counters().udp_dropped >= 1 && p.tcp_connections() == 0;
  }));
  ::close(u1);
  ::close(u2);
}

TEST_F(PortRelayTest, AnIpv6ListenerRelaysToTheContainersIpv4Loopback) {
  {
    const int probe = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    const bool ok = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    const int err = errno;
    if (probe >= 0) ::close(probe);
    if (!ok) GTEST_SKIP() << "no IPv6 loopback on this host (bind [::1]: " << strerror(err) << ")";
  }
  PortRelay* v6 = AddRelay({Mapping("[::1]:0:7007")}, PortRelay::Limits());
  ASSERT_NE(v6, nullptr);
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_addr = in6addr_loopback;
  to.sin6_port = htons(v6->mappings()[0].host_port);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0) << strerror(errno);
  ASSERT_EQ(::fcntl(fd, F_SETFL, O_NONBLOCK), 0);
  const Exchanged r = Exchange(fd, "over v6", ~size_t{0}, /*half_close=*/true);
  ::close(fd);
  EXPECT_EQ(r.in, std::string("over v6") + kTrailer) << strerror(r.err);
  // IPV6_V6ONLY: the same port number stays free for IPv4.
  auto v4 = PortRelay::Bind({Mapping("127.0.0.1:" + std::to_string(v6->mappings()[0].host_port) + ":1")});
  EXPECT_TRUE(v4.ok()) << v4.status();
}

TEST_F(PortRelayTest, SocketErrorsComeBackFromTheHelper) {
  thread_->Pause();
  auto s = ns_->Socket(12345, SOCK_STREAM);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("socket(domain 12345, SOCK_STREAM) in the container's network namespace"));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("Address family not supported"));
  thread_->Resume();
}

TEST(NetnsSockets, JoiningTheUserNamespaceWeAlreadyShareFails) {
  const int before = CountFds();
  {
    Container c(/*new_user=*/false);
    ASSERT_TRUE(c.ok()) << c.error();
    auto ns = NetnsSockets::Start(c.pidfd(), /*join_user_ns=*/true);
    ASSERT_FALSE(ns.ok());
    EXPECT_THAT(std::string(ns.status().message()), HasSubstr("CLONE_NEWNET|CLONE_NEWUSER"));
    EXPECT_THAT(std::string(ns.status().message()), HasSubstr("Invalid argument"));
  }
  EXPECT_EQ(CountFds(), before);
}

// A UDP listener on 0.0.0.0 answers from the address the client sent to:
// a client connected to 127.0.0.2 drops replies from 127.0.0.1. Run in a
// network namespace of a forked child standing in for the host, so the
// wildcard listener is on nobody's network.
struct WildcardReport {
  int ok = 0;
  char detail[256] = {};
};

TEST(PortRelayWildcard, UdpRepliesLeaveFromTheAddressTheClientUsed) {
  const sandbox::NetlinkRequest lo_up = sandbox::PrepareLoopbackUp();
  const auto report = testing_util::RunInChild<WildcardReport>([&lo_up](WildcardReport& r) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const char* step = nullptr;
    if (::unshare(CLONE_NEWNET) != 0 || sandbox::LoopbackUpInChild(lo_up, &step) != 0) {
      snprintf(r.detail, sizeof r.detail, "the host's stand-in namespace: %s", strerror(errno));
      return;
    }
    Container c(/*new_user=*/false);
    auto ns = NetnsSockets::Start(c.pidfd(), false);
    auto loop = EventLoop::Create();
    auto relay = PortRelay::Bind({Mapping("0.0.0.0:0:7007/udp")});
    if (!c.ok() || !ns.ok() || !loop.ok() || !relay.ok() ||
        !relay->Start(*loop, [&](int d, int t) { return ns->Socket(d, t); }).ok()) {
      snprintf(r.detail, sizeof r.detail, "setup: %s %s", c.error().c_str(), relay.status().ToString().c_str());
      return;
    }
    LoopThread thread(*loop);
    const int u = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(relay->mappings()[0].host_port);
    to.sin_addr.s_addr = htonl(0x7f000002);  // 127.0.0.2
    if (::connect(u, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return;
    auto back = UdpRoundTrip(u, "which address?");
    if (!back) back = UdpRoundTrip(u, "which address?");
    r.ok = back.value_or("") == "which address?";
    if (!r.ok) snprintf(r.detail, sizeof r.detail, "no reply from 127.0.0.2");
    ::close(u);
    thread.Pause();
    relay->Stop();
  }, std::chrono::seconds(30));
  ASSERT_TRUE(report.has_value()) << "the child did not report";
  EXPECT_TRUE(report->ok) << report->detail;
}

// Out of descriptors, the relay stops accepting (EMFILE would wake the
// level-triggered loop forever) and takes the waiting client once a
// connection ends. In a forked child whose descriptor limit leaves room
// for exactly one connection (two sockets).
struct EmfileReport {
  int first_served = 0, second_waited = 0, second_served = 0;
  uint64_t paused = 0;
  char detail[256] = {};
};

bool ConnectExisting(int fd, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) return false;
  pollfd pfd{fd, POLLOUT, 0};
  return ::poll(&pfd, 1, kTimeoutMs) == 1;
}

TEST(PortRelayLimits, OutOfDescriptorsTheListenerWaits) {
  const auto report = testing_util::RunInChild<EmfileReport>(
      [](EmfileReport& r) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        Container c(/*new_user=*/false);
        auto ns = NetnsSockets::Start(c.pidfd(), false);
        auto loop = EventLoop::Create();
        auto relay = PortRelay::Bind({Mapping("127.0.0.1:0:7007")});
        if (!c.ok() || !ns.ok() || !loop.ok() || !relay.ok() ||
            !relay->Start(*loop, [&](int d, int t) { return ns->Socket(d, t); }).ok()) {
          snprintf(r.detail, sizeof r.detail, "setup: %s", c.error().c_str());
          return;
        }
        const uint16_t port = relay->mappings()[0].host_port;
        const int a = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        const int b = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        LoopThread thread(*loop);
        // Fill every free number below the highest open one, then allow two
        // more: the relay's client socket and the one from the container.
        int highest = 0;
        for (int fd = 0; fd < 4096; ++fd) {
          if (::fcntl(fd, F_GETFD) >= 0) highest = fd;
        }
        std::vector<int> fillers;
        for (;;) {
          const int fd = ::fcntl(null_fd, F_DUPFD_CLOEXEC, 0);  // the lowest free number
          if (fd < 0) break;
          if (fd > highest) {
            ::close(fd);
            break;
          }
          fillers.push_back(fd);
        }
        struct rlimit saved {};
        ::getrlimit(RLIMIT_NOFILE, &saved);
        struct rlimit tight = saved;
        tight.rlim_cur = static_cast<rlim_t>(highest) + 1 + 2;
        ::setrlimit(RLIMIT_NOFILE, &tight);

        if (ConnectExisting(a, port)) r.first_served = Exchange(a, "a", 1, false).in == "a";
        if (ConnectExisting(b, port)) {
          ::send(b, "b", 1, MSG_NOSIGNAL);
          pollfd pfd{b, POLLIN, 0};
          r.second_waited = ::poll(&pfd, 1, 500) == 0;
          // One descriptor free is not enough for a connection: b must go
          // on waiting, not be accepted and then reset.
          if (!fillers.empty()) {
            ::close(fillers.back());
            fillers.pop_back();
          }
          pfd = {b, POLLIN, 0};
          r.second_waited &= ::poll(&pfd, 1, 500) == 0;
        }
        ::close(a);  // its connection ends; b's turn
        const Exchanged second = Exchange(b, "", 1, false);
        r.second_served = second.in == "b";
        ::close(b);
        thread.Pause();
        r.paused = relay->counters().tcp_accept_paused;
        const PortRelay::Counters n = relay->counters();
        snprintf(r.detail, sizeof r.detail, "second: %s%s; accepted %lu, refused %lu, reset %lu",
                 strerror(second.err), second.eof ? ", EOF" : "", static_cast<unsigned long>(n.tcp_accepted),
                 static_cast<unsigned long>(n.tcp_refused), static_cast<unsigned long>(n.tcp_reset));
        relay->Stop();
        ::setrlimit(RLIMIT_NOFILE, &saved);
        for (int fd : fillers) ::close(fd);
        ::close(null_fd);
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(report.has_value()) << "the child did not report";
  EXPECT_TRUE(report->first_served) << report->detail;
  EXPECT_TRUE(report->second_waited) << "a connection was relayed (or reset) beyond the descriptor limit";
  EXPECT_TRUE(report->second_served) << "the waiting client was not taken after the first ended: "
                                     << report->detail;
  EXPECT_GE(report->paused, 1u);
}

// ---- rootless: everything above done by uid 65534 ----

struct RootlessReport {
  int skipped = 0;  // 1: user namespaces are not allowed here (detail says why)
  int tcp_ok = 0, udp_ok = 0;
  int helper_gone = 0;
  char detail[512] = {};
};

void Note(RootlessReport& r, const std::string& s) { snprintf(r.detail, sizeof r.detail, "%s", s.c_str()); }

TEST(PortRelayRootless, AnUnprivilegedMonitorRelaysIntoItsUserNamespace) {
  const auto report = testing_util::RunInChild<RootlessReport>(
      [](RootlessReport& r) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        constexpr uid_t kNobody = 65534;
        if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
            ::setresuid(kNobody, kNobody, kNobody) != 0) {
          Note(r, std::string("dropping to uid 65534: ") + strerror(errno));
          return;
        }
        // Changing uid made us non-dumpable: our children's /proc/self
        // would belong to root and uid_map could not be written.
        ::prctl(PR_SET_DUMPABLE, 1);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        Container c(/*new_user=*/true);
        if (!c.ok()) {
          if (c.step() == 1 && (c.err() == EPERM || c.err() == ENOSPC || c.err() == EINVAL || c.err() == EACCES)) {
            r.skipped = 1;
            Note(r, "uid 65534 may not create a user namespace here (" + c.error() + ")");
          } else {
            Note(r, "container: " + c.error());
          }
          return;
        }
        pid_t helper = 0;
        {
          auto ns = NetnsSockets::Start(c.pidfd(), /*join_user_ns=*/true);
          if (!ns.ok()) {
            Note(r, ns.status().ToString());
            return;
          }
          helper = ns->helper_pid();
          auto loop = EventLoop::Create();
          auto relay = PortRelay::Bind({Mapping("127.0.0.1:0:7007"), Mapping("127.0.0.1:0:7007/udp")});
          if (!loop.ok() || !relay.ok()) {
            Note(r, relay.status().ToString());
            return;
          }
          if (!relay->Start(*loop, [&](int d, int t) { return ns->Socket(d, t); }).ok()) return;
          {
            LoopThread thread(*loop);
            const int fd = ConnectTcp(relay->mappings()[0].host_port);
            if (fd >= 0) {
              const std::string out = Pattern(64 * 1024, 7);
              const Exchanged x = Exchange(fd, out, ~size_t{0}, /*half_close=*/true);
              r.tcp_ok = x.eof && x.in == out + kTrailer;
              if (!r.tcp_ok) Note(r, "tcp: got " + std::to_string(x.in.size()) + " bytes, " + strerror(x.err));
              ::close(fd);
            }
            const int u = UdpClient(relay->mappings()[1].host_port);
            auto back = UdpRoundTrip(u, "rootless");
            if (!back) back = UdpRoundTrip(u, "rootless");
            r.udp_ok = back.value_or("") == "rootless";
            ::close(u);
          }
          relay->Stop();
        }
        r.helper_gone = ::kill(helper, 0) == -1 && errno == ESRCH;
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(report.has_value()) << "the unprivileged monitor did not report";
  if (report->skipped) GTEST_SKIP() << report->detail;
  EXPECT_TRUE(report->tcp_ok) << report->detail;
  EXPECT_TRUE(report->udp_ok) << report->detail;
  EXPECT_TRUE(report->helper_gone) << report->detail;
}

}  // namespace
}  // namespace itest
