// The socket helper: fork, pidfd_open, setns through the container's pidfd,
// and one SOCK_SEQPACKET exchange per socket (request and answer are
// fixed-size records, the socket rides on the answer as SCM_RIGHTS). The
// helper's side uses only async-signal-safe calls and its stack.
#include "runtime/netns_sockets.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"
#include "common/sys.h"

namespace runtime {
namespace {

struct Request {
  uint32_t seq;
  int32_t domain, type, protocol;
};

// seq 0 is the helper's first answer: whether it joined the namespaces.
struct Answer {
  uint32_t seq;
  int32_t err;
};

constexpr int kReadyTimeoutMs = 5000;
constexpr int kAnswerTimeoutMs = 2000;
constexpr int kExitGraceMs = 1000;

// Closes every descriptor but keep_a and keep_b (both >= 0).
void CloseAllBut(int keep_a, int keep_b) {
  const unsigned lo = static_cast<unsigned>(keep_a < keep_b ? keep_a : keep_b);
  const unsigned hi = static_cast<unsigned>(keep_a < keep_b ? keep_b : keep_a);
  auto close_range = [](unsigned from, unsigned to) {
    if (from > to) return;
    if (::syscall(SYS_close_range, from, to, 0U) == 0) return;
    // Before 5.9: one by one, up to the descriptor limit.
    struct rlimit rl {};
    unsigned limit = 65536;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < limit) limit = static_cast<unsigned>(rl.rlim_cur);
    for (unsigned fd = from; fd <= to && fd < limit; ++fd) ::close(static_cast<int>(fd));
  };
  if (lo > 0) close_range(0, lo - 1);
  if (hi > lo + 1) close_range(lo + 1, hi - 1);
  close_range(hi + 1, ~0U);
}

void SendAnswer(int sock, uint32_t seq, int err, int fd) {
  Answer a{seq, err};
  struct iovec iov = {&a, sizeof a};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  while (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void HelperMain(int sock, int target_pidfd, pid_t parent, bool join_user_ns) {
  // Only SIGKILL ends it (from the monitor, or as the parent-death signal):
  // the monitor's handlers are not ours, and a terminal's ^C is the
  // monitor's to handle.
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_BLOCK, &all, nullptr);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) ::_exit(1);
  if (::getppid() != parent) ::_exit(1);  // the monitor died before the line above
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  CloseAllBut(sock, target_pidfd);
  const int flags = CLONE_NEWNET | (join_user_ns ? CLONE_NEWUSER : 0);
  const int err = ::setns(target_pidfd, flags) == 0 ? 0 : errno;
  ::close(target_pidfd);
  SendAnswer(sock, 0, err, -1);
  if (err != 0) ::_exit(1);
  for (;;) {
    Request req{};
    const ssize_t n = ::recv(sock, &req, sizeof req, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(0);  // the monitor closed its end (or is gone)
    if (n != static_cast<ssize_t>(sizeof req)) {
      SendAnswer(sock, req.seq, EINVAL, -1);
      continue;
    }
    const int fd = ::socket(req.domain, req.type | SOCK_CLOEXEC, req.protocol);
    SendAnswer(sock, req.seq, fd < 0 ? errno : 0, fd);
    if (fd >= 0) ::close(fd);
  }
}

// Waits at most timeout_ms for fd to be readable; 0, ETIMEDOUT or errno.
int WaitReadable(int fd, int timeout_ms) {
  const int64_t deadline = static_cast<int64_t>(common::sys::MonotonicMs()) + timeout_ms;
  for (;;) {
    const int64_t left = deadline - static_cast<int64_t>(common::sys::MonotonicMs());
    struct pollfd pfd = {fd, POLLIN, 0};
    const int r = ::poll(&pfd, 1, left > 0 ? static_cast<int>(left) : 0);
    if (r > 0) return 0;
    if (r == 0) return ETIMEDOUT;
    if (errno != EINTR) return errno;
  }
}

// One answer (and the socket that came with it). 0 on success, else the
// errno of the receive; *eof is set when the helper closed its end.
int ReceiveAnswer(int sock, Answer& a, common::UniqueFd& fd, bool& eof) {
  struct iovec iov = {&a, sizeof a};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  eof = n == 0;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int received = -1;
      memcpy(&received, CMSG_DATA(c), sizeof received);
      fd = common::UniqueFd(received);
    }
  }
  if (eof) return 0;
  // The control buffer fits one descriptor: MSG_CTRUNC means the kernel
  // could not install it here (our descriptor table is full).
  if ((msg.msg_flags & MSG_CTRUNC) != 0) return EMFILE;
  if (n != static_cast<ssize_t>(sizeof a) || (msg.msg_flags & MSG_TRUNC) != 0) return EPROTO;
  return 0;
}

std::string DomainName(int domain) {
  switch (domain) {
    case AF_INET:
      return "AF_INET";
    case AF_INET6:
      return "AF_INET6";
    case AF_UNIX:
      return "AF_UNIX";
    default:
      return absl::StrCat("domain ", domain);
  }
}

