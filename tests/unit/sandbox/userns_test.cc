// --userns's pure parts (subordinate id files, blocks, the free block, the
// allocation record's text, the id maps) and the allocation record itself
// in a temporary directory, with this process and dead children as holders.
#include "sandbox/userns.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/mount.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/absl/file_util.h"
#include "sandbox/ns_mount.h"

namespace sandbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParseSubIdsTest, LinesCommentsAndBounds) {
  const SubIdFile f = ParseSubIds(
      "# comment\n"
      "\n"
      "alice:100000:65536\n"
      "  1000:165536:65536  \n"
      "minipod:1879048192:67108864\n"
      "bad\n"
      "x:1:0\n"                    // count 0
      "y:4294967295:1\n"           // start is (uid_t)-1
      "z:4294967294:2\n"           // runs onto (uid_t)-1
      "w:4294967294:1\n"           // the very last id: fine
      "v:-1:5\n"                   // no signs
      "u:12345678901:1\n"          // too many digits
      ":5:5\n"                     // no owner
      "t:5:5:5\n"                  // four fields
      "s: 5:5\n");
  ASSERT_EQ(f.ranges.size(), 4u);
  EXPECT_EQ(f.ranges[0].owner, "alice");
  EXPECT_EQ(f.ranges[0].start, 100000u);
  EXPECT_EQ(f.ranges[0].count, 65536u);
  EXPECT_EQ(f.ranges[1].owner, "1000");
  EXPECT_EQ(f.ranges[2].count, 67108864u);
  EXPECT_EQ(f.ranges[3].owner, "w");
  EXPECT_EQ(f.ranges[3].start, 4294967294u);
  EXPECT_THAT(f.bad_lines, ElementsAre(6, 7, 8, 9, 11, 12, 13, 14, 15));
}

TEST(ParseSubIdsTest, ByNameOrUid) {
  const SubIdFile f = ParseSubIds("minipod:200000:65536\nother:1:2\n997:300000:131072\n");
  std::vector<SubIdRange> r = RangesOf(f, "minipod", std::nullopt);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].start, 200000u);
  r = RangesOf(f, "minipod", 997);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].start, 300000u);
  EXPECT_TRUE(RangesOf(f, "nobody", std::nullopt).empty());
}

TEST(BlocksTest, WholeBlocksOfEachRangeInOrder) {
  const std::vector<SubIdRange> uids = {{"m", 100000, 65536 * 2 + 5}, {"m", 1000000, 65535}, {"m", 5000000, 65536}};
  const std::vector<SubIdRange> gids = {{"m", 700000, 65536 * 10}};
  const std::vector<IdBlock> b = BlocksOf(uids, gids);
  ASSERT_EQ(b.size(), 3u) << "a tail shorter than a block is not used; the shorter list decides";
  EXPECT_EQ(b[0], (IdBlock{100000, 700000}));
  EXPECT_EQ(b[1], (IdBlock{165536, 765536}));
  EXPECT_EQ(b[2], (IdBlock{5000000, 831072}));
  // The top of the id space: the last whole block ends at 2^32 - 2.
  const std::vector<SubIdRange> top = {{"m", 4294967294u - 65536 * 2 + 1, 65536 * 2}};
  EXPECT_EQ(BlocksOf(top, top).size(), 2u);
}

TEST(BlocksTest, DefaultRangeIsBelowTwoToThe31) {
  const std::vector<SubIdRange> def = {{"minipod", kDefaultRangeStart, kDefaultRangeCount}};
  const std::vector<IdBlock> b = BlocksOf(def, def);
  ASSERT_EQ(b.size(), 1024u);
  EXPECT_LT(uint64_t{b.back().uid_start} + kBlockSize, uint64_t{1} << 31);
}

TEST(ChooseFreeBlockTest, FirstBlockNoUsedOneOverlaps) {
  const std::vector<IdBlock> c = {{100000, 100000}, {165536, 165536}, {231072, 231072}};
  EXPECT_EQ(ChooseFreeBlock(c, {}), (IdBlock{100000, 100000}));
  EXPECT_EQ(ChooseFreeBlock(c, {{100000, 100000}}), (IdBlock{165536, 165536}));
  // A used block from another configuration that straddles two candidates.
  EXPECT_EQ(ChooseFreeBlock(c, {{150000, 1}}), (IdBlock{231072, 231072}));
  // Overlapping in gids only is taken as well.
  EXPECT_EQ(ChooseFreeBlock(c, {{1, 100000}}), (IdBlock{165536, 165536}));
  EXPECT_EQ(ChooseFreeBlock(c, c), std::nullopt);
  EXPECT_EQ(ChooseFreeBlock({}, {}), std::nullopt);
}

