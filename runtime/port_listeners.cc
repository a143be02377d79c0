// The host sockets of -p: bound (and for TCP listening) by `minipod run -d`
// before the container starts, then handed to minipod-monitor, which
// relays them (monitor/relay.cc).
#include "runtime/port_listeners.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"

namespace runtime {
namespace {

void SetInt(int fd, int level, int name, int value) { ::setsockopt(fd, level, name, &value, sizeof value); }

bool IsWildcard(const PortMapping& m) {
  const size_t n = m.family == AF_INET6 ? 16 : 4;
  return std::all_of(m.host_addr.begin(), m.host_addr.begin() + n, [](uint8_t b) { return b == 0; });
}

}  // namespace

absl::StatusOr<PortListeners> PortListeners::Bind(const std::vector<PortMapping>& mappings) {
  PortListeners out;
  for (const PortMapping& m : mappings) {
    const bool is_tcp = m.proto == PortProto::kTcp;
    const std::string what = absl::StrCat("-p ", m.spec.empty() ? PublishSpec(m) : m.spec, ": ");
    common::UniqueFd fd(::socket(m.family, (is_tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return common::ErrnoStatus(errno, absl::StrCat(what, "socket"));
    if (m.family == AF_INET6) SetInt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1);
    // Not for UDP: there it would let a second socket share the port.
    if (is_tcp) SetInt(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1);
    PortMapping bound = m;
    if (!is_tcp && IsWildcard(m)) {
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
    bound.host_port = ntohs(m.family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    out.mappings_.push_back(bound);
    out.fds_.push_back(std::move(fd));
  }
  return out;
}


std::vector<int> PortListeners::fds() const {
  std::vector<int> fds;
  for (const common::UniqueFd& fd : fds_) fds.push_back(fd.get());
  return fds;
}

}  // namespace runtime
