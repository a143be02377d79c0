// Runs a function in a forked child and brings back a fixed-size report
// (a trivially copyable struct) through a pipe: for tests of code that
// changes the process itself (capabilities, namespaces, seccomp). Waits at
// most timeout for the report and the exit; kills and reaps the child on
// every path.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <type_traits>

namespace testing_util {

template <typename Report>
std::optional<Report> RunInChild(const std::function<void(Report&)>& fn,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  static_assert(std::is_trivially_copyable_v<Report>);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    ::close(fds[0]);
    Report r{};
    fn(r);
    (void)!::write(fds[1], &r, sizeof r);
    ::_exit(0);
  }
  ::close(fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left_ms = [&] {
    return static_cast<int>(std::max<long long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
               .count()));
  };
  Report report{};
  size_t got = 0;
  auto* bytes = reinterpret_cast<char*>(&report);
  while (got < sizeof report) {
    pollfd pfd{fds[0], POLLIN, 0};
    const int p = ::poll(&pfd, 1, left_ms());
    if (p < 0 && errno == EINTR) continue;
    if (p <= 0) break;
    const ssize_t n = ::read(fds[0], bytes + got, sizeof report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fds[0]);
  int ws = 0;
  pid_t w = 0;
  while ((w = ::waitpid(pid, &ws, WNOHANG)) == 0 && left_ms() > 0) ::usleep(10'000);
  if (w == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &ws, 0);
  }
  if (got != sizeof report) return std::nullopt;
  return report;
}

// /proc/self/status into buf (NUL-terminated), for the Cap* lines.
template <size_t N>
void ReadProcStatus(char (&buf)[N]) {
  const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  size_t off = 0;
  for (ssize_t n; off < N - 1 && (n = ::read(fd, buf + off, N - 1 - off)) > 0;) off += static_cast<size_t>(n);
  buf[off] = '\0';
  ::close(fd);
}

}  // namespace testing_util