TEST(BlockRecordsTest, RoundTripAndMalformedLinesDropped) {
  const std::vector<BlockRecord> r = {{{100000, 200000}, {{12, 345}, {13, 346}}}, {{4294901759u, 0}, {{1, 0}}}};
  const std::string text = FormatBlockRecords(r);
  EXPECT_EQ(text, "100000 200000 12:345 13:346\n4294901759 0 1:0\n");
  const std::vector<BlockRecord> back = ParseBlockRecords(text + "garbage\n1 2\n1 2 x:1\n1 2 0:5\n-1 2 3:4\n");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].block, r[0].block);
  EXPECT_EQ(back[0].holders, r[0].holders);
  EXPECT_EQ(back[1].holders, r[1].holders);
}

TEST(IdMapsTest, AutoAndKeepId) {
  const IdBlock b{1879048192, 1879113728};
  const IdMaps a = AutoMaps(b);
  EXPECT_EQ(FormatIdMap(a.uid), "0 1879048192 65536\n");
  EXPECT_EQ(FormatIdMap(a.gid), "0 1879113728 65536\n");
  IdMaps k = KeepIdMaps(0, 0, b);
  EXPECT_EQ(FormatIdMap(k.uid), "0 0 1\n1 1879048193 65535\n");
  k = KeepIdMaps(1000, 100, b);
  EXPECT_EQ(FormatIdMap(k.uid), "0 1879048192 1000\n1000 1000 1\n1001 1879049193 64535\n");
  EXPECT_EQ(FormatIdMap(k.gid), "0 1879113728 100\n100 100 1\n101 1879113829 65435\n");
  k = KeepIdMaps(65535, 65535, b);
  EXPECT_EQ(FormatIdMap(k.uid), "0 1879048192 65535\n65535 65535 1\n");
  k = KeepIdMaps(100000, 100000, b);
  EXPECT_EQ(FormatIdMap(k.uid), "0 1879048192 65536\n100000 100000 1\n");
}

TEST(ProcessTest, StartTimeOfLiveAndDeadProcesses) {
  const std::optional<uint64_t> self = ProcessStartTime(getpid());
  ASSERT_TRUE(self.has_value());
  EXPECT_TRUE(StillRunning({getpid(), *self}));
  EXPECT_FALSE(StillRunning({getpid(), *self + 1})) << "a reused pid is another process";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  int ws;
  ASSERT_EQ(waitpid(child, &ws, 0), child);
  EXPECT_FALSE(ProcessStartTime(child).has_value());
}

class BlockLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/userns-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = std::string(tmpl) + "/run";
    self_ = {getpid(), ProcessStartTime(getpid()).value_or(0)};
  }
  void TearDown() override { std::filesystem::remove_all(std::filesystem::path(dir_).parent_path()); }
  std::string Record() {
    absl::StatusOr<std::string> text = common::ReadFileToString(dir_ + "/userns");
    return text.ok() ? *text : "<" + text.status().ToString() + ">";
  }
  // A process that has exited and been reaped: its record is stale.
  ProcessId DeadProcess() {
    int p[2];
    EXPECT_EQ(pipe(p), 0);
    const pid_t child = fork();
    if (child == 0) {
      close(p[1]);
      char c;
      (void)!read(p[0], &c, 1);
      _exit(0);
    }
    const ProcessId id{child, ProcessStartTime(child).value_or(0)};
    close(p[0]);
    close(p[1]);
    int ws;
    waitpid(child, &ws, 0);
    return id;
  }
  std::string dir_;
  ProcessId self_;
  const std::vector<IdBlock> candidates_ = {{100000, 100000}, {165536, 165536}};
};

TEST_F(BlockLeaseTest, DistinctBlocksUntilReleased) {
  absl::StatusOr<BlockLease> a = BlockLease::Allocate(dir_, candidates_, self_);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<BlockLease> b = BlockLease::Allocate(dir_, candidates_, self_);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->block(), candidates_[0]);
  EXPECT_EQ(b->block(), candidates_[1]);
  absl::StatusOr<BlockLease> c = BlockLease::Allocate(dir_, candidates_, self_);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("all 2 id blocks are in use"));
  ASSERT_TRUE(a->Release().ok());
  EXPECT_FALSE(a->held());
  c = BlockLease::Allocate(dir_, candidates_, self_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->block(), candidates_[0]) << "released: free again";
  EXPECT_EQ(Record(), "165536 165536 " + std::to_string(self_.pid) + ":" + std::to_string(self_.start_time) +
                          "\n100000 100000 " + std::to_string(self_.pid) + ":" + std::to_string(self_.start_time) +
                          "\n");
  { BlockLease moved = std::move(*b); }  // destruction releases
  *c = BlockLease();
  EXPECT_EQ(Record(), "");
}

