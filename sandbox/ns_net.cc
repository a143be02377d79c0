// Loopback up in a new network namespace over rtnetlink. The request is
// built in the parent; the child only sends it and reads the
// ACK (socket, sendto, poll, recvfrom, close), with no allocation.
#include "sandbox/ns_net.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/sys.h"
#include "common/unique_fd.h"

namespace sandbox {
namespace {

void SetStep(const char** step, const char* what) {
  if (step != nullptr) *step = what;
}

}  // namespace

NetlinkRequest PrepareLoopbackUp() {
  NetlinkRequest request;
  memset(request.buf, 0, sizeof request.buf);
  // One header and one ifinfomsg: built by hand, since linking libmnl for
  // these 32 bytes cost every `minipod run` a shared object to load.
  auto* nlh = static_cast<nlmsghdr*>(static_cast<void*>(request.buf));
  nlh->nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = kLoopbackUpSeq;
  nlh->nlmsg_pid = 0;  // the kernel fills in our port id
  auto* ifi = static_cast<ifinfomsg*>(NLMSG_DATA(nlh));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = kLoopbackIfIndex;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  request.len = nlh->nlmsg_len;
  return request;
}

int LoopbackUpInChild(const NetlinkRequest& request, const char** step, int timeout_ms) {
  if (request.len < NLMSG_HDRLEN || request.len > sizeof request.buf) {
    SetStep(step, "netlink request");
    return EINVAL;
  }
  nlmsghdr sent;
  memcpy(&sent, request.buf, sizeof sent);

  common::UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd.valid()) {
    const int err = errno;
    SetStep(step, "socket(AF_NETLINK)");
    return err;
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;  // nl_pid 0: the kernel
  if (::sendto(fd.get(), request.buf, request.len, 0, reinterpret_cast<const sockaddr*>(&kernel),
               sizeof kernel) != static_cast<ssize_t>(request.len)) {
    const int err = errno;
    SetStep(step, "sendto(netlink)");
    return err;
  }

  const long long deadline = common::sys::MonotonicMs() + timeout_ms;
  // An ACK carries the request's header (and for an error its payload too);
  // 1 KiB on the stack holds either for a 256-byte request.
  alignas(nlmsghdr) unsigned char reply[1024];
  for (;;) {
    const long long left = deadline - common::sys::MonotonicMs();
    if (left <= 0) {
      SetStep(step, "poll(netlink ack)");
      return ETIMEDOUT;
    }
    pollfd pfd{fd.get(), POLLIN, 0};
    const common::SysResult p = common::sys::Poll(&pfd, 1, static_cast<int>(left));
    if (!p.ok()) {
      if (p.err == EINTR) continue;  // the deadline is recomputed
      SetStep(step, "poll(netlink ack)");
      return p.err;
    }
    if (p.value == 0) continue;  // timed out: caught at the top

    sockaddr_nl from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = ::recvfrom(fd.get(), reply, sizeof reply, MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      const int err = errno;
      SetStep(step, "recvfrom(netlink)");
      return err;
    }
    if (from.nl_pid != 0) continue;  // only the kernel answers for real

    int len = static_cast<int>(n);
    // The walk of NLMSG_OK/NLMSG_NEXT, without their signed/unsigned mix.
    for (size_t off = 0; off + NLMSG_HDRLEN <= static_cast<size_t>(len);) {
      const nlmsghdr* h = static_cast<const nlmsghdr*>(static_cast<const void*>(reply + off));
      if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > static_cast<size_t>(len) - off) break;
      off += NLMSG_ALIGN(h->nlmsg_len);
      if (h->nlmsg_seq != sent.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR) continue;
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
        SetStep(step, "netlink ack");
        return EPROTO;
      }
      const auto* ack = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
      if (ack->error == 0) return 0;
      SetStep(step, "RTM_NEWLINK lo up");
      return ack->error < 0 ? -ack->error : EPROTO;
    }
  }
}

}  // namespace sandbox
