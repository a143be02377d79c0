// Loopback checks for tests that run in a network namespace they created:
// the flags of `lo`, and one TCP round trip over 127.0.0.1 with every wait
// bounded. Header-only; plain syscalls, no allocation, so a forked child
// may call them.
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace testing_util {

// The flags of `lo` in the caller's network namespace (IFF_UP, IFF_LOOPBACK,
// ...); 0 when they cannot be read.
inline unsigned LoFlags() {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return 0;
  ifreq ifr{};
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  const int rc = ::ioctl(s, SIOCGIFFLAGS, &ifr);
  ::close(s);
  return rc == 0 ? static_cast<unsigned>(static_cast<unsigned short>(ifr.ifr_flags)) : 0;
}

// A listener on 127.0.0.1 (a port the kernel picks), a client connecting to
// it, one byte across; each step waits at most timeout_ms. 0, ETIMEDOUT,
// EIO for a wrong byte, or the errno of the failing call (ENETUNREACH
// while lo is down).
inline int TcpRoundTrip(int timeout_ms = 5000) {
  int err = 0;
  const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int a = -1;
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char byte = 0;
  // Waits for events on fd; false (err set) on timeout or failure.
  auto wait_for = [&](int fd, short events) {
    pollfd pfd{fd, events, 0};
    const int p = ::poll(&pfd, 1, timeout_ms);
    if (p == 1) return true;
    err = p == 0 ? ETIMEDOUT : errno;
    return false;
  };
  if (l < 0 || c < 0) {
    err = errno;
  } else if (::bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(l, 1) != 0 ||
             ::getsockname(l, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    err = errno;
  } else if (::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    err = errno;
  } else if (wait_for(l, POLLIN)) {
    a = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    if (a < 0) {
      err = errno;
    } else if (wait_for(c, POLLOUT)) {
      if (::write(c, "x", 1) != 1) {
        err = errno;
      } else if (wait_for(a, POLLIN)) {
        if (::read(a, &byte, 1) != 1 || byte != 'x') err = EIO;
      }
    }
  }
  if (a >= 0) ::close(a);
  if (c >= 0) ::close(c);
  if (l >= 0) ::close(l);
  return err;
}

}  // namespace testing_util
