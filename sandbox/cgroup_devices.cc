// The device policy (see cgroup_devices.h): the rule table, its v1 lines,
// the BPF program assembled instruction by instruction (no libbpf), and the
// bpf(2) load and attach. Parent side only.
#include "sandbox/cgroup_devices.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/absl/status_util.h"
#include "common/sys.h"
#include "sandbox/cgroup_fs.h"

namespace sandbox {
namespace {

constexpr DeviceRule kDockerDefault[] = {
    {'c', kAnyDev, kAnyDev, kDevMknod},  // mknod of any node (opening it is what matters)
    {'b', kAnyDev, kAnyDev, kDevMknod},
    {'c', 1, 3, kDevAll},                // /dev/null
    {'c', 1, 5, kDevAll},                // /dev/zero
    {'c', 1, 7, kDevAll},                // /dev/full
    {'c', 1, 8, kDevAll},                // /dev/random
    {'c', 1, 9, kDevAll},                // /dev/urandom
    {'c', 5, 0, kDevAll},                // /dev/tty
    {'c', 5, 1, kDevAll},                // /dev/console
    {'c', 5, 2, kDevAll},                // /dev/ptmx
    {'c', 136, kAnyDev, kDevAll},        // /dev/pts/*
    {'c', 10, 200, kDevAll},             // /dev/net/tun
};

// struct bpf_insn, field by field (dst_reg and src_reg are bit fields).
struct bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  struct bpf_insn i {};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

long Bpf(int cmd, union bpf_attr* attr) { return ::syscall(SYS_bpf, cmd, attr, sizeof *attr); }

}  // namespace

std::span<const DeviceRule> DefaultDeviceRules() { return kDockerDefault; }

std::string DeviceRuleLine(const DeviceRule& rule) {
  const auto num = [](int64_t n) { return n == kAnyDev ? std::string("*") : absl::StrCat(n); };
  std::string access;
  if (rule.access & kDevRead) access += 'r';
  if (rule.access & kDevWrite) access += 'w';
  if (rule.access & kDevMknod) access += 'm';
  return absl::StrCat(std::string(1, rule.type), " ", num(rule.major), ":", num(rule.minor), " ", access);
}

bool DeviceAllowed(std::span<const DeviceRule> rules, char type, uint32_t major, uint32_t minor,
                   uint32_t access) {
  for (const DeviceRule& r : rules) {
    if (r.type != 'a' && r.type != type) continue;
    if ((access & ~r.access) != 0) continue;
    if (r.major != kAnyDev && r.major != major) continue;
    if (r.minor != kAnyDev && r.minor != minor) continue;
    return true;
  }
  return false;
}

std::vector<struct bpf_insn> DeviceProgram(std::span<const DeviceRule> rules) {
  // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; },
  // access_type = access << 16 | type. Registers: r2 type, r3 access,
  // r4 major, r5 minor; r1 (the context) is scratch once they are loaded.
  std::vector<struct bpf_insn> p = {
      Insn(BPF_LDX | BPF_MEM | BPF_W, 2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0),
      Insn(BPF_LDX | BPF_MEM | BPF_W, 4, 1, offsetof(struct bpf_cgroup_dev_ctx, major), 0),
      Insn(BPF_LDX | BPF_MEM | BPF_W, 5, 1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0),
      Insn(BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0),
      Insn(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff),
      Insn(BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16),
  };
  for (const DeviceRule& r : rules) {
    // One block per rule; each test jumps past the block ("next rule") on a
    // mismatch, so the jumps are patched once the block's length is known.
    std::vector<struct bpf_insn> block;
    std::vector<size_t> jumps;
    const auto jne = [&](uint8_t reg, int32_t imm) {
      jumps.push_back(block.size());
      block.push_back(Insn(BPF_JMP | BPF_JNE | BPF_K, reg, 0, 0, imm));
    };
    if (r.type != 'a') jne(2, r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
    if ((r.access & kDevAll) != kDevAll) {
      // Every requested bit must be in the rule: (access & ~allowed) == 0.
      block.push_back(Insn(BPF_ALU64 | BPF_MOV | BPF_X, 1, 3, 0, 0));
      block.push_back(Insn(BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, static_cast<int32_t>(~r.access & kDevAll)));
      jne(1, 0);
    }
    if (r.major != kAnyDev) jne(4, static_cast<int32_t>(r.major));
    if (r.minor != kAnyDev) jne(5, static_cast<int32_t>(r.minor));
    block.push_back(Insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1));
    block.push_back(Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    for (size_t j : jumps) block[j].off = static_cast<int16_t>(block.size() - j - 1);
    p.insert(p.end(), block.begin(), block.end());
  }
  p.push_back(Insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
  p.push_back(Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return p;
}

absl::StatusOr<common::UniqueFd> LoadDeviceProgram(std::span<const struct bpf_insn> program) {
  static constexpr char kLicense[] = "GPL";  // no helper is called; any string would do
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uint64_t>(program.data());
  attr.insn_cnt = static_cast<uint32_t>(program.size());
  attr.license = reinterpret_cast<uint64_t>(kLicense);
  long fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return common::UniqueFd(static_cast<int>(fd));
  int err = errno;
  std::string why;
  if (err == EINVAL || err == EACCES) {
    // Again with the verifier's log, for the message.
    std::array<char, 4096> log{};
    attr.log_level = 1;
    attr.log_buf = reinterpret_cast<uint64_t>(log.data());
    attr.log_size = static_cast<uint32_t>(log.size());
    fd = Bpf(BPF_PROG_LOAD, &attr);
    if (fd >= 0) return common::UniqueFd(static_cast<int>(fd));
    err = errno;
    log.back() = '\0';
    why = std::string(absl::StripTrailingAsciiWhitespace(log.data()));
  }
  absl::Status s = CgroupErrno(err, "bpf(BPF_PROG_LOAD, cgroup device program)");
  if (!why.empty()) s = absl::Status(s.code(), absl::StrCat(s.message(), "; verifier: ", why));
  return s;
}

absl::Status AttachDeviceProgram(int prog_fd, const std::string& dir) {
  // Not O_PATH: bpf(2) takes the cgroup from an ordinary open file.
  const common::SysResult cg = common::sys::Open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (!cg.ok()) return CgroupErrno(cg.err, absl::StrCat("open(", dir, ")"));
  common::UniqueFd cg_fd(static_cast<int>(cg.value));
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(cg_fd.get());
  attr.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attr) != 0) {
    return CgroupErrno(errno, absl::StrCat("bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, ", dir, ")"));
  }
  return absl::OkStatus();
}

}  // namespace sandbox
