// The network namespace of `minipod run`: a fresh one has only `lo`, and it
// is down. The parent builds the rtnetlink request that brings it up
// (PrepareLoopbackUp, pure); the child, already in the new netns,
// sends it and waits for the kernel's ACK (LoopbackUpInChild: socket,
// sendto, poll, recvfrom; no allocation).
#pragma once

#include <linux/netlink.h>
#include <stddef.h>

namespace sandbox {

// The ifindex of the loopback device in every network namespace: it is
// registered first when the namespace is created (LOOPBACK_IFINDEX in the
// kernel). if_nametoindex() cannot help: it answers in the caller's netns.
inline constexpr int kLoopbackIfIndex = 1;

// Sequence number of the request; the child matches the ACK against it.
inline constexpr unsigned kLoopbackUpSeq = 1;

// One netlink message in a caller-owned buffer, built in the parent.
struct NetlinkRequest {
  alignas(NLMSG_ALIGNTO) unsigned char buf[256];
  size_t len = 0;
};

// RTM_NEWLINK, NLM_F_REQUEST|NLM_F_ACK, seq kLoopbackUpSeq, with an
// ifinfomsg {AF_UNSPEC, index kLoopbackIfIndex, flags IFF_UP, change
// IFF_UP}: 32 bytes.
NetlinkRequest PrepareLoopbackUp();

// Child side, inside the new netns: sends `request` to the kernel over a
// NETLINK_ROUTE socket and waits at most timeout_ms for its ACK. Returns 0,
// the error the kernel acknowledged with (EPERM without CAP_NET_ADMIN over
// the netns, ENODEV for a missing device), ETIMEDOUT, or the errno of a
// failed call; on failure *step (when not null) names it. `request` must
// ask for an ACK (NLM_F_ACK).
int LoopbackUpInChild(const NetlinkRequest& request, const char** step, int timeout_ms = 5000);

}  // namespace sandbox
