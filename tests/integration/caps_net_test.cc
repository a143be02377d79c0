// Capabilities and loopback as real root: forked children drop the
// bounding set and set their capabilities to Docker's defaults (as root and
// after changing to an unprivileged uid) and /proc/self/status shows exactly
// the mask; a child in a new network namespace brings lo up and carries a
// TCP connection over 127.0.0.1, and the namespace dies with it.
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/caps.h"
#include "sandbox/ns_net.h"
#include "tests/testing/child_report.h"
#include "tests/testing/net.h"
#include "tests/testing/probes.h"

namespace itest {
namespace {

using sandbox::CapBit;
using sandbox::CapMask;
using testing_util::LoFlags;
using testing_util::TcpRoundTrip;

struct ChildReport {
  int rc = -1;
  char step[64] = {};
  char status[4096] = {};  // /proc/self/status at the end
  unsigned flags_before = 0, flags_after = 0;
  int tcp_before = -1, tcp_after = -1;
  ino_t netns = 0;
};

void CopyStr(char (&dst)[64], const char* src) {
  if (src != nullptr) strncpy(dst, src, sizeof dst - 1);
}

void ReadStatus(ChildReport& r) { testing_util::ReadProcStatus(r.status); }

std::optional<ChildReport> RunInChild(const std::function<void(ChildReport&)>& fn) {
  return testing_util::RunInChild<ChildReport>(fn);
}

std::optional<CapMask> StatusMask(const char* status, const std::string& field) {
  const char* line = strstr(status, (field + ":\t").c_str());
  if (line == nullptr) return std::nullopt;
  return strtoull(line + field.size() + 2, nullptr, 16);
}

std::string StatusLine(const char* status, const std::string& field) {
  const char* line = strstr(status, (field + ":\t").c_str());
  if (line == nullptr) return "";
  return std::string(line, strcspn(line, "\n"));
}

ino_t NetNsInode(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 ? st.st_ino : 0;
}

// Processes whose network namespace is `ino`.
std::vector<pid_t> ProcessesInNetNs(ino_t ino) {
  std::vector<pid_t> found;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return found;
  while (dirent* e = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(atoi(e->d_name));
    if (pid <= 0) continue;
    if (NetNsInode(("/proc/" + std::string(e->d_name) + "/ns/net").c_str()) == ino) found.push_back(pid);
  }
  ::closedir(proc);
  return found;
}

// Root whose bounding set holds CAP_SETPCAP (to drop the rest) and every
// capability of keep: capset(2) cannot raise what the bounding set lacks,
// as inside a container that started us with a reduced one.
testing_util::Probe RootWith(CapMask keep) {
  if (::geteuid() != 0) return {false, "needs root (CAP_SETPCAP for the bounding set)"};
  return testing_util::BoundingSetHas(keep | CapBit(CAP_SETPCAP));
}

TEST(CapsTest, RootGetsExactlyDockersDefaults) {
  const CapMask keep = sandbox::DockerDefaultCaps();
  if (const auto p = RootWith(keep); !p) GTEST_SKIP() << p.detail;
  const int last = sandbox::LastCap();
  auto r = RunInChild([keep, last](ChildReport& rep) {
    const char* step = nullptr;
    rep.rc = sandbox::DropBoundingSetInChild(keep, last, &step);
    if (rep.rc == 0) rep.rc = sandbox::SetCapsInChild(keep, /*uid_is_root=*/true, &step);
    CopyStr(rep.step, step);
    ReadStatus(rep);
  });
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->rc, 0) << r->step << ": " << strerror(r->rc);
  EXPECT_EQ(StatusMask(r->status, "CapBnd"), keep) << StatusLine(r->status, "CapBnd");
  EXPECT_EQ(StatusMask(r->status, "CapPrm"), keep) << StatusLine(r->status, "CapPrm");
  EXPECT_EQ(StatusMask(r->status, "CapEff"), keep) << StatusLine(r->status, "CapEff");
  EXPECT_EQ(StatusMask(r->status, "CapInh"), CapMask{0}) << StatusLine(r->status, "CapInh");
  EXPECT_EQ(StatusMask(r->status, "CapAmb"), CapMask{0}) << StatusLine(r->status, "CapAmb");
  // Docker's own numbers for a default container.
  EXPECT_EQ(StatusLine(r->status, "CapBnd"), "CapBnd:\t00000000a80425fb");
}

TEST(CapsTest, NonRootUidGetsNoCapabilitiesButKeepsTheBoundingSet) {
  const CapMask keep = sandbox::DockerDefaultCaps();
  if (const auto p = RootWith(keep); !p) GTEST_SKIP() << p.detail;
  const int last = sandbox::LastCap();
  auto r = RunInChild([keep, last](ChildReport& rep) {
    const char* step = nullptr;
    rep.rc = sandbox::DropBoundingSetInChild(keep, last, &step);
    // CAP_SETUID and CAP_SETGID are in the defaults, so the uid change
    // still works after the bounding set shrank.
    if (rep.rc == 0 && (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)) {
      rep.rc = errno;
      step = "setresuid(65534)";
    }
    if (rep.rc == 0) rep.rc = sandbox::SetCapsInChild(keep, /*uid_is_root=*/false, &step);
    CopyStr(rep.step, step);
    ReadStatus(rep);
  });
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->rc, 0) << r->step << ": " << strerror(r->rc);
  EXPECT_THAT(StatusLine(r->status, "Uid"), ::testing::StartsWith("Uid:\t65534\t65534\t65534"));
  EXPECT_EQ(StatusMask(r->status, "CapBnd"), keep) << StatusLine(r->status, "CapBnd");
  for (const char* field : {"CapPrm", "CapEff", "CapInh", "CapAmb"}) {
    EXPECT_EQ(StatusMask(r->status, field), CapMask{0}) << StatusLine(r->status, field);
  }
}

