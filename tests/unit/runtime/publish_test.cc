// -p values: every accepted form, the defaults, each rejection with the
// value and the reason in one line, and the two ways a mapping is written
// back (docker's ps wording and a -p value that parses to the same mapping).
#include "runtime/publish.h"

#include <arpa/inet.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace runtime {
namespace {

using ::testing::HasSubstr;

PortMapping Parsed(const std::string& spec) {
  auto m = ParsePublish(spec);
  EXPECT_TRUE(m.ok()) << spec << ": " << m.status();
  return m.ok() ? *m : PortMapping{};
}

std::string Error(const std::string& spec) {
  auto m = ParsePublish(spec);
  EXPECT_FALSE(m.ok()) << spec << " parsed as " << (m.ok() ? FormatPublish(*m) : "");
  return m.ok() ? "" : std::string(m.status().message());
}

TEST(ParsePublish, HostPortAndPortDefaultToTcpOnEveryAddress) {
  const PortMapping m = Parsed("8080:80");
  EXPECT_EQ(m.family, AF_INET);
  EXPECT_EQ(HostAddressText(m), "0.0.0.0");
  EXPECT_EQ(m.host_port, 8080);
  EXPECT_EQ(m.container_port, 80);
  EXPECT_EQ(m.proto, PortProto::kTcp);
  EXPECT_EQ(m.spec, "8080:80");
}

TEST(ParsePublish, Ipv4AddressAndProtocols) {
  PortMapping m = Parsed("127.0.0.1:5353:53/udp");
  EXPECT_EQ(HostAddressText(m), "127.0.0.1");
  EXPECT_EQ(m.host_port, 5353);
  EXPECT_EQ(m.container_port, 53);
  EXPECT_EQ(m.proto, PortProto::kUdp);
  m = Parsed("10.1.2.3:1:65535/tcp");
  EXPECT_EQ(m.host_port, 1);
  EXPECT_EQ(m.container_port, 65535);
  EXPECT_EQ(m.proto, PortProto::kTcp);
}

TEST(ParsePublish, BracketedIpv6) {
  PortMapping m = Parsed("[::1]:8080:80");
  EXPECT_EQ(m.family, AF_INET6);
  EXPECT_EQ(HostAddressText(m), "::1");
  EXPECT_EQ(m.host_port, 8080);
  m = Parsed("[2001:db8::7]:443:8443/udp");
  EXPECT_EQ(HostAddressText(m), "2001:db8::7");
  EXPECT_EQ(m.proto, PortProto::kUdp);
  m = Parsed("[::]::80");
  EXPECT_EQ(HostAddressText(m), "::");
  EXPECT_EQ(m.host_port, 0);
}

TEST(ParsePublish, AnyFreeHostPort) {
  EXPECT_EQ(Parsed("0:80").host_port, 0);
  EXPECT_EQ(Parsed("127.0.0.1::80").host_port, 0);
  const PortMapping m = Parsed("80/udp");
  EXPECT_EQ(m.host_port, 0);
  EXPECT_EQ(m.container_port, 80);
  EXPECT_EQ(m.proto, PortProto::kUdp);
}

TEST(ParsePublish, LeadingZerosAreDecimal) { EXPECT_EQ(Parsed("0080:00080").host_port, 80); }

TEST(ParsePublish, RejectionsNameTheValueAndTheReason) {
  EXPECT_EQ(Error(""), "-p \"\": empty value (expected [IP:]HOSTPORT:PORT[/tcp|/udp])");
  EXPECT_EQ(Error("8080:0"), "-p \"8080:0\": container port 0 is out of range (1-65535)");
  EXPECT_THAT(Error("8080:65536"), HasSubstr("container port \"65536\" is not a number in 1-65535"));
  EXPECT_THAT(Error("65536:80"), HasSubstr("host port \"65536\" is not a number in 0-65535"));
  EXPECT_THAT(Error("99999999999999999999:80"), HasSubstr("host port"));
  EXPECT_THAT(Error("-1:80"), HasSubstr("host port \"-1\""));
  EXPECT_THAT(Error("+80:80"), HasSubstr("host port \"+80\""));
  EXPECT_THAT(Error(" 80:80"), HasSubstr("host port \" 80\""));
  EXPECT_THAT(Error("80:"), HasSubstr("container port \"\""));
  EXPECT_THAT(Error(":80"), HasSubstr("empty host port"));
  EXPECT_THAT(Error("8080:80/sctp"), HasSubstr("sctp is not supported"));
  EXPECT_THAT(Error("8080:80/TCP"), HasSubstr("unknown protocol \"TCP\""));
  EXPECT_THAT(Error("8080:80/"), HasSubstr("unknown protocol \"\""));
  EXPECT_THAT(Error("8080:80/tcp/udp"), HasSubstr("container port \"80/tcp\""));
  EXPECT_THAT(Error("1.2.3:8080:80"), HasSubstr("\"1.2.3\" is not an IPv4 address"));
  EXPECT_THAT(Error("localhost:8080:80"), HasSubstr("\"localhost\" is not an IPv4 address"));
  EXPECT_THAT(Error(":8080:80"), HasSubstr("empty IP address"));
  EXPECT_THAT(Error("::1:8080:80"), HasSubstr("IPv6 address goes in brackets"));
  EXPECT_THAT(Error("[::1:8080:80"), HasSubstr("missing ']'"));
  EXPECT_THAT(Error("[::1]8080:80"), HasSubstr("after the bracketed address"));
  EXPECT_THAT(Error("[::1]:80"), HasSubstr("expected [IPv6]:HOSTPORT:PORT"));
  EXPECT_THAT(Error("[127.0.0.1]:8080:80"), HasSubstr("is not an IPv6 address"));
  EXPECT_THAT(Error("[fe80::1%eth0]:8080:80"), HasSubstr("is not an IPv6 address"));
  EXPECT_THAT(Error("[]:8080:80"), HasSubstr("empty IP address"));
}

TEST(ParsePublish, ControlBytesAreEscapedInTheMessage) {
  const std::string msg = Error(std::string("80\n:8\0", 6));
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_THAT(msg, HasSubstr("\\n"));
}

TEST(FormatPublish, DockersWording) {
  EXPECT_EQ(FormatPublish(Parsed("8080:80")), "0.0.0.0:8080->80/tcp");
  EXPECT_EQ(FormatPublish(Parsed("127.0.0.1:5353:53/udp")), "127.0.0.1:5353->53/udp");
  EXPECT_EQ(FormatPublish(Parsed("[::1]:8080:80")), "[::1]:8080->80/tcp");
}

TEST(PublishSpec, ReadsBackAsTheSameMapping) {
  for (const char* spec : {"8080:80", "127.0.0.1:5353:53/udp", "[::1]:8080:80", "[::]::80/udp", "80", "0:1"}) {
    const PortMapping m = Parsed(spec);
    const std::string canonical = PublishSpec(m);
    EXPECT_EQ(Parsed(canonical), m) << spec << " -> " << canonical;
  }
  EXPECT_EQ(PublishSpec(Parsed("8080:80")), "0.0.0.0:8080:80/tcp");
  EXPECT_EQ(PublishSpec(Parsed("[::1]:1:2/udp")), "[::1]:1:2/udp");
}

}  // namespace
}  // namespace runtime
