// Loopback up without root: the request's bytes, and LoopbackUpInChild
// against the real kernel in forked children that own a new user and
// network namespace (lo brought up and used, the kernel's errors, the
// bounded wait). Nothing touches the test's own network namespace.
#include "sandbox/ns_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/caps.h"
#include "tests/testing/child_report.h"
#include "tests/testing/net.h"

namespace sandbox {
namespace {

using ::testing::ElementsAreArray;
using testing_util::LoFlags;
using testing_util::TcpRoundTrip;

TEST(PrepareLoopbackUp, GoldenBytes) {
  const NetlinkRequest r = PrepareLoopbackUp();
  ASSERT_EQ(r.len, 32u);
  const unsigned char want[32] = {
      0x20, 0x00, 0x00, 0x00,  // nlmsg_len 32
      0x10, 0x00,              // nlmsg_type RTM_NEWLINK (16)
      0x05, 0x00,              // nlmsg_flags NLM_F_REQUEST | NLM_F_ACK
      0x01, 0x00, 0x00, 0x00,  // nlmsg_seq 1
      0x00, 0x00, 0x00, 0x00,  // nlmsg_pid 0
      0x00, 0x00,              // ifi_family AF_UNSPEC, padding
      0x00, 0x00,              // ifi_type
      0x01, 0x00, 0x00, 0x00,  // ifi_index 1 (lo)
      0x01, 0x00, 0x00, 0x00,  // ifi_flags IFF_UP
      0x01, 0x00, 0x00, 0x00,  // ifi_change IFF_UP
  };
  EXPECT_THAT(std::vector<unsigned char>(r.buf, r.buf + r.len), ElementsAreArray(want));
  // The rest of the buffer is zero.
  for (size_t i = r.len; i < sizeof r.buf; ++i) ASSERT_EQ(r.buf[i], 0) << i;
}

TEST(PrepareLoopbackUp, HeaderAndIfinfomsgFields) {
  const NetlinkRequest r = PrepareLoopbackUp();
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(r.buf);
  EXPECT_EQ(nlh->nlmsg_len, r.len);
  EXPECT_EQ(nlh->nlmsg_len, NLMSG_LENGTH(sizeof(ifinfomsg)));
  EXPECT_EQ(nlh->nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(nlh->nlmsg_seq, kLoopbackUpSeq);
  EXPECT_EQ(nlh->nlmsg_pid, 0u);
  const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(nlh));
  EXPECT_EQ(ifi->ifi_family, AF_UNSPEC);
  EXPECT_EQ(ifi->ifi_index, kLoopbackIfIndex);
  EXPECT_EQ(ifi->ifi_flags, unsigned{IFF_UP});
  EXPECT_EQ(ifi->ifi_change, unsigned{IFF_UP});
  // Two builds give the same bytes.
  const NetlinkRequest again = PrepareLoopbackUp();
  EXPECT_EQ(memcmp(r.buf, again.buf, sizeof r.buf), 0);
}

TEST(LoopbackUpInChild, RejectsAMalformedRequestBeforeAnySyscall) {
  NetlinkRequest empty;
  const char* step = nullptr;
  EXPECT_EQ(LoopbackUpInChild(empty, &step), EINVAL);
  EXPECT_STREQ(step, "netlink request");
  NetlinkRequest huge = PrepareLoopbackUp();
  huge.len = sizeof huge.buf + 1;
  EXPECT_EQ(LoopbackUpInChild(huge, nullptr), EINVAL);
}

// ---- A forked child in its own user and network namespace.

struct ChildReport {
  int rc = -1;
  int skip_errno = 0;
  char step[64] = {};
  unsigned flags_before = 0;
  unsigned flags_after = 0;
  int tcp_before = -1;   // TcpRoundTrip() before lo is up
  int tcp = -1;          // 0 when a TCP round trip over 127.0.0.1 worked, else errno
  long long elapsed_ms = -1;
};

void CopyStr(char (&dst)[64], const char* src) {
  if (src != nullptr) strncpy(dst, src, sizeof dst - 1);
}

std::optional<ChildReport> RunInChild(const std::function<void(ChildReport&)>& fn) {
  return testing_util::RunInChild<ChildReport>(fn);
}

// A new user namespace (whose root owns the new netns) and network
// namespace. The errors that mean "no user namespaces for us on this host"
// become a skip: EPERM (unprivileged_userns_clone=0, a container's seccomp
// filter), ENOSPC (max_user_namespaces is 0), EINVAL (no CONFIG_USER_NS);
// anything else is a failure the test reports.
bool EnterUserAndNetNs(ChildReport& r) {
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
    const int err = errno;
    CopyStr(r.step, "unshare(CLONE_NEWUSER|CLONE_NEWNET)");
    if (err == EPERM || err == ENOSPC || err == EINVAL) {
      r.skip_errno = err;
    } else {
      r.rc = err;
    }
    return false;
  }
  return true;
}

long long NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

TEST(LoopbackUpInChild, BringsLoUpInANewNetns) {
  const NetlinkRequest request = PrepareLoopbackUp();  // in the parent
  auto r = RunInChild([&request](ChildReport& rep) {
    if (!EnterUserAndNetNs(rep)) return;
    rep.flags_before = LoFlags();
    rep.tcp_before = TcpRoundTrip();
    const char* step = nullptr;
    rep.rc = LoopbackUpInChild(request, &step);
    CopyStr(rep.step, step);
    rep.flags_after = LoFlags();
    rep.tcp = TcpRoundTrip();
  });
  ASSERT_TRUE(r.has_value());
  if (r->skip_errno != 0) GTEST_SKIP() << r->step << ": " << strerror(r->skip_errno);
  EXPECT_EQ(r->flags_before & IFF_LOOPBACK, unsigned{IFF_LOOPBACK}) << "lo is there";
  EXPECT_EQ(r->flags_before & IFF_UP, 0u) << "and down in a new netns";
  EXPECT_EQ(r->tcp_before, ENETUNREACH) << "no route to 127.0.0.1 while lo is down: " << strerror(r->tcp_before);
  ASSERT_EQ(r->rc, 0) << r->step << ": " << strerror(r->rc);
  EXPECT_EQ(r->flags_after & IFF_UP, unsigned{IFF_UP});
  EXPECT_EQ(r->tcp, 0) << strerror(r->tcp);
}

TEST(LoopbackUpInChild, ReportsTheKernelsError) {
  NetlinkRequest request = PrepareLoopbackUp();
  reinterpret_cast<ifinfomsg*>(NLMSG_DATA(reinterpret_cast<nlmsghdr*>(request.buf)))->ifi_index = 4242;
  auto r = RunInChild([&request](ChildReport& rep) {
    if (!EnterUserAndNetNs(rep)) return;
    const char* step = nullptr;
    rep.rc = LoopbackUpInChild(request, &step);
    CopyStr(rep.step, step);
  });
  ASSERT_TRUE(r.has_value());
  if (r->skip_errno != 0) GTEST_SKIP() << r->step << ": " << strerror(r->skip_errno);
  EXPECT_EQ(r->rc, ENODEV) << strerror(r->rc);
  EXPECT_STREQ(r->step, "RTM_NEWLINK lo up");
}

TEST(LoopbackUpInChild, WithoutNetAdminIsEperm) {
  const NetlinkRequest request = PrepareLoopbackUp();
  auto r = RunInChild([&request](ChildReport& rep) {
    if (!EnterUserAndNetNs(rep)) return;
    const char* step = nullptr;
    // Give up every capability over the new netns first.
    if ((rep.rc = SetCapsInChild(0, /*uid_is_root=*/false, &step)) == 0) rep.rc = LoopbackUpInChild(request, &step);
    CopyStr(rep.step, step);
    rep.flags_after = LoFlags();
  });
  ASSERT_TRUE(r.has_value());
  if (r->skip_errno != 0) GTEST_SKIP() << r->step << ": " << strerror(r->skip_errno);
  EXPECT_EQ(r->rc, EPERM) << r->step << ": " << strerror(r->rc);
  EXPECT_STREQ(r->step, "RTM_NEWLINK lo up");
  EXPECT_EQ(r->flags_after & IFF_UP, 0u);
}

TEST(LoopbackUpInChild, WaitForTheAckIsBounded) {
  // Without NLM_F_ACK a successful request gets no answer at all.
  NetlinkRequest request = PrepareLoopbackUp();
  reinterpret_cast<nlmsghdr*>(request.buf)->nlmsg_flags = NLM_F_REQUEST;
  auto r = RunInChild([&request](ChildReport& rep) {
    if (!EnterUserAndNetNs(rep)) return;
    const char* step = nullptr;
    const long long start = NowMs();
    rep.rc = LoopbackUpInChild(request, &step, /*timeout_ms=*/200);
    rep.elapsed_ms = NowMs() - start;
    CopyStr(rep.step, step);
    rep.flags_after = LoFlags();
  });
  ASSERT_TRUE(r.has_value());
  if (r->skip_errno != 0) GTEST_SKIP() << r->step << ": " << strerror(r->skip_errno);
  EXPECT_EQ(r->rc, ETIMEDOUT) << strerror(r->rc);
  EXPECT_STREQ(r->step, "poll(netlink ack)");
  EXPECT_GE(r->elapsed_ms, 200);
  EXPECT_LT(r->elapsed_ms, 5000);
  EXPECT_EQ(r->flags_after & IFF_UP, unsigned{IFF_UP}) << "the request itself was carried out";
}

}  // namespace
}  // namespace sandbox
