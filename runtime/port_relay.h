// The monitor's port relays for -p, as docker-proxy does, without iptables
// and without privilege: the monitor listens on the host and carries each
// TCP connection, or each UDP client's datagrams, to 127.0.0.1:PORT inside
// the container, over a socket made in the container's network namespace
// (NetnsSockets, or any function that makes one).
//
// Bind() takes every host socket before the container starts, so a host
// port in use fails the run early. Start() puts them into the monitor's
// event loop:
// - TCP: accept (many clients at once), a non-blocking connect to
//   127.0.0.1:PORT in the container (also for an IPv6 listener: most
//   servers listen on IPv4, and the container's loopback always has it);
//   refused or failed inside: the client is reset at once. Data flows both
//   ways through one shared scratch buffer; only bytes the other side
//   cannot take yet are kept, per direction, at most `tcp_buffer` of them,
//   and while they wait the source is not read (back-pressure). EOF one
//   way becomes shutdown(SHUT_WR) on the other and the other direction
//   goes on (half-close); a reset or error on either side resets both.
// - UDP: one session socket in the container per client address (and host
//   address it was sent to), connected to 127.0.0.1:PORT; replies go back
//   from the host socket to that client, from the address the client used
//   (IP_PKTINFO on a wildcard listener). A session idle for `udp_idle_ms`
//   is closed.
// Connections and sessions are bounded (the descriptors a flood could take
// from the monitor); at the TCP bound the listeners stop accepting until a
// connection ends, at the UDP bound new clients' datagrams are dropped.
// Each connection or session needs two descriptors: a monitor relaying
// many should raise its soft RLIMIT_NOFILE to the hard one. A connect
// inside that hangs (the server's backlog full) is left to the kernel's
// SYN retries, as a direct client's would be.
//
// In the monitor:
//   ASSIGN_OR_RETURN(PortRelay relay, PortRelay::Bind(mappings));  // before the container starts
//   ... start the container ...
//   ASSIGN_OR_RETURN(NetnsSockets sockets, NetnsSockets::Start(pidfd, has_own_userns));
//   RETURN_IF_ERROR(relay.Start(loop, [&sockets](int domain, int type) {
//     return sockets.Socket(domain, type);
//   }));
//   ... relay.mappings() for ps/inspect (FormatPublish), relay.Stop() at the end;
//   sockets must outlive the relay's Start..Stop.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "runtime/event_loop.h"
#include "runtime/publish.h"

namespace runtime {

class PortRelay {
 public:
  // Makes a socket in the container's network namespace: domain AF_INET,
  // type SOCK_STREAM or SOCK_DGRAM with SOCK_NONBLOCK.
  using SocketInContainer = std::function<absl::StatusOr<common::UniqueFd>(int domain, int type)>;

  struct Limits {
    size_t max_tcp_connections = 1024;  // for all mappings together
    size_t max_udp_sessions = 1024;     // likewise
    int64_t udp_idle_ms = 60'000;
    size_t tcp_buffer = 64 * 1024;  // the scratch buffer; at most this much waits per direction
    // SO_SNDBUF and SO_RCVBUF of both sockets of a TCP connection, which
    // bounds the kernel's memory per connection too; 0: the kernel's
    // autotuning (up to net.ipv4.tcp_rmem/tcp_wmem, megabytes).
    int tcp_socket_buffer = 0;
  };

  // What happened so far, for inspect and tests.
  struct Counters {
    uint64_t tcp_accepted = 0;
    uint64_t tcp_refused = 0;  // no socket or no listener inside: the client was reset
    uint64_t tcp_reset = 0;    // ended by an error or a reset on either side
    // Times a destination took less than it was given: the source was not
    // read until it took the rest (back-pressure).
    uint64_t tcp_stalls = 0;
    // Times accepting paused for lack of descriptors (EMFILE, ENFILE).
    uint64_t tcp_accept_paused = 0;
    uint64_t udp_sessions = 0;
    uint64_t udp_dropped = 0;  // datagrams dropped: session bound, no socket, full buffers
  };

  // Binds and (for TCP) listens on every mapping's host address now:
  // SO_REUSEADDR for TCP (a port in TIME_WAIT is free), IPV6_V6ONLY for
  // IPv6 addresses. A failure names the -p value and the reason, e.g.
  //   -p 8080:80: bind(0.0.0.0:8080/tcp): Address already in use
  // (EADDRINUSE maps to absl's FAILED_PRECONDITION code; EACCES for a port below
  // net.ipv4.ip_unprivileged_port_start to PERMISSION_DENIED).
  static absl::StatusOr<PortRelay> Bind(const std::vector<PortMapping>& mappings, const Limits& limits);
  static absl::StatusOr<PortRelay> Bind(const std::vector<PortMapping>& mappings) {
    return Bind(mappings, Limits());
  }

  PortRelay(PortRelay&&) noexcept;
  PortRelay& operator=(PortRelay&&) noexcept;
  ~PortRelay();  // Stop()

  // The mappings as bound: host port 0 replaced by the port the kernel chose.
  const std::vector<PortMapping>& mappings() const;
  // Each listener's descriptor, in mappings() order (still owned here), for
  // a monitor that hands them to minipod-monitor instead of Start()ing.
  std::vector<int> listener_fds() const;

  // Starts relaying in loop, which must outlive Stop() (or this object).
  // Once only.
  absl::Status Start(EventLoop& loop, SocketInContainer socket_in_container);
  // Closes every listener, connection and session, and forgets the loop.
  void Stop();

  size_t tcp_connections() const;
  size_t udp_sessions() const;
  Counters counters() const;

 private:
  struct Impl;
  explicit PortRelay(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace runtime
