// PortRelay without privileges, on 127.0.0.1 of the test's own network
// namespace: Bind's errors and chosen ports, Stop freeing the ports, and a
// TCP and a UDP round trip with "the container" being this namespace (the
// sockets come from plain socket(2)). The relays into a real container's
// namespace, as root and rootless, are in tests/integration.
#include "runtime/port_relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace runtime {
namespace {

using ::testing::HasSubstr;

PortMapping Mapping(const std::string& spec) {
  auto m = ParsePublish(spec);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : PortMapping{};
}

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A socket bound to 127.0.0.1 on a port the kernel picks (listening for
// TCP): the "server inside".
common::UniqueFd Server(int type, uint16_t& port) {
  common::UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_in a = Loopback(0);
  socklen_t len = sizeof a;
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  if (type == SOCK_STREAM) {
    EXPECT_EQ(::listen(fd.get(), 8), 0);
  }
  EXPECT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
  port = ntohs(a.sin_port);
  return fd;
}

absl::StatusOr<common::UniqueFd> PlainSocket(int domain, int type) {
  common::UniqueFd fd(::socket(domain, type | SOCK_CLOEXEC, 0));
  if (!fd) return absl::ErrnoToStatus(errno, "socket");
  return fd;
}

// Runs the loop until done() or 5 s.
bool RunUntil(EventLoop& loop, const std::function<bool()>& done) {
  for (const int64_t deadline = EventLoop::NowMs() + 5000; EventLoop::NowMs() < deadline;) {
    if (done()) return true;
    if (!loop.RunOnce(10).ok()) return false;
  }
  return done();
}

TEST(PortRelayBind, PortZeroIsReportedAsTheKernelChoseIt) {
  auto relay = PortRelay::Bind({Mapping("127.0.0.1:0:80"), Mapping("127.0.0.1:0:53/udp")});
  ASSERT_TRUE(relay.ok()) << relay.status();
  ASSERT_EQ(relay->mappings().size(), 2u);
  EXPECT_NE(relay->mappings()[0].host_port, 0);
  EXPECT_NE(relay->mappings()[1].host_port, 0);
  EXPECT_EQ(relay->mappings()[0].container_port, 80);
  EXPECT_EQ(FormatPublish(relay->mappings()[0]),
            "127.0.0.1:" + std::to_string(relay->mappings()[0].host_port) + "->80/tcp");
}

TEST(PortRelayBind, APortInUseNamesTheSpecAndStopFreesIt) {
  auto first = PortRelay::Bind({Mapping("127.0.0.1:0:80")});
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string spec = "127.0.0.1:" + std::to_string(first->mappings()[0].host_port) + ":80";
  auto second = PortRelay::Bind({Mapping(spec)});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);  // absl::ErrnoToStatus(EADDRINUSE)
  EXPECT_EQ(second.status().message(), "-p " + spec + ": bind(127.0.0.1:" +
                                           std::to_string(first->mappings()[0].host_port) +
                                           "/tcp): Address already in use");
  first->Stop();
  auto third = PortRelay::Bind({Mapping(spec)});
  EXPECT_TRUE(third.ok()) << third.status();
}

TEST(PortRelayBind, StartTwiceOrAfterStopFails) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  auto relay = PortRelay::Bind({Mapping("127.0.0.1:0:80")});
  ASSERT_TRUE(relay.ok());
  EXPECT_TRUE(relay->Start(*loop, PlainSocket).ok());
  EXPECT_EQ(relay->Start(*loop, PlainSocket).code(), absl::StatusCode::kFailedPrecondition);
  relay->Stop();
  EXPECT_EQ(relay->Start(*loop, PlainSocket).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PortRelay, TcpRoundTripAndHalfClose) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  uint16_t inner_port = 0;
  common::UniqueFd server = Server(SOCK_STREAM, inner_port);
  auto relay = PortRelay::Bind({Mapping("127.0.0.1:0:" + std::to_string(inner_port))});
  ASSERT_TRUE(relay.ok()) << relay.status();
  ASSERT_TRUE(relay->Start(*loop, PlainSocket).ok());

  common::UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  const sockaddr_in to = Loopback(relay->mappings()[0].host_port);
  ASSERT_TRUE(::connect(client.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0 ||
              errno == EINPROGRESS);
  common::UniqueFd conn;
  ASSERT_TRUE(RunUntil(*loop, [&] {
    conn = common::UniqueFd(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    return conn.valid();
  })) << "the relay did not connect inside";

  ASSERT_TRUE(RunUntil(*loop, [&] { return ::send(client.get(), "ping", 4, MSG_NOSIGNAL) == 4; }));
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  std::string got;
  bool eof = false;
  ASSERT_TRUE(RunUntil(*loop, [&] {
    char buf[16];
    const ssize_t n = ::recv(conn.get(), buf, sizeof buf, 0);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
    eof = n == 0;
    return eof;
  }));
  EXPECT_EQ(got, "ping");  // and then the client's EOF
  ASSERT_EQ(::send(conn.get(), "pong", 4, MSG_NOSIGNAL), 4);  // the other way still open
  conn.Reset();
  got.clear();
  ASSERT_TRUE(RunUntil(*loop, [&] {
    char buf[16];
    const ssize_t n = ::recv(client.get(), buf, sizeof buf, 0);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
    return n == 0;
  }));
  EXPECT_EQ(got, "pong");
  EXPECT_TRUE(RunUntil(*loop, [&] { return relay->tcp_connections() == 0; }));
  EXPECT_EQ(relay->counters().tcp_accepted, 1u);
}

TEST(PortRelay, UdpRoundTrip) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  uint16_t inner_port = 0;
  common::UniqueFd server = Server(SOCK_DGRAM, inner_port);
  auto relay = PortRelay::Bind({Mapping("127.0.0.1:0:" + std::to_string(inner_port) + "/udp")});
  ASSERT_TRUE(relay.ok()) << relay.status();
  ASSERT_TRUE(relay->Start(*loop, PlainSocket).ok());

  common::UniqueFd client(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  const sockaddr_in to = Loopback(relay->mappings()[0].host_port);
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to), 0);
  ASSERT_EQ(::send(client.get(), "question", 8, 0), 8);
  sockaddr_storage from{};
  socklen_t from_len = 0;
  std::string got;
  ASSERT_TRUE(RunUntil(*loop, [&] {
    char buf[64];
    from_len = sizeof from;
    const ssize_t n = ::recvfrom(server.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n > 0) got.assign(buf, static_cast<size_t>(n));
    return n > 0;
  }));
  EXPECT_EQ(got, "question");
  ASSERT_EQ(::sendto(server.get(), "answer", 6, 0, reinterpret_cast<sockaddr*>(&from), from_len), 6);
  got.clear();
  ASSERT_TRUE(RunUntil(*loop, [&] {
    char buf[64];
    const ssize_t n = ::recv(client.get(), buf, sizeof buf, 0);
    if (n > 0) got.assign(buf, static_cast<size_t>(n));
    return n > 0;
  }));
  EXPECT_EQ(got, "answer");
  EXPECT_EQ(relay->udp_sessions(), 1u);
  relay->Stop();
  EXPECT_EQ(relay->udp_sessions(), 0u);
}

}  // namespace
}  // namespace runtime
