// PortListeners without privileges, on 127.0.0.1 of the test's own network
// namespace: the ports the kernel chose, Bind's errors, and the sockets
// given back when the object goes. The relaying itself is minipod-monitor's
// (tests/integration/containers_test.cc).
#include "runtime/port_listeners.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace runtime {
namespace {

PortMapping Mapping(const std::string& spec) {
  auto m = ParsePublish(spec);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : PortMapping{};
}

TEST(PortListeners, PortZeroIsReportedAsTheKernelChoseIt) {
  auto ports = PortListeners::Bind({Mapping("127.0.0.1:0:80"), Mapping("127.0.0.1:0:53/udp")});
  ASSERT_TRUE(ports.ok()) << ports.status();
  ASSERT_EQ(ports->mappings().size(), 2u);
  ASSERT_EQ(ports->fds().size(), 2u);
  EXPECT_NE(ports->mappings()[0].host_port, 0);
  EXPECT_NE(ports->mappings()[1].host_port, 0);
  EXPECT_EQ(ports->mappings()[0].container_port, 80);
  EXPECT_EQ(FormatPublish(ports->mappings()[0]),
            "127.0.0.1:" + std::to_string(ports->mappings()[0].host_port) + "->80/tcp");
  // Each descriptor is the socket of its mapping.
  for (size_t i = 0; i < 2; ++i) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ASSERT_EQ(::getsockname(ports->fds()[i], reinterpret_cast<sockaddr*>(&a), &len), 0);
    EXPECT_EQ(ntohs(a.sin_port), ports->mappings()[i].host_port);
    int type = 0;
    len = sizeof type;
    ASSERT_EQ(::getsockopt(ports->fds()[i], SOL_SOCKET, SO_TYPE, &type, &len), 0);
    EXPECT_EQ(type, i == 0 ? SOCK_STREAM : SOCK_DGRAM);
  }
}

TEST(PortListeners, APortInUseNamesTheSpecAndDestructionFreesIt) {
  std::optional<absl::StatusOr<PortListeners>> first(PortListeners::Bind({Mapping("127.0.0.1:0:80")}));
  ASSERT_TRUE(first->ok()) << first->status();
  const std::string port = std::to_string((*first)->mappings()[0].host_port);
  const std::string spec = "127.0.0.1:" + port + ":80";
  auto second = PortListeners::Bind({Mapping(spec)});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);  // absl::ErrnoToStatus(EADDRINUSE)
  EXPECT_EQ(second.status().message(), "-p " + spec + ": bind(127.0.0.1:" + port + "/tcp): Address already in use");
  first.reset();
  auto third = PortListeners::Bind({Mapping(spec)});
  EXPECT_TRUE(third.ok()) << third.status();
}

}  // namespace
}  // namespace runtime
