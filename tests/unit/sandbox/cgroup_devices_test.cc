// Unit tests of the device policy (cgroup_devices.h): its v1 lines, its
// decisions, and its BPF program run by a small interpreter here over every
// combination that matters; loaded by the kernel's verifier when run as root.
#include "sandbox/cgroup_devices.h"

#include <errno.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sandbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DeviceRules, DockerDefaultAsDevicesAllowLines) {
  std::vector<std::string> lines;
  for (const DeviceRule& r : DefaultDeviceRules()) lines.push_back(DeviceRuleLine(r));
  EXPECT_THAT(lines, ElementsAre("c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
                                 "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",
                                 "c 10:200 rwm"));
  EXPECT_EQ(DeviceRuleLine({'a', kAnyDev, 7, kDevRead | kDevWrite}), "a *:7 rw");
}

TEST(DeviceRules, DecisionsOfTheDefault) {
  const auto allowed = [](char type, uint32_t major, uint32_t minor, uint32_t access) {
    return DeviceAllowed(DefaultDeviceRules(), type, major, minor, access);
  };
  EXPECT_TRUE(allowed('c', 1, 3, kDevRead | kDevWrite));  // /dev/null
  EXPECT_TRUE(allowed('c', 1, 9, kDevRead));              // /dev/urandom
  EXPECT_TRUE(allowed('c', 136, 7, kDevAll));             // /dev/pts/7
  EXPECT_TRUE(allowed('c', 10, 200, kDevRead | kDevWrite));
  EXPECT_TRUE(allowed('c', 5, 2, kDevRead | kDevWrite));
  EXPECT_TRUE(allowed('c', 1, 11, kDevMknod)) << "mknod of anything, as Docker";
  EXPECT_TRUE(allowed('b', 8, 0, kDevMknod));
  EXPECT_FALSE(allowed('c', 1, 11, kDevWrite));  // /dev/kmsg
  EXPECT_FALSE(allowed('c', 1, 1, kDevRead));    // /dev/mem
  EXPECT_FALSE(allowed('c', 1, 11, kDevMknod | kDevRead)) << "every bit from one rule";
  EXPECT_FALSE(allowed('b', 8, 0, kDevRead));    // /dev/sda
  EXPECT_FALSE(allowed('c', 10, 229, kDevRead)); // /dev/fuse
  EXPECT_FALSE(allowed('c', 4, 0, kDevWrite));   // /dev/tty0
  EXPECT_FALSE(allowed('b', 1, 3, kDevRead)) << "a block device with null's numbers";
}

// Runs a device program on one context, for the instructions DeviceProgram
// uses (anything else fails the test). -1 when the program is malformed:
// an unknown opcode, a jump out of range, falling off the end, too many
// steps.
int64_t RunDeviceProgram(const std::vector<struct bpf_insn>& prog, uint32_t type, uint32_t access,
                         uint32_t major, uint32_t minor) {
  const uint32_t ctx[3] = {access << 16 | type, major, minor};
  uint64_t r[11] = {};
  bool ctx_reg[11] = {};
  ctx_reg[1] = true;
  size_t pc = 0;
  for (int steps = 0; steps < 4096; ++steps) {
    if (pc >= prog.size()) return -1;
    const struct bpf_insn& i = prog[pc++];
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W:
        if (!ctx_reg[i.src_reg] || i.off < 0 || i.off % 4 != 0 || i.off / 4 >= 3) return -1;
        r[i.dst_reg] = ctx[i.off / 4];
        ctx_reg[i.dst_reg] = false;
        break;
      case BPF_ALU64 | BPF_MOV | BPF_X:
        r[i.dst_reg] = r[i.src_reg];
        ctx_reg[i.dst_reg] = ctx_reg[i.src_reg];
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        r[i.dst_reg] = static_cast<uint64_t>(static_cast<int64_t>(i.imm));
        ctx_reg[i.dst_reg] = false;
        break;
      case BPF_ALU64 | BPF_AND | BPF_K:
        r[i.dst_reg] &= static_cast<uint64_t>(static_cast<int64_t>(i.imm));
        break;
      case BPF_ALU64 | BPF_RSH | BPF_K:
        r[i.dst_reg] >>= i.imm;
        break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (r[i.dst_reg] != static_cast<uint64_t>(static_cast<int64_t>(i.imm))) {
          if (i.off < 0 || pc + i.off > prog.size()) return -1;
          pc += i.off;
        }
        break;
      case BPF_JMP | BPF_EXIT:
        return static_cast<int64_t>(r[0]);
      default:
        ADD_FAILURE() << "opcode " << int{i.code} << " at " << pc - 1;
        return -1;
    }
  }
  return -1;
}

