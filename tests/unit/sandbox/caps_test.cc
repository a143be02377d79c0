// Capabilities without root: the name table, Docker's defaults and
// --cap-add/--cap-drop rules, and the child-side steps against the real
// kernel in forked children (as an unprivileged uid, and as root of a new
// user namespace when the kernel allows one).
#include "sandbox/caps.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/child_report.h"

namespace sandbox {
namespace {

using ::testing::HasSubstr;

constexpr int kKernel540 = 40;  // cap_last_cap of Linux >= 5.9

// ---- A forked child that reports back through a pipe.

struct ChildReport {
  int rc = -1;
  int skip_errno = 0;  // the child could not set up its precondition
  char step[64] = {};
  char status[4096] = {};  // /proc/self/status when the child read it
};

void CopyStr(char (&dst)[64], const char* src) {
  if (src != nullptr) strncpy(dst, src, sizeof dst - 1);
}

void ReadStatus(ChildReport& r) { testing_util::ReadProcStatus(r.status); }

std::optional<ChildReport> RunInChild(const std::function<void(ChildReport&)>& fn) {
  return testing_util::RunInChild<ChildReport>(fn);
}

// The hex mask on a "Name:\t..." line of /proc/PID/status.
std::optional<CapMask> StatusMask(const char* status, const std::string& field) {
  const char* line = strstr(status, (field + ":\t").c_str());
  if (line == nullptr) return std::nullopt;
  return strtoull(line + field.size() + 2, nullptr, 16);
}

// In the child: become an unprivileged uid; setresuid from root also
// clears the permitted and effective sets.
bool DropToNobody(ChildReport& r) {
  if (::geteuid() != 0) return true;
  if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) {
    r.skip_errno = errno;
    CopyStr(r.step, "setresuid(65534)");
    return false;
  }
  return true;
}

// In the child: root of a new user namespace, with every capability in it.
bool EnterUserNs(ChildReport& r) {
  if (::unshare(CLONE_NEWUSER) != 0) {
    r.skip_errno = errno;
    CopyStr(r.step, "unshare(CLONE_NEWUSER)");
    return false;
  }
  return true;
}

// ---- Names.

struct NameCase {
  const char* name;
  int cap;
};

TEST(ParseCapName, AcceptsEverySpelling) {
  const NameCase cases[] = {
      {"NET_ADMIN", CAP_NET_ADMIN},   {"net_admin", CAP_NET_ADMIN},     {"CAP_NET_ADMIN", CAP_NET_ADMIN},
      {"cap_net_admin", CAP_NET_ADMIN}, {"Cap_Net_Admin", CAP_NET_ADMIN}, {"CHOWN", CAP_CHOWN},
      {"cap_chown", CAP_CHOWN},       {"SYS_ADMIN", CAP_SYS_ADMIN},     {"SETFCAP", CAP_SETFCAP},
      {"MAC_OVERRIDE", CAP_MAC_OVERRIDE}, {"AUDIT_READ", CAP_AUDIT_READ}, {"PERFMON", CAP_PERFMON},
      {"bpf", CAP_BPF},               {"CAP_CHECKPOINT_RESTORE", CAP_CHECKPOINT_RESTORE},
  };
  for (const NameCase& c : cases) {
    absl::StatusOr<int> got = ParseCapName(c.name, kKernel540);
    ASSERT_TRUE(got.ok()) << c.name << ": " << got.status();
    EXPECT_EQ(*got, c.cap) << c.name;
  }
}

TEST(ParseCapName, RejectsUnknownNamesNamingThem) {
  for (const char* name : {"FOO", "", "CAP_", "ALL", "all", "CAP_ALL", " NET_ADMIN", "NET_ADMIN ", "NET-ADMIN",
                           "NET_ADMIN2", "CAPNET_ADMIN", "CAP_CAP_NET_ADMIN", "12", "CAP_12"}) {
    absl::StatusOr<int> got = ParseCapName(name, kKernel540);
    ASSERT_FALSE(got.ok()) << name;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(got.status().message(), std::string("unknown capability '") + name + "'");
  }
}

TEST(ParseCapName, RejectsCapabilitiesTheKernelLacks) {
  // A 5.4 kernel stops at CAP_AUDIT_READ (37); 5.8 added PERFMON and BPF.
  absl::StatusOr<int> bpf = ParseCapName("BPF", 37);
  ASSERT_FALSE(bpf.ok());
  EXPECT_EQ(bpf.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bpf.status().message(), HasSubstr("CAP_BPF (39)"));
  EXPECT_THAT(bpf.status().message(), HasSubstr("running kernel"));
  EXPECT_TRUE(ParseCapName("AUDIT_READ", 37).ok());
  EXPECT_FALSE(ParseCapName("CHECKPOINT_RESTORE", 39).ok());
  EXPECT_TRUE(ParseCapName("CHECKPOINT_RESTORE", 40).ok());
  // The default overload asks the running kernel.
  EXPECT_EQ(ParseCapName("CHECKPOINT_RESTORE").ok(), LastCap() >= CAP_CHECKPOINT_RESTORE);
}

TEST(CapName, RoundTripsEveryKnownCapability) {
  ASSERT_EQ(LastKnownCap(), CAP_LAST_CAP);
  for (int cap = 0; cap <= LastKnownCap(); ++cap) {
    const std::string name = CapName(cap);
    ASSERT_EQ(name.rfind("CAP_", 0), 0u) << cap;
    EXPECT_EQ(ParseCapName(name, LastKnownCap()).value_or(-1), cap) << name;
    std::string bare = name.substr(4);
    for (char& ch : bare) ch = static_cast<char>(tolower(ch));
    EXPECT_EQ(ParseCapName(bare, LastKnownCap()).value_or(-1), cap) << bare;
  }
  EXPECT_EQ(CapName(CAP_NET_ADMIN), "CAP_NET_ADMIN");
  EXPECT_EQ(CapName(CAP_DAC_READ_SEARCH), "CAP_DAC_READ_SEARCH");
  EXPECT_EQ(CapName(CAP_SYS_TTY_CONFIG), "CAP_SYS_TTY_CONFIG");
  EXPECT_EQ(CapName(CAP_BLOCK_SUSPEND), "CAP_BLOCK_SUSPEND");
  EXPECT_EQ(CapName(41), "CAP_41");
}

TEST(LastCap, MatchesTheRunningKernel) {
  const int last = LastCap();
  EXPECT_GE(last, CAP_SETFCAP);
  EXPECT_LE(last, 63);
  FILE* f = fopen("/proc/sys/kernel/cap_last_cap", "re");
  if (f == nullptr) GTEST_SKIP() << "no /proc/sys/kernel/cap_last_cap";
  int kernel = -1;
  ASSERT_EQ(fscanf(f, "%d", &kernel), 1);
  fclose(f);
  EXPECT_EQ(last, kernel);
  EXPECT_EQ(LastCap(), last) << "cached";
}

// ---- Docker's set and rules.

TEST(DockerDefaultCaps, IsDockersList) {
  EXPECT_EQ(DescribeCaps(DockerDefaultCaps()),
            "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_SETGID,CAP_SETUID,CAP_SETPCAP,"
            "CAP_NET_BIND_SERVICE,CAP_NET_RAW,CAP_SYS_CHROOT,CAP_MKNOD,CAP_AUDIT_WRITE,CAP_SETFCAP");
  // CapBnd of a default `docker run`.
  EXPECT_EQ(DockerDefaultCaps(), CapMask{0xa80425fb});
}

struct ComputeCase {
  std::vector<std::string> add, drop;
  CapMask want;
};

TEST(ComputeCaps, FollowsDockersRules) {
  const CapMask d = DockerDefaultCaps();
  const CapMask all = (CapMask{1} << 41) - 1;
  const ComputeCase cases[] = {
      {{}, {}, d},
      {{"NET_ADMIN"}, {}, d | CapBit(CAP_NET_ADMIN)},
      {{"cap_sys_ptrace", "SYS_ADMIN"}, {}, d | CapBit(CAP_SYS_PTRACE) | CapBit(CAP_SYS_ADMIN)},
      {{"KILL"}, {}, d},  // already there
      {{}, {"NET_RAW", "cap_chown"}, d & ~CapBit(CAP_NET_RAW) & ~CapBit(CAP_CHOWN)},
      {{}, {"SYS_ADMIN"}, d},  // not there
      {{"ALL"}, {}, all},
      {{"all"}, {"NET_ADMIN", "sys_admin"}, all & ~CapBit(CAP_NET_ADMIN) & ~CapBit(CAP_SYS_ADMIN)},
      {{}, {"ALL"}, 0},
      {{"NET_BIND_SERVICE"}, {"ALL"}, CapBit(CAP_NET_BIND_SERVICE)},
      {{"NET_ADMIN", "CHOWN"}, {"all"}, CapBit(CAP_NET_ADMIN) | CapBit(CAP_CHOWN)},
      {{"SETPCAP", "SETPCAP"}, {"NET_RAW", "NET_RAW"}, d & ~CapBit(CAP_NET_RAW)},
  };
  for (const ComputeCase& c : cases) {
    absl::StatusOr<CapMask> got = ComputeCaps(c.add, c.drop, kKernel540);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(DescribeCaps(*got), DescribeCaps(c.want))
        << "add " << testing::PrintToString(c.add) << " drop " << testing::PrintToString(c.drop);
  }
  // ALL is what the kernel has.
  EXPECT_EQ(ComputeCaps({"ALL"}, {}, 37).value_or(0), (CapMask{1} << 38) - 1);
  EXPECT_EQ(ComputeCaps({"ALL"}, {}).value_or(0), AllCaps(LastCap()));
}

struct BadCase {
  std::vector<std::string> add, drop;
  const char* message;
};

TEST(ComputeCaps, RejectsUnknownNamesAndConflicts) {
  const BadCase cases[] = {
      {{"FOO"}, {}, "unknown capability 'FOO'"},
      {{}, {"bar"}, "unknown capability 'bar'"},
      {{"CAP_ALL"}, {}, "unknown capability 'CAP_ALL'"},
      {{"NET_ADMIN", "FOO"}, {"NET_ADMIN"}, "unknown capability 'FOO'"},
      {{"NET_ADMIN"}, {"cap_net_admin"}, "CAP_NET_ADMIN both added and dropped"},
      {{"KILL", "CHOWN", "NET_ADMIN"}, {"chown", "kill"}, "CAP_CHOWN,CAP_KILL both added and dropped"},
      {{"ALL"}, {"all"}, "ALL is both added and dropped"},
      {{"BPF"}, {}, "CAP_BPF (39) is not supported by the running kernel"},
  };
  for (const BadCase& c : cases) {
    absl::StatusOr<CapMask> got = ComputeCaps(c.add, c.drop, 37);
    ASSERT_FALSE(got.ok()) << c.message;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(got.status().message(), HasSubstr(c.message));
  }
}

TEST(DescribeCaps, ListsNamesInBitOrder) {
  EXPECT_EQ(DescribeCaps(0), "");
  EXPECT_EQ(DescribeCaps(CapBit(CAP_KILL)), "CAP_KILL");
  EXPECT_EQ(DescribeCaps(CapBit(CAP_KILL) | CapBit(CAP_CHOWN)), "CAP_CHOWN,CAP_KILL");
  EXPECT_EQ(DescribeCaps(CapBit(CAP_CHECKPOINT_RESTORE) | CapBit(41) | CapBit(63)),
            "CAP_CHECKPOINT_RESTORE,CAP_41,CAP_63");
  EXPECT_EQ(AllCaps(63), ~CapMask{0});
  EXPECT_EQ(AllCaps(0), CapMask{1});
}

// ---- Child side, against the real kernel.

TEST(DropBoundingSetInChild, WithoutSetpcapReportsEpermAndTheStep) {
  auto r = RunInChild([](ChildReport& rep) {
    if (!DropToNobody(rep)) return;
    const char* step = nullptr;
    rep.rc = DropBoundingSetInChild(DockerDefaultCaps(), LastCap(), &step);
    CopyStr(rep.step, step);
    ReadStatus(rep);
  });
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->skip_errno, 0) << r->step << ": " << strerror(r->skip_errno);
  EXPECT_EQ(r->rc, EPERM) << strerror(r->rc);
  EXPECT_STREQ(r->step, "prctl(PR_CAPBSET_DROP)");
}

