// Loopback helpers of the pod tests: a free port on 127.0.0.1 and an
// HTTP/1.0 GET through it (the pod's published port, answered by busybox
// httpd in a member), each step bounded.
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>

namespace itest {

// A port on 127.0.0.1 that is free now (the kernel's pick; closed again).
inline int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// GET / from 127.0.0.1:port, HTTP/1.0; the body, or "<error: ...>". Each
// step waits at most 5 s.
inline std::string HttpGet(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "<error: socket>";
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    reply = std::string("<error: connect: ") + strerror(errno) + ">";
  } else {
    const char request[] = "GET / HTTP/1.0\r\n\r\n";
    if (::write(fd, request, sizeof request - 1) != static_cast<ssize_t>(sizeof request - 1)) {
      reply = "<error: write>";
    } else {
      char buf[4096];
      for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0 && reply.size() < (1 << 20);) reply.append(buf, n);
      const size_t body = reply.find("\r\n\r\n");
      reply = body == std::string::npos ? "<error: no HTTP reply: " + reply + ">" : reply.substr(body + 4);
    }
  }
  ::close(fd);
  return reply;
}

}  // namespace itest