std::string TypeName(int type) {
  switch (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
    case SOCK_STREAM:
      return "SOCK_STREAM";
    case SOCK_DGRAM:
      return "SOCK_DGRAM";
    case SOCK_SEQPACKET:
      return "SOCK_SEQPACKET";
    default:
      return absl::StrCat("type ", type);
  }
}

}  // namespace

absl::StatusOr<NetnsSockets> NetnsSockets::Start(int container_pidfd, bool join_user_ns) {
  const char* what = join_user_ns ? "setns(container pidfd, CLONE_NEWNET|CLONE_NEWUSER)"
                                  : "setns(container pidfd, CLONE_NEWNET)";
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return common::ErrnoStatus(errno, "socketpair(AF_UNIX, SOCK_SEQPACKET) for the port helper");
  }
  NetnsSockets s;
  s.sock_ = common::UniqueFd(sv[0]);
  common::UniqueFd theirs(sv[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return common::ErrnoStatus(errno, "fork(port helper)");
  if (pid == 0) HelperMain(theirs.get(), container_pidfd, parent, join_user_ns);
  s.pid_ = pid;  // from here on the destructor ends and reaps it
  theirs.Reset();
  s.pidfd_ = common::UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!s.pidfd_) return common::ErrnoStatus(errno, "pidfd_open(port helper)");

  if (const int err = WaitReadable(s.sock_.get(), kReadyTimeoutMs); err != 0) {
    return common::ErrnoStatus(err, absl::StrCat("port helper: waiting for ", what));
  }
  Answer a{};
  common::UniqueFd none;
  bool eof = false;
  if (const int err = ReceiveAnswer(s.sock_.get(), a, none, eof); err != 0) {
    return common::ErrnoStatus(err, absl::StrCat("port helper: reading the answer to ", what));
  }
  if (eof) return absl::UnavailableError(absl::StrCat("port helper: exited before ", what));
  if (a.err != 0) return common::ErrnoStatus(a.err, absl::StrCat("port helper: ", what));
  return s;
}

NetnsSockets::NetnsSockets(NetnsSockets&& other) noexcept
    : pid_(other.pid_), pidfd_(std::move(other.pidfd_)), sock_(std::move(other.sock_)), seq_(other.seq_) {
  other.pid_ = 0;
}

NetnsSockets& NetnsSockets::operator=(NetnsSockets&& other) noexcept {
  if (this != &other) {
    End();
    pid_ = other.pid_;
    pidfd_ = std::move(other.pidfd_);
    sock_ = std::move(other.sock_);
    seq_ = other.seq_;
    other.pid_ = 0;
  }
  return *this;
}

NetnsSockets::~NetnsSockets() { End(); }

void NetnsSockets::End() {
  if (pid_ <= 0) return;
  sock_.Reset();  // EOF: the helper exits by itself
  bool gone = false;
  if (pidfd_) {
    gone = WaitReadable(pidfd_.get(), kExitGraceMs) == 0;
    if (!gone) ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
  } else {
    ::kill(pid_, SIGKILL);
  }
  // Bounded after SIGKILL. ECHILD: a reaper of the caller's took it first.
  common::sys::WaitPid(pid_, nullptr, 0);
  pidfd_.Reset();
  pid_ = 0;
}

absl::StatusOr<common::UniqueFd> NetnsSockets::Socket(int domain, int type, int protocol) {
  const std::string what =
      absl::StrCat("socket(", DomainName(domain), ", ", TypeName(type), ") in the container's network namespace");
  if (!sock_) return absl::FailedPreconditionError(absl::StrCat(what, ": the port helper was ended"));
  const uint32_t seq = ++seq_ == 0 ? ++seq_ : seq_;  // 0 is the helper's ready answer
  const Request req{seq, domain, type, protocol};
  ssize_t n;
  do {
    n = ::send(sock_.get(), &req, sizeof req, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return common::ErrnoStatus(errno, absl::StrCat(what, ": sending to the port helper"));

  const int64_t deadline = static_cast<int64_t>(common::sys::MonotonicMs()) + kAnswerTimeoutMs;
  for (;;) {
    const int64_t left = deadline - static_cast<int64_t>(common::sys::MonotonicMs());
    if (const int err = WaitReadable(sock_.get(), left > 0 ? static_cast<int>(left) : 0); err != 0) {
      return common::ErrnoStatus(err, absl::StrCat(what, ": waiting for the port helper"));
    }
    Answer a{};
    common::UniqueFd fd;
    bool eof = false;
    if (const int err = ReceiveAnswer(sock_.get(), a, fd, eof); err != 0) {
      if (err == EAGAIN) continue;
      return common::ErrnoStatus(err, absl::StrCat(what, ": reading the port helper's answer"));
    }
    if (eof) return absl::UnavailableError(absl::StrCat(what, ": the port helper exited"));
    if (a.seq != seq) continue;  // the late answer to a request that timed out; its socket closes here
    if (a.err != 0) return common::ErrnoStatus(a.err, what);
    if (!fd) return absl::InternalError(absl::StrCat(what, ": the port helper's answer carried no socket"));
    return fd;
  }
}

}  // namespace runtime
