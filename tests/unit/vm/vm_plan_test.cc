// `minipod vm` as data: option values, QEMU's argv, the kernel command
// line, the console's status line (also mid-line, after escape codes, split
// across reads) and the outcome (N against N+128, no status, timeouts).
#include "vm/vm_plan.h"

#include <signal.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

TEST(ParseShare, ReadOnlyByDefault) {
  absl::StatusOr<Share> s = ParseShare("/srv/data:/mnt/data");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->host_dir, "/srv/data");
  EXPECT_EQ(s->guest_dir, "/mnt/data");
  EXPECT_FALSE(s->writable);
}

TEST(ParseShare, RwAndRoSuffixes) {
  absl::StatusOr<Share> rw = ParseShare("out:/out:rw");
  ASSERT_TRUE(rw.ok()) << rw.status();
  EXPECT_EQ(rw->host_dir, "out");
  EXPECT_EQ(rw->guest_dir, "/out");
  EXPECT_TRUE(rw->writable);
  absl::StatusOr<Share> ro = ParseShare("in:/in:ro");
  ASSERT_TRUE(ro.ok()) << ro.status();
  EXPECT_FALSE(ro->writable);
}

TEST(ParseShare, HostDirMayHoldColons) {
  absl::StatusOr<Share> s = ParseShare("/a:b/c:/guest:rw");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->host_dir, "/a:b/c");
  EXPECT_EQ(s->guest_dir, "/guest");
}

