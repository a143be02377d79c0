// The attach client: two connections to the monitor ("wait" for the exit
// status, "attach" for the bytes) and one poll loop over our stdin, the
// attach socket and a signalfd for SIGWINCH.
#include "runtime/attach.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/absl/status_util.h"
#include "runtime/monitor.h"
#include "runtime/pty.h"

namespace runtime {
namespace {

bool WriteAllFd(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// To the monitor: a closed connection is an error here, not SIGPIPE.
bool SendAll(int fd, const std::string& data) {
  const char* p = data.data();
  size_t n = data.size();
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// The exit status the monitor wrote on the wait connection, waiting at
// most timeout_ms; nullopt when none came.
std::optional<int> ReadExit(int fd, int timeout_ms) {
  std::string text;
  char buf[64];
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    const int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.find('\n') != std::string::npos) break;
  }
  absl::string_view rest = absl::StripTrailingAsciiWhitespace(text);
  int code = 0;
  if (absl::ConsumePrefix(&rest, "exit ") && absl::SimpleAtoi(rest, &code)) return code;
  return std::nullopt;
}

}  // namespace

std::string EncodeAttachFrame(char type, absl::string_view payload) {
  std::string f;
  f.reserve(5 + payload.size());
  f.push_back(type);
  const uint32_t len = static_cast<uint32_t>(payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) f.push_back(static_cast<char>((len >> shift) & 0xff));
  f.append(payload.data(), payload.size());
  return f;
}

std::string EncodeResizeFrame(unsigned short rows, unsigned short cols) {
  const char p[4] = {static_cast<char>(rows >> 8), static_cast<char>(rows & 0xff), static_cast<char>(cols >> 8),
                     static_cast<char>(cols & 0xff)};
  return EncodeAttachFrame(kAttachResize, absl::string_view(p, sizeof p));
}

bool DecodeResize(absl::string_view payload, unsigned short* rows, unsigned short* cols) {
  if (payload.size() != 4) return false;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(payload.data());
  *rows = static_cast<unsigned short>((p[0] << 8) | p[1]);
  *cols = static_cast<unsigned short>((p[2] << 8) | p[3]);
  return true;
}

bool ConsumeAttachFrames(std::string* buf, const std::function<void(char type, absl::string_view payload)>& fn) {
  size_t at = 0;
  bool ok = true;
  while (buf->size() - at >= 5) {
    const unsigned char* h = reinterpret_cast<const unsigned char*>(buf->data() + at);
    const char type = static_cast<char>(h[0]);
    const uint32_t len = (uint32_t{h[1]} << 24) | (uint32_t{h[2]} << 16) | (uint32_t{h[3]} << 8) | h[4];
    if ((type != kAttachData && type != kAttachResize) || len > kAttachMaxPayload || (type == kAttachResize && len != 4)) {
      ok = false;
      break;
    }
    if (buf->size() - at - 5 < len) break;
    fn(type, absl::string_view(buf->data() + at + 5, len));
    at += 5 + len;
  }
  buf->erase(0, at);
  return ok;
}

absl::StatusOr<int> AttachToContainer(const StateStore& store, const std::string& name, const AttachOptions& options) {
  ASSIGN_OR_RETURN(const ContainerState state, store.Load(Kind::kContainer, name));
  if (const std::string status = state.Status(); status != "running") {
    return absl::FailedPreconditionError(absl::StrCat("container ", name, " is not running (", status, ")"));
  }
  // "wait" first: its answer is written before the attach connection
  // closes, so it is there when we see that end.
  ASSIGN_OR_RETURN(common::UniqueFd waiter, ConnectControl(store, Kind::kContainer, name));
  ASSIGN_OR_RETURN(common::UniqueFd sock, ConnectControl(store, Kind::kContainer, name));
  if (!SendAll(waiter.get(), "wait\n") || !SendAll(sock.get(), "attach\n")) {
    return absl::FailedPreconditionError(absl::StrCat("container ", name, " is not running"));
  }

  const bool send_input = !options.no_stdin && options.in_fd >= 0;
  const int terminal = state.tty ? FirstTerminal({options.in_fd, options.out_fd}) : -1;
  // SIGWINCH read from a signalfd; the mask put back on every way out.
  sigset_t mask, old_mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGWINCH);
  common::UniqueFd sigfd;
  if (terminal >= 0) {
    sigfd = common::UniqueFd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd) return common::ErrnoStatus(errno, "signalfd");
  }
  ::sigprocmask(SIG_BLOCK, &mask, &old_mask);
  struct RestoreMask {
    sigset_t* m;
    ~RestoreMask() { ::sigprocmask(SIG_SETMASK, m, nullptr); }
  } restore_mask{&old_mask};
  // A -t container's line discipline does the editing and signals: our
  // terminal passes every key on. Declared after the mask: restored first.
  ScopedRawMode raw;
  if (state.tty && send_input && ::isatty(options.in_fd)) {
    ASSIGN_OR_RETURN(raw, ScopedRawMode::Enter(options.in_fd));
  }
  if (terminal >= 0) {
    if (absl::StatusOr<struct winsize> ws = GetWindowSize(terminal); ws.ok() && ws->ws_row != 0) {
      const std::string f = EncodeResizeFrame(ws->ws_row, ws->ws_col);
      (void)SendAll(sock.get(), f);
    }
  }

  const std::string& keys = options.detach_keys;
  size_t matched = 0;  // how many of the detach keys were just typed
  bool in_open = send_input;
  char buf[16 * 1024];
  for (;;) {
    struct pollfd fds[3] = {{sock.get(), POLLIN, 0},
                            {in_open ? options.in_fd : -1, POLLIN, 0},
                            {sigfd ? sigfd.get() : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return common::ErrnoStatus(errno, "poll");
    }
    if (fds[2].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (::read(sigfd.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {}
      if (absl::StatusOr<struct winsize> ws = GetWindowSize(terminal); ws.ok() && ws->ws_row != 0) {
        const std::string f = EncodeResizeFrame(ws->ws_row, ws->ws_col);
        (void)SendAll(sock.get(), f);
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::read(sock.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // The end: the container's (its status is on the wait connection
        // by now), or we were dropped.
        raw.Restore();
        if (std::optional<int> code = ReadExit(waiter.get(), 200); code.has_value()) return *code;
        return absl::UnavailableError(absl::StrCat(
            "attach ", name, ": the monitor closed the connection (output not read fast enough, or the monitor died)"));
      }
      if (!WriteAllFd(options.out_fd, buf, static_cast<size_t>(n))) return 0;  // our reader left
    }
    if (in_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t n = ::read(options.in_fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        in_open = false;
        continue;
      }
      // The detach keys are held back until they either complete (we
      // leave) or stop matching (they go out as typed).
      std::string data;
      for (ssize_t i = 0; i < n; ++i) {
        const char ch = buf[i];
        if (!keys.empty() && ch == keys[matched]) {
          if (++matched == keys.size()) {
            if (!data.empty()) {
              const std::string f = EncodeAttachFrame(kAttachData, data);
              (void)SendAll(sock.get(), f);
            }
            raw.Restore();
            return 0;
          }
          continue;
        }
        data.append(keys, 0, matched);
        matched = 0;
        if (!keys.empty() && ch == keys[0]) {
          matched = 1;
        } else {
          data.push_back(ch);
        }
      }
      for (size_t at = 0; at < data.size(); at += kAttachMaxPayload) {
        const size_t len = std::min(kAttachMaxPayload, data.size() - at);
        const std::string f = EncodeAttachFrame(kAttachData, absl::string_view(data).substr(at, len));
        if (!SendAll(sock.get(), f)) break;  // the end shows on the read side
      }
    }
  }
}

}  // namespace runtime
