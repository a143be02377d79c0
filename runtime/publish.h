// `-p|--publish [IP:]HOSTPORT:PORT[/tcp|/udp]`: the value parsed into a
// PortMapping (pure, no syscalls but inet_pton/inet_ntop), and the two ways
// it is written back: docker's `0.0.0.0:8080->80/tcp` for ps and inspect,
// and a canonical -p value for the state file.
#pragma once

#include <stdint.h>
#include <sys/socket.h>

#include <array>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace runtime {

enum class PortProto { kTcp, kUdp };

struct PortMapping {
  int family = AF_INET;                // of the host address: AF_INET or AF_INET6
  std::array<uint8_t, 16> host_addr{};  // network order; the first 4 bytes for AF_INET
  // 0: any free port; the one the kernel chose is reported
  // (PortListeners::mappings()).
  uint16_t host_port = 0;
  uint16_t container_port = 0;  // 1..65535
  PortProto proto = PortProto::kTcp;
  std::string spec;  // the value as given, for error messages

  // Equal mappings listen on the same address for the same container port;
  // `spec` is left out.
  bool operator==(const PortMapping& o) const {
    return family == o.family && host_addr == o.host_addr && host_port == o.host_port &&
           container_port == o.container_port && proto == o.proto;
  }
};

// Accepts `HOSTPORT:PORT`, `IP:HOSTPORT:PORT`, `IP::PORT` (any free host
// port, as docker does), `[IPv6]:HOSTPORT:PORT`, each with an optional
// `/tcp` or `/udp` (tcp when absent). IP is a dotted IPv4 address or a
// bracketed IPv6 one (inet_pton, no zone); 0.0.0.0 when absent. HOSTPORT is
// 0..65535 (0: any free port), PORT 1..65535, decimal digits only. The
// error names the value and the reason:
//   -p "8080:0": container port 0 is out of range (1-65535)
absl::StatusOr<PortMapping> ParsePublish(absl::string_view spec);

// docker ps's wording: `0.0.0.0:8080->80/tcp`, `[::1]:8080->80/udp`.
std::string FormatPublish(const PortMapping& m);

// The canonical -p value, which ParsePublish reads back as an equal mapping:
// `0.0.0.0:8080:80/tcp`, `[::1]:8080:80/udp`.
std::string PublishSpec(const PortMapping& m);

// The host address alone: `0.0.0.0`, `::1` (no brackets).
std::string HostAddressText(const PortMapping& m);

const char* PortProtoName(PortProto p);  // "tcp", "udp"

}  // namespace runtime