TEST(ParseShare, Refusals) {
  for (const char* bad : {"", "/only", ":/g", "/h:", "/h:relative", "/h:/with space", "/h:/q\"uote",
                          "/h:/back\\slash", "/h:/tab\tx", "/h:/ctl\x01", "/h:rw"}) {
    EXPECT_FALSE(ParseShare(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseShare(std::string("/h\0x:/g", 7)).ok());
  EXPECT_FALSE(ParseShare("/h:/" + std::string(300, 'a')).ok());
}

TEST(ParseMemory, SizesAndRange) {
  EXPECT_EQ(*ParseMemory("512"), "512M");
  EXPECT_EQ(*ParseMemory("512M"), "512M");
  EXPECT_EQ(*ParseMemory("2g"), "2G");
  EXPECT_EQ(*ParseMemory("65536k"), "65536K");
  for (const char* bad : {"", "M", "8M", "1X", "-5", "1.5G", "2T", "99999999999999", "12 M"}) {
    EXPECT_FALSE(ParseMemory(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseMemory("1T").ok());
}

TEST(ParseCpus, Range) {
  EXPECT_EQ(*ParseCpus("1"), 1);
  EXPECT_EQ(*ParseCpus("64"), 64);
  for (const char* bad : {"", "0", "65", "-1", "2x", "1000"}) EXPECT_FALSE(ParseCpus(bad).ok()) << bad;
}

TEST(QemuOptionValue, DoublesCommas) { EXPECT_EQ(QemuOptionValue("/a,b,,c"), "/a,,b,,,,c"); }

QemuPlan BasePlan() {
  QemuPlan p;
  p.qemu = "/usr/bin/qemu-system-x86_64";
  p.kernel = "/boot/vmlinuz-6.1.0-57-amd64";
  p.initrd = "/proc/self/fd/3";
  return p;
}

TEST(KernelCmdline, DefaultsSharesRootAndUserLast) {
  QemuPlan p = BasePlan();
  EXPECT_EQ(KernelCmdline(p), "console=ttyS0 panic=-1 cryptomgr.notests no_timer_check quiet");
  p.host_root = true;
  p.shares = {{"/h1", "/mnt/a", false}, {"/h2", "/out", true}};
  p.user_append = "minipod.env=A=1";
  EXPECT_EQ(KernelCmdline(p),
            "console=ttyS0 panic=-1 cryptomgr.notests no_timer_check quiet minipod.root=hostroot minipod.share=share0:/mnt/a "
            "minipod.share=share1:/out:rw minipod.env=A=1");
}

TEST(KernelCmdline, QuietLeftOutWhenTheUserAsksForMessages) {
  for (const char* append : {"loglevel=7", "debug", "x ignore_loglevel", "earlyprintk=serial"}) {
    QemuPlan p = BasePlan();
    p.user_append = append;
    EXPECT_THAT(KernelCmdline(p), Not(HasSubstr("quiet"))) << append;
  }
  QemuPlan p = BasePlan();
  p.user_append = "nodebug";
  EXPECT_THAT(KernelCmdline(p), HasSubstr(" quiet"));
}

TEST(QemuArgv, TcgWithoutShares) {
  QemuPlan p = BasePlan();
  EXPECT_THAT(QemuArgv(p),
              ElementsAre("/usr/bin/qemu-system-x86_64", "-nodefaults", "-display", "none", "-no-reboot", "-m", "512M",
                          "-smp", "1", "-accel", "tcg", "-cpu", "max", "-kernel",
                          "/boot/vmlinuz-6.1.0-57-amd64", "-initrd", "/proc/self/fd/3", "-chardev",
                          "stdio,id=console,signal=off", "-serial", "chardev:console", "-device",
                          "isa-debug-exit,iobase=0xf4,iosize=0x04", "-append", "console=ttyS0 panic=-1 cryptomgr.notests no_timer_check quiet"));
}

TEST(QemuArgv, KvmSharesAndHostRoot) {
  QemuPlan p = BasePlan();
  p.kvm = true;
  p.memory = "2G";
  p.cpus = 4;
  p.host_root = true;
  p.shares = {{"/srv/a,b", "/a", false}, {"/out", "/out", true}};
  const std::vector<std::string> argv = QemuArgv(p);
  const std::string joined = [&] {
    std::string s;
    for (const std::string& a : argv) s += a + "|";
    return s;
  }();
  EXPECT_THAT(joined, HasSubstr("|-m|2G|-smp|4|-accel|kvm|-cpu|host|"));
  EXPECT_THAT(joined, HasSubstr("|-virtfs|local,path=/,mount_tag=hostroot,security_model=none,readonly=on,"
                                "multidevs=remap|"));
  EXPECT_THAT(joined, HasSubstr("|-virtfs|local,path=/srv/a,,b,mount_tag=share0,security_model=none,"
                                "readonly=on,multidevs=remap|"));
  EXPECT_THAT(joined, HasSubstr("|-virtfs|local,path=/out,mount_tag=share1,security_model=none,"
                                "multidevs=remap|"));
  EXPECT_EQ(argv.back(),
            "console=ttyS0 panic=-1 cryptomgr.notests quiet minipod.root=hostroot minipod.share=share0:/a "
            "minipod.share=share1:/out:rw");
}

TEST(StatusFromLine, WholeAndMidLine) {
  EXPECT_EQ(StatusFromLine("minipod: exit status 0"), 0);
  EXPECT_EQ(StatusFromLine("minipod: exit status 137\r"), 137);
  EXPECT_EQ(StatusFromLine("\x1b" "c\x1b[?7l\x1b[2Jminipod: exit status 3"), 3);
  EXPECT_EQ(StatusFromLine("output without newline minipod: exit status 255  "), 255);
  for (const char* no : {"minipod: exit status", "minipod: exit status 256", "minipod: exit status 3x",
                         "minipod: exit status -1", "minipod: exit status 0003", "exit status 3",
                         "minipod: exit status 3 and more"}) {
    EXPECT_EQ(StatusFromLine(no), std::nullopt) << no;
  }
}

TEST(ConsoleScanner, StatusSplitAcrossReadsAfterEscapes) {
  ConsoleScanner s;
  const std::string console =
      "\x1b" "c\x1b[?7l\x1b[2Jhello\r\nminipod: some note\r\n\x1b[0mminipod: exit sta";
  s.Feed(console);
  EXPECT_EQ(s.status(), std::nullopt);
  s.Feed("tus 1");
  s.Feed("37\r\n");
  EXPECT_EQ(s.status(), 137);
  EXPECT_TRUE(s.init_seen());
  EXPECT_THAT(s.Tail(), ElementsAre("hello", "minipod: some note", "minipod: exit status 137"));
}

TEST(ConsoleScanner, AScreenResetStartsALineOfTheTail) {
  ConsoleScanner s;
  s.Feed("\x1b" "c\x1b[?7l\x1b[2J\x1b[0mSeaBIOS\r\nBooting from ROM..\x1b" "c\x1b[?7l\x1b[2Jbefore-the-hang\r\n");
  EXPECT_THAT(s.Tail(), ElementsAre("SeaBIOS", "Booting from ROM..", "before-the-hang"));
}

TEST(ConsoleScanner, LastStatusLineWins) {
  ConsoleScanner s;
  s.Feed("minipod: exit status 5\nminipod: exit status 7\n");
  EXPECT_EQ(s.status(), 7);
}

TEST(ConsoleScanner, FinishReadsAnUnterminatedLine) {
  ConsoleScanner s;
  s.Feed("minipod: exit status 9");
  EXPECT_EQ(s.status(), std::nullopt);
  s.Finish();
  EXPECT_EQ(s.status(), 9);
}

TEST(ConsoleScanner, LongLinesKeepTheirEnd) {
  ConsoleScanner s;
  s.Feed(std::string(100000, 'x'));
  s.Feed("minipod: exit status 4\n");
  EXPECT_EQ(s.status(), 4);
  ASSERT_EQ(s.Tail().size(), 1u);
  EXPECT_LE(s.Tail()[0].size(), ConsoleScanner::kMaxLine + 3);
}

TEST(ConsoleScanner, TailKeepsTheLastLines) {
  ConsoleScanner s;
  for (int i = 0; i < 50; ++i) s.Feed("line " + std::to_string(i) + "\n");
  s.Feed("partial");
  const std::vector<std::string> tail = s.Tail();
  ASSERT_EQ(tail.size(), ConsoleScanner::kTailLines);
  EXPECT_EQ(tail.front(), "line 31");
  EXPECT_EQ(tail.back(), "partial");
  EXPECT_FALSE(s.init_seen());
}

TEST(ConsoleScanner, NoOutput) {
  ConsoleScanner s;
  s.Finish();
  EXPECT_THAT(s.Tail(), IsEmpty());
  EXPECT_EQ(s.status(), std::nullopt);
}

QemuEnd Exited(int code) {
  QemuEnd e;
  e.exited = true;
  e.code = code;
  return e;
}

TEST(Decide, DeviceAndLineAgree) {
  EXPECT_EQ(Decide(Exited(1), 0, true).status, 0);
  EXPECT_EQ(Decide(Exited(7), 3, true).status, 3);
  // 137 and 9 share QEMU's 19: the line tells them apart.
  EXPECT_EQ(Decide(Exited(19), 137, true).status, 137);
  EXPECT_EQ(Decide(Exited(19), 9, true).status, 9);
  EXPECT_EQ(Decide(Exited(255), 255, true).status, 255);
  EXPECT_EQ(Decide(Exited(255), 127, true).status, 127);
  EXPECT_TRUE(Decide(Exited(19), 137, true).error.empty());
}

TEST(Decide, DeviceWinsOverALineThatDisagrees) {
  EXPECT_EQ(Decide(Exited(7), 5, true).status, 3);
}

TEST(Decide, LineWithoutTheDevice) {
  EXPECT_EQ(Decide(Exited(0), 4, true).status, 4);
  QemuEnd timed = Exited(0);
  timed.timed_out = true;
  EXPECT_EQ(Decide(timed, 2, true).status, 2);
}

TEST(Decide, DeviceWithoutALine) {
  const Outcome o = Decide(Exited(7), std::nullopt, false);
  EXPECT_EQ(o.status, 3);
  EXPECT_TRUE(o.error.empty());
}

TEST(Decide, NoStatus) {
  const Outcome never = Decide(Exited(0), std::nullopt, false);
  EXPECT_EQ(never.status, kExitVmFailed);
  EXPECT_THAT(never.error, HasSubstr("the kernel never started minipod-init"));
  const Outcome silent = Decide(Exited(0), std::nullopt, true);
  EXPECT_EQ(silent.error, "the guest ended without a status");
  // 1 is also QEMU's own failure.
  const Outcome one = Decide(Exited(1), std::nullopt, false);
  EXPECT_EQ(one.status, kExitVmFailed);
  EXPECT_THAT(one.error, HasSubstr("QEMU exited with status 1"));
  QemuEnd killed;
  killed.code = SIGKILL;
  EXPECT_THAT(Decide(killed, std::nullopt, false).error, HasSubstr("killed by SIGKILL"));
  EXPECT_EQ(Decide(Exited(2), std::nullopt, true).status, kExitVmFailed);
}

TEST(Decide, TimeoutAndInterruption) {
  QemuEnd e;
  e.code = SIGTERM;
  e.timed_out = true;
  e.timeout_text = "30s";
  const Outcome t = Decide(e, std::nullopt, true);
  EXPECT_EQ(t.status, kExitTimedOut);
  EXPECT_EQ(t.error, "timed out after 30s");
  QemuEnd i;
  i.code = SIGTERM;
  i.interrupted_by = SIGINT;
  const Outcome o = Decide(i, std::nullopt, true);
  EXPECT_EQ(o.status, 130);
  EXPECT_EQ(o.error, "stopped by SIGINT");
}

TEST(MemoryBytes, ParseMemorysValues) {
  EXPECT_EQ(MemoryBytes(*ParseMemory("512")), uint64_t{512} << 20);
  EXPECT_EQ(MemoryBytes(*ParseMemory("2g")), uint64_t{2} << 30);
  EXPECT_EQ(MemoryBytes(*ParseMemory("65536K")), uint64_t{64} << 20);
  EXPECT_EQ(MemoryBytes(*ParseMemory("1T")), uint64_t{1} << 40);
  EXPECT_EQ(MemoryBytes(""), 0u);
  EXPECT_EQ(MemoryBytes("12"), 0u);
  EXPECT_EQ(MemoryBytes("xM"), 0u);
}

}  // namespace
}  // namespace vm