TEST_F(BlockLeaseTest, ABlockWhoseHoldersAreDeadIsFree) {
  const ProcessId dead = DeadProcess();
  absl::StatusOr<BlockLease> a = BlockLease::Allocate(dir_, candidates_, dead);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->block(), candidates_[0]);
  // Its owner is gone (as a launcher killed with SIGKILL): the next run
  // takes the same block.
  absl::StatusOr<BlockLease> b = BlockLease::Allocate(dir_, candidates_, self_);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->block(), candidates_[0]);
  // A live second holder keeps a block taken although its owner died.
  ASSERT_TRUE(b->AddHolder(DeadProcess()).ok());
  const ProcessId dead_owner = DeadProcess();
  absl::StatusOr<BlockLease> c = BlockLease::Allocate(dir_, candidates_, dead_owner);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->block(), candidates_[1]);
  ASSERT_TRUE(c->AddHolder(self_).ok());
  absl::StatusOr<BlockLease> d = BlockLease::Allocate(dir_, candidates_, self_);
  EXPECT_FALSE(d.ok()) << "the container (a live holder) still uses block 2";
  (void)a->Release();  // its line is long gone: harmless
}

TEST_F(BlockLeaseTest, APodsMemberKeepsTheBlockAfterItsHolderIsGone) {
  // A live process other than us, standing for a member's launcher.
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  const pid_t child = fork();
  if (child == 0) {
    close(p[1]);
    char c;
    (void)!read(p[0], &c, 1);
    _exit(0);
  }
  close(p[0]);
  const ProcessId member{child, ProcessStartTime(child).value_or(0)};
  absl::StatusOr<BlockLease> holder = BlockLease::Allocate(dir_, candidates_, self_);
  ASSERT_TRUE(holder.ok()) << holder.status();
  absl::StatusOr<BlockLease> joined = BlockLease::Join(dir_, holder->block(), member);
  ASSERT_TRUE(joined.ok()) << joined.status();
  ASSERT_TRUE(holder->Release().ok());
  absl::StatusOr<BlockLease> other = BlockLease::Allocate(dir_, candidates_, self_);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->block(), candidates_[1]) << "the member still runs in the pod's block";
  ASSERT_TRUE(joined->Release().ok());
  ASSERT_TRUE(other->Release().ok());
  absl::StatusOr<BlockLease> again = BlockLease::Allocate(dir_, candidates_, self_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->block(), candidates_[0]) << "every holder gone: free";
  close(p[1]);
  int ws;
  waitpid(child, &ws, 0);
}

TEST(BlockOfMapTest, AutoAndKeepIdMapsOnly) {
  EXPECT_EQ(BlockStartOfMap("         0 1879048192      65536\n"), 1879048192u);
  EXPECT_EQ(BlockStartOfMap("0 100000 65536"), 100000u);
  EXPECT_FALSE(BlockStartOfMap("0 0 4294967295\n").has_value()) << "the host's own map";
  EXPECT_FALSE(BlockStartOfMap("0 1000 1\n").has_value());
  EXPECT_FALSE(BlockStartOfMap("1 100000 65536\n").has_value()) << "not from 0";
  EXPECT_FALSE(BlockStartOfMap("0 100000 65535\n").has_value()) << "short of a block";
  EXPECT_FALSE(BlockStartOfMap("").has_value());
  // keep-id maps, as the kernel prints them back: the block they use.
  const IdBlock b{1879048192, 1879113728};
  for (uint32_t id : {0u, 1u, 1000u, 65534u, 65535u, 100000u}) {
    SCOPED_TRACE(id);
    const IdMaps k = KeepIdMaps(id, id, b);
    std::string printed;
    for (const IdMapEntry& e : k.uid) printed += absl::StrCat("  ", e.inside, "  ", e.outside, "  ", e.count, "\n");
    EXPECT_EQ(BlockStartOfMap(printed), b.uid_start) << printed;
    EXPECT_EQ(BlockStartOfMap(FormatIdMap(k.gid)), b.gid_start);
  }
  // Anything else that merely looks like one is not a block of ours.
  EXPECT_FALSE(BlockStartOfMap("0 1000 65536\n1000 1000 1\n").has_value()) << "overlapping";
  EXPECT_FALSE(BlockStartOfMap("0 0 1\n1 100001 65534\n").has_value()) << "one id short";
  EXPECT_FALSE(BlockStartOfMap("0 0 1\n1 1 1\n2 100002 65534\n").has_value()) << "two kept ids";
  EXPECT_FALSE(BlockStartOfMap("0 0 1\n1 100001 65535\nx\n").has_value());
  EXPECT_FALSE(BlockStartOfMap("1000 1000 1\n").has_value()) << "no block at all";
}

