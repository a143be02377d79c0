// The -p value: split from the right (protocol, then the ports), so that a
// bracketed IPv6 address with its colons is taken whole; every number is
// checked digit by digit (no sign, no spaces, no overflow).
#include "runtime/publish.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <algorithm>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace runtime {
namespace {

absl::Status Invalid(absl::string_view spec, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("-p \"", absl::CHexEscape(spec), "\": ", reason));
}

// Decimal digits only, at most 65535; nullopt otherwise (empty, a sign,
// a space, too large).
std::optional<uint32_t> ParsePort(absl::string_view s) {
  if (s.empty()) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(c - '0');
    if (v > 65535) return std::nullopt;
  }
  return v;
}

std::string Quoted(absl::string_view s) { return absl::StrCat("\"", absl::CHexEscape(s), "\""); }

}  // namespace

const char* PortProtoName(PortProto p) { return p == PortProto::kUdp ? "udp" : "tcp"; }

absl::StatusOr<PortMapping> ParsePublish(absl::string_view spec) {
  PortMapping m;
  m.spec = std::string(spec);
  if (spec.empty()) return Invalid(spec, "empty value (expected [IP:]HOSTPORT:PORT[/tcp|/udp])");

  absl::string_view rest = spec;
  if (const size_t slash = rest.rfind('/'); slash != absl::string_view::npos) {
    const absl::string_view proto = rest.substr(slash + 1);
    if (proto == "tcp") {
      m.proto = PortProto::kTcp;
    } else if (proto == "udp") {
      m.proto = PortProto::kUdp;
    } else if (proto == "sctp") {
      return Invalid(spec, "sctp is not supported (tcp or udp)");
    } else {
      return Invalid(spec, absl::StrCat("unknown protocol ", Quoted(proto), " (tcp or udp)"));
    }
    rest = rest.substr(0, slash);
  }

  // The address, when there is one, and what follows it: HOSTPORT:PORT.
  absl::string_view ip, ports;
  bool have_ip = false;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == absl::string_view::npos) return Invalid(spec, "missing ']' after the IPv6 address");
    ip = rest.substr(1, close - 1);
    have_ip = true;
    if (close + 1 >= rest.size() || rest[close + 1] != ':') {
      return Invalid(spec, "expected ':HOSTPORT:PORT' after the bracketed address");
    }
    ports = rest.substr(close + 2);
    if (ports.find(':') == absl::string_view::npos) {
      return Invalid(spec, "expected [IPv6]:HOSTPORT:PORT");
    }
  } else {
    const size_t colons = static_cast<size_t>(std::count(rest.begin(), rest.end(), ':'));
    if (colons > 2) return Invalid(spec, "too many ':' (an IPv6 address goes in brackets: [::1]:8080:80)");
    if (colons == 2) {
      const size_t first = rest.find(':');
      ip = rest.substr(0, first);
      have_ip = true;
      ports = rest.substr(first + 1);
    } else {
      ports = rest;
    }
  }

  absl::string_view host_port, container_port;
  if (const size_t colon = ports.find(':'); colon != absl::string_view::npos) {
    host_port = ports.substr(0, colon);
    container_port = ports.substr(colon + 1);
    if (host_port.empty() && !have_ip) {
      return Invalid(spec, "empty host port (give a port, 0 or IP::PORT for any free one)");
    }
  } else {
    container_port = ports;  // PORT alone: any free host port, as docker does
  }

  if (have_ip) {
    if (ip.empty()) return Invalid(spec, "empty IP address");
    const std::string ip_str(ip);
    if (!rest.empty() && rest.front() == '[') {
      in6_addr a6{};
      if (::inet_pton(AF_INET6, ip_str.c_str(), &a6) != 1) {
        return Invalid(spec, absl::StrCat(Quoted(ip), " is not an IPv6 address"));
      }
      m.family = AF_INET6;
      memcpy(m.host_addr.data(), &a6, sizeof a6);
    } else {
      in_addr a4{};
      if (::inet_pton(AF_INET, ip_str.c_str(), &a4) != 1) {
        return Invalid(spec, absl::StrCat(Quoted(ip), " is not an IPv4 address (IPv6 goes in brackets)"));
      }
      m.family = AF_INET;
      memcpy(m.host_addr.data(), &a4, sizeof a4);
    }
  }

  if (!host_port.empty()) {
    const std::optional<uint32_t> hp = ParsePort(host_port);
    if (!hp) return Invalid(spec, absl::StrCat("host port ", Quoted(host_port), " is not a number in 0-65535"));
    m.host_port = static_cast<uint16_t>(*hp);
  }
  const std::optional<uint32_t> cp = ParsePort(container_port);
  if (!cp) {
    return Invalid(spec, absl::StrCat("container port ", Quoted(container_port), " is not a number in 1-65535"));
  }
  if (*cp == 0) return Invalid(spec, "container port 0 is out of range (1-65535)");
  m.container_port = static_cast<uint16_t>(*cp);
  return m;
}

std::string HostAddressText(const PortMapping& m) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(m.family, m.host_addr.data(), buf, sizeof buf) == nullptr) return "?";
  return buf;
}

namespace {

std::string HostPart(const PortMapping& m) {
  const std::string addr = HostAddressText(m);
  return m.family == AF_INET6 ? absl::StrCat("[", addr, "]") : addr;
}

}  // namespace

std::string FormatPublish(const PortMapping& m) {
  return absl::StrCat(HostPart(m), ":", m.host_port, "->", m.container_port, "/", PortProtoName(m.proto));
}

std::string PublishSpec(const PortMapping& m) {
  return absl::StrCat(HostPart(m), ":", m.host_port, ":", m.container_port, "/", PortProtoName(m.proto));
}

}  // namespace runtime