// Every (type, major, minor, access) from a grid that covers each rule's
// numbers, their neighbours and the extremes: the program decides as
// DeviceAllowed does.
void ExpectProgramMatchesRules(std::span<const DeviceRule> rules) {
  const std::vector<struct bpf_insn> prog = DeviceProgram(rules);
  ASSERT_FALSE(prog.empty());
  std::vector<uint32_t> numbers = {0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 136, 137, 200, 229, 0x7fffffff, 0xffffffff};
  for (const DeviceRule& r : rules) {
    for (int64_t n : {r.major, r.minor}) {
      if (n != kAnyDev) numbers.push_back(static_cast<uint32_t>(n + 1));
    }
  }
  int checked = 0;
  for (const char type : {'b', 'c'}) {
    const uint32_t t = type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
    for (uint32_t major : numbers) {
      for (uint32_t minor : numbers) {
        for (uint32_t access = 1; access <= kDevAll; ++access) {
          const bool want = DeviceAllowed(rules, type, major, minor, access);
          ASSERT_EQ(RunDeviceProgram(prog, t, access, major, minor), want ? 1 : 0)
              << type << " " << major << ":" << minor << " access " << access;
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(DeviceProgram, DecidesAsTheRules) {
  ExpectProgramMatchesRules(DefaultDeviceRules());
  // Other shapes: 'a', partial access, a wildcard major with a fixed minor.
  const DeviceRule other[] = {
      {'a', kAnyDev, 7, kDevRead},
      {'b', 8, kAnyDev, kDevRead | kDevMknod},
      {'c', 4, 64, kDevWrite},
  };
  ExpectProgramMatchesRules(other);
  // No rules: everything denied.
  const std::vector<struct bpf_insn> none = DeviceProgram({});
  EXPECT_EQ(RunDeviceProgram(none, BPF_DEVCG_DEV_CHAR, kDevRead, 1, 3), 0);
}

// The kernel's verifier on this machine accepts the program (BPF_PROG_LOAD
// needs CAP_SYS_ADMIN or CAP_BPF; no cgroup2 is needed to load it).
TEST(DeviceProgram, TheVerifierAcceptsIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "BPF_PROG_LOAD needs root (CAP_SYS_ADMIN or CAP_BPF)";
  const std::vector<struct bpf_insn> prog = DeviceProgram(DefaultDeviceRules());
  absl::StatusOr<common::UniqueFd> fd = LoadDeviceProgram(prog);
  if (!fd.ok() && (absl::IsPermissionDenied(fd.status()) || absl::IsUnimplemented(fd.status()))) {
    GTEST_SKIP() << "bpf(2) unavailable here (a container without CAP_BPF, or no CONFIG_BPF_SYSCALL): "
                 << fd.status();
  }
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_GE(fd->get(), 0);
  // A program that falls off its end is refused, and the verifier says why.
  std::vector<struct bpf_insn> bad(prog.begin(), prog.end() - 1);
  absl::StatusOr<common::UniqueFd> refused = LoadDeviceProgram(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("BPF_PROG_LOAD"));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("verifier"));
}

}  // namespace
}  // namespace sandbox
