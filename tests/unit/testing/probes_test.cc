// The host probes of tests/testing/probes.h, checked against a second,
// independent way of knowing the same fact on this machine (the mount table,
// prctl, a child that drops a capability), so a probe that always answers
// the same cannot pass.
#include "tests/testing/probes.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/child_report.h"

namespace testing_util {
namespace {

using ::testing::HasSubstr;

TEST(ProbesTest, Ia32EntryAnswersAndSaysWhy) {
  const Probe p = HasIa32Entry();
  EXPECT_FALSE(p.detail.empty());
  if (!p) {
    EXPECT_THAT(p.detail, HasSubstr("int $0x80"));
  }
  // Asked twice, the same answer (cached, and the child left nothing).
  EXPECT_EQ(HasIa32Entry().ok, p.ok);
}

TEST(ProbesTest, X32AnswersAndSaysWhy) {
  const Probe p = HasX32();
  EXPECT_FALSE(p.detail.empty());
  if (!p) {
    EXPECT_THAT(p.detail, HasSubstr("x32"));
  }
}

TEST(ProbesTest, KeysAgreeWithKeyctl) {
  const long r = ::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
  const bool enosys = r < 0 && errno == ENOSYS;
  EXPECT_EQ(HasKeys().ok, !enosys) << HasKeys().detail;
}

TEST(ProbesTest, BoundingSetAgreesWithPrctl) {
  const uint64_t bnd = BoundingSet();
  for (int cap = 0; cap <= LastCap(); ++cap) {
    const int in = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    ASSERT_GE(in, 0) << CapName(cap);
    EXPECT_EQ(InBoundingSet(cap), in == 1) << CapName(cap);
    EXPECT_EQ((bnd >> cap) & 1, static_cast<uint64_t>(in)) << CapName(cap);
  }
  EXPECT_EQ(BoundingSetFull().ok, MissingFromBoundingSet().empty());
}

// A child drops CAP_SYS_MODULE and CAP_SYS_RAWIO from its bounding set, as
// `setpriv --bounding-set -sys_module,-sys_rawio` does, and asks again.
TEST(ProbesTest, ReducedBoundingSetIsSeenAndNamed) {
  if (!InBoundingSet(CAP_SETPCAP) || ::prctl(PR_CAPBSET_READ, CAP_SYS_MODULE, 0, 0, 0) != 1 ||
      ::geteuid() != 0) {
    GTEST_SKIP() << "needs root with CAP_SETPCAP and CAP_SYS_MODULE in the bounding set to drop one";
  }
  struct Report {
    bool dropped = false;
    bool full = true;
    bool has_module = true;
    bool has_chown = false;
    bool asked_ok = true;
    char detail[256] = {};
  };
  const auto r = RunInChild<Report>([](Report& rep) {
    rep.dropped = ::prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE, 0, 0, 0) == 0 &&
                  ::prctl(PR_CAPBSET_DROP, CAP_SYS_RAWIO, 0, 0, 0) == 0;
    const Probe full = BoundingSetFull();
    rep.full = full.ok;
    strncpy(rep.detail, full.detail.c_str(), sizeof rep.detail - 1);
    rep.has_module = InBoundingSet(CAP_SYS_MODULE);
    rep.has_chown = InBoundingSet(CAP_CHOWN);
    rep.asked_ok = BoundingSetHas(uint64_t{1} << CAP_SYS_RAWIO).ok;
  });
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->dropped);
  EXPECT_FALSE(r->full);
  EXPECT_FALSE(r->has_module);
  EXPECT_TRUE(r->has_chown);
  EXPECT_FALSE(r->asked_ok);
  EXPECT_THAT(r->detail, HasSubstr("cap_sys_module, cap_sys_rawio"));
}

// The layout from statfs(2) against the one the mount table shows.
TEST(ProbesTest, CgroupLayoutAgreesWithMountinfo) {
  std::ifstream in("/proc/self/mountinfo");
  ASSERT_TRUE(in) << "/proc/self/mountinfo";
  std::string top_type, unified_type;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point, field;
    fields >> id >> parent >> dev >> root >> mount_point;
    while (fields >> field && field != "-") {
    }
    std::string fstype;
    fields >> fstype;
    // The last mount on a path is the one visible there.
    if (mount_point == "/sys/fs/cgroup") top_type = fstype;
    if (mount_point == "/sys/fs/cgroup/unified") unified_type = fstype;
  }
  CgroupLayout expected = CgroupLayout::kNone;
  if (top_type == "cgroup2") {
    expected = CgroupLayout::kV2;
  } else if (top_type == "cgroup") {
    expected = CgroupLayout::kV1;
  } else if (top_type == "tmpfs") {
    expected = unified_type == "cgroup2" ? CgroupLayout::kHybrid : CgroupLayout::kV1;
  }
  EXPECT_EQ(CgroupLayoutName(CgroupLayoutKind()), std::string(CgroupLayoutName(expected)));
}

TEST(ProbesTest, ProgramsAreFoundOnPathOnly) {
  const Probe sh = HasProgram("sh");
  ASSERT_TRUE(sh) << sh.detail;
  EXPECT_EQ(::access(sh.detail.c_str(), X_OK), 0) << sh.detail;
  const Probe none = HasProgram("minipod-no-such-program");
  EXPECT_FALSE(none);
  EXPECT_THAT(none.detail, HasSubstr("minipod-no-such-program is not installed"));
}

TEST(ProbesTest, MultiarchDirIsADirectoryWhenFound) {
  const Probe p = MultiarchLibDir();
  struct stat st {};
  if (p) {
    EXPECT_EQ(::stat(p.detail.c_str(), &st), 0) << p.detail;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << p.detail;
  } else {
    EXPECT_THAT(p.detail, HasSubstr("multiarch"));
  }
}

TEST(ProbesTest, ContainerMarksAreReported) {
  const Probe p = InContainer();
  EXPECT_FALSE(p.detail.empty());
  struct stat st {};
  if (::stat("/.dockerenv", &st) == 0 || ::stat("/run/.containerenv", &st) == 0) {
    EXPECT_TRUE(p) << p.detail;
  }
}

TEST(ProbesTest, CapNamesFollowTheKernelNumbers) {
  EXPECT_EQ(CapName(CAP_CHOWN), "cap_chown");
  EXPECT_EQ(CapName(CAP_SYS_MODULE), "cap_sys_module");
  EXPECT_EQ(CapName(CAP_CHECKPOINT_RESTORE), "cap_checkpoint_restore");
  EXPECT_EQ(CapName(63), "cap_63");
}

}  // namespace
}  // namespace testing_util