TEST(DropBoundingSetInChild, NothingLeftToDropNeedsNoPrivilege) {
  // A bounding set already within keep is left alone without CAP_SETPCAP.
  auto r = RunInChild([](ChildReport& rep) {
    if (!DropToNobody(rep)) return;
    const char* step = "untouched";
    rep.rc = DropBoundingSetInChild(AllCaps(LastCap()), LastCap(), &step);
    CopyStr(rep.step, step);
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rc, 0) << r->step << ": " << strerror(r->rc);
  EXPECT_STREQ(r->step, "untouched");
}

TEST(SetCapsInChild, LoweringToNothingNeedsNoPrivilege) {
  auto r = RunInChild([](ChildReport& rep) {
    if (!DropToNobody(rep)) return;
    const char* step = nullptr;
    rep.rc = SetCapsInChild(DockerDefaultCaps(), /*uid_is_root=*/false, &step);
    CopyStr(rep.step, step);
    ReadStatus(rep);
  });
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->skip_errno, 0) << r->step;
  ASSERT_EQ(r->rc, 0) << r->step << ": " << strerror(r->rc);
  for (const char* field : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) {
    EXPECT_EQ(StatusMask(r->status, field), CapMask{0}) << field << "\n" << r->status;
  }
}

TEST(SetCapsInChild, RaisingWithoutPrivilegeReportsEpermAndTheStep) {
  auto r = RunInChild([](ChildReport& rep) {
    if (!DropToNobody(rep)) return;
    const char* step = nullptr;
    rep.rc = SetCapsInChild(CapBit(CAP_NET_ADMIN), /*uid_is_root=*/true, &step);
    CopyStr(rep.step, step);
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rc, EPERM) << strerror(r->rc);
  EXPECT_STREQ(r->step, "capset");
}

// Root of a new user namespace holds every capability over it, so the
// success path runs without real root.
TEST(CapsInUserNamespace, BoundingSetAndSetsBecomeTheMaskAndAmbientIsCleared) {
  const CapMask keep = DockerDefaultCaps();
  auto r = RunInChild([keep](ChildReport& rep) {
    if (!EnterUserNs(rep)) return;
    // Start with something in the inheritable and ambient sets, so that
    // clearing them is seen.
    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[2] = {};
    if (::syscall(SYS_capget, &h, d) != 0) return CopyStr(rep.step, "test capget");
    d[0].inheritable = 1u << CAP_NET_RAW;
    if (::syscall(SYS_capset, &h, d) != 0) return CopyStr(rep.step, "test capset");
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0) != 0) {
      return CopyStr(rep.step, "test ambient raise");
    }
    const char* step = nullptr;
    rep.rc = DropBoundingSetInChild(keep, LastCap(), &step);
    if (rep.rc == 0) rep.rc = SetCapsInChild(keep, /*uid_is_root=*/true, &step);
    // Everything outside keep is gone already: a second drop has nothing
    // to do and needs no CAP_SETPCAP.
    if (rep.rc == 0 && SetCapsInChild(keep & ~CapBit(CAP_SETPCAP), true, &step) == 0) {
      rep.rc = DropBoundingSetInChild(keep, LastCap(), &step);
    }
    CopyStr(rep.step, step);
    ReadStatus(rep);
  });
  ASSERT_TRUE(r.has_value());
  if (r->skip_errno != 0) GTEST_SKIP() << r->step << ": " << strerror(r->skip_errno);
  ASSERT_EQ(r->rc, 0) << r->step << ": " << strerror(r->rc);
  EXPECT_EQ(StatusMask(r->status, "CapBnd"), keep) << r->status;
  EXPECT_EQ(StatusMask(r->status, "CapPrm"), keep & ~CapBit(CAP_SETPCAP)) << r->status;
  EXPECT_EQ(StatusMask(r->status, "CapEff"), keep & ~CapBit(CAP_SETPCAP)) << r->status;
  EXPECT_EQ(StatusMask(r->status, "CapInh"), CapMask{0}) << r->status;
  EXPECT_EQ(StatusMask(r->status, "CapAmb"), CapMask{0}) << r->status;
}

}  // namespace
}  // namespace sandbox
