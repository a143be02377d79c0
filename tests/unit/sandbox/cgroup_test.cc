// Unit tests of the sandbox cgroup's parts that need no privileges (the
// rest is in tests/integration/cgroup_test.cc): removal of what is not
// there, and the OOM counters' parsing (cgroup.h).
#include "sandbox/cgroup.h"

#include <optional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sandbox {
namespace {

TEST(KillAndRemoveCgroups, MissingDirectoriesAreFine) {
  EXPECT_TRUE(KillAndRemoveCgroups({"/nonexistent/minipod-x", "/nonexistent/minipod-y"}, 100).ok());
}

// ---- OOM counters --------------------------------------------------------

TEST(ParseOomKills, V2EventsAndV1OomControl) {
  EXPECT_EQ(ParseOomKills("low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n"), 2);
  EXPECT_EQ(ParseOomKills("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"), 0);
  EXPECT_EQ(ParseOomKills("oom_kill_disable 0\nunder_oom 0\noom_kill 5\n"), 5);
  // v1 before 4.13 has no count, and oom_kill_disable is another key.
  EXPECT_EQ(ParseOomKills("oom_kill_disable 1\nunder_oom 1\n"), std::nullopt);
  EXPECT_EQ(ParseOomKills(""), std::nullopt);
  EXPECT_EQ(ParseOomKills("oom_kill x\n"), std::nullopt);
}

}  // namespace
}  // namespace sandbox