TEST(UidInPasswdTest, FirstEntryOfTheName) {
  const std::string passwd =
      "root:x:0:0:root:/root:/bin/bash\n"
      "minipodder:x:7:7::/:/bin/false\n"
      "minipod:x:998:998:minipod id ranges:/nonexistent:/usr/sbin/nologin\n"
      "minipod:x:5:5::/:/bin/false\n";
  EXPECT_EQ(UidInPasswd(passwd, "minipod"), std::optional<uid_t>(998));
  EXPECT_EQ(UidInPasswd(passwd, "root"), std::optional<uid_t>(0));
  EXPECT_FALSE(UidInPasswd(passwd, "mini").has_value()) << "names match whole";
  EXPECT_FALSE(UidInPasswd(passwd, "nobody").has_value());
  EXPECT_FALSE(UidInPasswd("minipod:x:-1:0::/:/bin/sh\n", "minipod").has_value());
  EXPECT_FALSE(UidInPasswd("minipod:x:4294967295:0::/:/bin/sh\n", "minipod").has_value()) << "(uid_t)-1";
  EXPECT_FALSE(UidInPasswd("minipod:x\n", "minipod").has_value());
  EXPECT_FALSE(UidInPasswd("", "minipod").has_value());
}

TEST(CandidateBlocksTest, EntryDefaultAndHalfEntry) {
  char tmpl[] = "/tmp/userns-subid-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl, su = dir + "/subuid", sg = dir + "/subgid";
  absl::StatusOr<std::vector<IdBlock>> b = CandidateBlocks(su, sg);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->size(), 1024u) << "no files: the default range";
  EXPECT_EQ(b->front(), (IdBlock{kDefaultRangeStart, kDefaultRangeStart}));
  std::ofstream(su) << "alice:100000:65536\nminipod:300000:131072\n";
  std::ofstream(sg) << "minipod:500000:65536\n";
  b = CandidateBlocks(su, sg);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_THAT(*b, ElementsAre(IdBlock{300000, 500000}));
  std::ofstream(sg) << "alice:100000:65536\n";
  b = CandidateBlocks(su, sg);
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(std::string(b.status().message()), HasSubstr(sg + " has none"));
  std::filesystem::remove_all(dir);
}

// The plan with id-mapped trees: nothing of the host is reopened by path; the root
// and --upper's DIR are attached on the scratch and layered from there (an
// overlay takes layers from its mounter's namespace only), the init and
// the binds are attached where they go, and the overlay uses user xattrs.
TEST(IdmappedPlanTest, TreesAreAttachedNotReopened) {
  RunConfig c;
  c.rootfs = "/srv/root";
  c.upper = "/srv/keep";
  c.command = {"true"};
  c.binds = {{"/srv/data", "/data", true, false}};
  MountInputs in;
  in.rootfs_path = "/srv/root";
  in.rootfs_fd = 10;
  in.init_path = "/usr/lib/minipod/minipod-init";
  in.init_fd = 11;
  in.upper_path = "/srv/keep";
  in.upper_dir_fd = 12;
  in.upper_fd = 13;
  in.work_fd = 14;
  in.bind_fds = {15};
  in.bind_is_dir = {true};
  in.own_userns = true;
  in.rootfs_tree_fd = 20;
  in.upper_tree_fd = 21;
  in.init_tree_fd = 22;
  in.bind_tree_fds = {23};
  const std::vector<MountStep> steps = PlanMounts(c, in);
  std::vector<std::string> moves;
  std::string overlay;
  std::vector<std::string> reopened;
  for (const MountStep& s : steps) {
    if (s.op == MountStep::Op::kReopen) reopened.push_back(absl::StrCat(s.source, " onto ", s.fd));
    if (s.op == MountStep::Op::kMoveMount) moves.push_back(absl::StrCat(s.fd, s.inside ? " in " : " at ", s.target));
    if (s.op == MountStep::Op::kMount && s.fstype == "overlay") overlay = s.data;
    EXPECT_FALSE(s.op == MountStep::Op::kMount && (s.flags & MS_BIND) && s.target == "/data") << "bound, not attached";
  }
  EXPECT_THAT(moves, ElementsAre("20 at /tmp/lower", "21 at /tmp/keep", "22 in /dev/init", "23 in /data"));
  // Only --upper's two directories, through DIR's tree, checked against
  // what the parent opened.
  EXPECT_THAT(reopened, ElementsAre("/tmp/keep/upper onto 13", "/tmp/keep/work onto 14"));
  EXPECT_EQ(overlay, "lowerdir=/tmp/lower,upperdir=/proc/self/fd/13,workdir=/proc/self/fd/14,userxattr");
  // The bind is still made read-only/nosuid/nodev as asked afterwards.
  bool attrs = false;
  for (const MountStep& s : steps) attrs = attrs || (s.op == MountStep::Op::kSetAttr && s.target == "/data");
  EXPECT_TRUE(attrs);
}

}  // namespace
}  // namespace sandbox