// The mask is what the kernel enforces: without CAP_NET_ADMIN (not a
// default) lo stays down; --cap-add NET_ADMIN brings it up.
TEST(CapsTest, NetAdminDecidesWhetherLoopbackComesUp) {
  const auto with = sandbox::ComputeCaps({"NET_ADMIN"}, {});
  ASSERT_TRUE(with.ok()) << with.status();
  const sandbox::NetlinkRequest request = sandbox::PrepareLoopbackUp();
  const int last = sandbox::LastCap();
  if (const auto p = RootWith(sandbox::DockerDefaultCaps()); !p) GTEST_SKIP() << p.detail;
  // Without CAP_NET_ADMIN in our own bounding set only the refusal can be
  // checked; the skip comes after it.
  const testing_util::Probe can_add = RootWith(*with);
  for (const CapMask keep : {sandbox::DockerDefaultCaps(), *with}) {
    if (keep == *with && !can_add) GTEST_SKIP() << "--cap-add NET_ADMIN: " << can_add.detail;
    auto r = RunInChild([keep, last, &request](ChildReport& rep) {
      const char* step = "unshare(CLONE_NEWNET)";
      rep.rc = ::unshare(CLONE_NEWNET) == 0 ? 0 : errno;
      if (rep.rc == 0) rep.rc = sandbox::DropBoundingSetInChild(keep, last, &step);
      if (rep.rc == 0) rep.rc = sandbox::SetCapsInChild(keep, /*uid_is_root=*/true, &step);
      if (rep.rc == 0) rep.rc = sandbox::LoopbackUpInChild(request, &step);
      CopyStr(rep.step, step);
      rep.flags_after = LoFlags();
    });
    ASSERT_TRUE(r.has_value());
    if (keep & CapBit(CAP_NET_ADMIN)) {
      EXPECT_EQ(r->rc, 0) << r->step << ": " << strerror(r->rc);
      EXPECT_EQ(r->flags_after & IFF_UP, unsigned{IFF_UP});
    } else {
      EXPECT_EQ(r->rc, EPERM) << r->step << ": " << strerror(r->rc);
      EXPECT_STREQ(r->step, "RTM_NEWLINK lo up");
      EXPECT_EQ(r->flags_after & IFF_UP, 0u);
    }
  }
}

TEST(LoopbackTest, ComesUpInANewNetnsCarriesTcpAndLeavesNothing) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs CAP_SYS_ADMIN for CLONE_NEWNET";
  // CLONE_NEWNET and bringing lo up (root started with a reduced bounding
  // set has neither).
  if (const auto p = testing_util::EffectiveHas(CapBit(CAP_SYS_ADMIN) | CapBit(CAP_NET_ADMIN)); !p) {
    GTEST_SKIP() << p.detail;
  }
  const ino_t own_netns = NetNsInode("/proc/self/ns/net");
  const unsigned own_flags = LoFlags();
  const sandbox::NetlinkRequest request = sandbox::PrepareLoopbackUp();
  auto r = RunInChild([&request](ChildReport& rep) {
    const char* step = "unshare(CLONE_NEWNET)";
    rep.rc = ::unshare(CLONE_NEWNET) == 0 ? 0 : errno;
    if (rep.rc == 0) {
      rep.netns = NetNsInode("/proc/self/ns/net");
      rep.flags_before = LoFlags();
      rep.tcp_before = TcpRoundTrip();
      rep.rc = sandbox::LoopbackUpInChild(request, &step);
      rep.flags_after = LoFlags();
      rep.tcp_after = TcpRoundTrip();
    }
    CopyStr(rep.step, step);
  });
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->rc, 0) << r->step << ": " << strerror(r->rc);
  ASSERT_NE(r->netns, 0u);
  EXPECT_NE(r->netns, own_netns);
  EXPECT_EQ(r->flags_before & (IFF_LOOPBACK | IFF_UP), unsigned{IFF_LOOPBACK}) << "lo exists and is down";
  EXPECT_EQ(r->tcp_before, ENETUNREACH) << strerror(r->tcp_before);
  EXPECT_EQ(r->flags_after & IFF_UP, unsigned{IFF_UP});
  EXPECT_EQ(r->tcp_after, 0) << strerror(r->tcp_after);
  // The test's own lo is as it was, and no process is left in the child's
  // namespace: it went away with the child.
  EXPECT_EQ(LoFlags(), own_flags);
  EXPECT_THAT(ProcessesInNetNs(r->netns), ::testing::IsEmpty());
}

}  // namespace
}  // namespace itest
