// The host sockets of -p, as docker-proxy's, without iptables and without
// privilege. Bind() takes every one before the container starts, so a host
// port in use fails the run early; minipod-monitor (monitor/relay.cc) then
// receives them and carries each TCP connection, or each UDP client's
// datagrams, to 127.0.0.1:PORT inside the container.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "runtime/publish.h"

namespace runtime {

class PortListeners {
 public:
  // Binds and (for TCP) listens on every mapping's host address now:
  // SO_REUSEADDR for TCP (a port in TIME_WAIT is free), IPV6_V6ONLY for
  // IPv6 addresses, IP_PKTINFO / IPV6_RECVPKTINFO on a wildcard UDP one
  // (its replies must leave from the address the client used). A failure
  // names the -p value and the reason, e.g.
  //   -p 8080:80: bind(0.0.0.0:8080/tcp): Address already in use
  // (EADDRINUSE maps to absl's FAILED_PRECONDITION code; EACCES for a port below
  // net.ipv4.ip_unprivileged_port_start to PERMISSION_DENIED).
  static absl::StatusOr<PortListeners> Bind(const std::vector<PortMapping>& mappings);

  // The mappings as bound: host port 0 replaced by the port the kernel chose.
  const std::vector<PortMapping>& mappings() const { return mappings_; }
  // Each listener's descriptor, in mappings() order (still owned here).
  std::vector<int> fds() const;

 private:
  std::vector<PortMapping> mappings_;
  std::vector<common::UniqueFd> fds_;
};

}  // namespace runtime
