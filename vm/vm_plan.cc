// `minipod vm` as data: option values, QEMU's argv, the kernel command line,
// the console's status line and the run's outcome. No syscalls.
#include "vm/vm_plan.h"

#include <signal.h>
#include <string.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace vm {
namespace {

bool CmdlineSafe(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f && c != '"' && c != '\\' && c != '\'' && c != ':';
}

// The kernel word (or word prefix) a user's --append holds that asks for
// boot messages, so `quiet` would contradict it.
bool WantsKernelMessages(absl::string_view append) {
  for (absl::string_view word : absl::StrSplit(append, ' ', absl::SkipEmpty())) {
    if (absl::StartsWith(word, "loglevel=") || word == "debug" || word == "ignore_loglevel" ||
        word == "earlyprintk" || absl::StartsWith(word, "earlyprintk=")) {
      return true;
    }
  }
  return false;
}

const char* SignalName(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    case SIGKILL: return "SIGKILL";
    case SIGQUIT: return "SIGQUIT";
    default: return nullptr;
  }
}

std::string DescribeSignal(int sig) {
  const char* name = SignalName(sig);
  return name != nullptr ? std::string(name) : absl::StrCat("signal ", sig);
}

// Escape sequences (ESC [ ... final, ESC c, ...) and control characters
// other than tab removed, so a tail printed to a terminal is only text.
std::string Printable(absl::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c == 0x1b) {
      if (i + 1 < line.size() && line[i + 1] == '[') {
        i += 2;
        while (i < line.size() && !(line[i] >= 0x40 && line[i] <= 0x7e)) ++i;
      } else if (i + 1 < line.size()) {
        ++i;
      }
      continue;
    }
    if (c < 0x20 && c != '\t') continue;
    if (c == 0x7f) continue;
    out.push_back(static_cast<char>(c));
  }
  return out;
}

}  // namespace

absl::StatusOr<Share> ParseShare(absl::string_view value) {
  Share share;
  absl::string_view rest = value;
  if (absl::EndsWith(rest, ":rw")) {
    share.writable = true;
    rest.remove_suffix(3);
  } else if (absl::EndsWith(rest, ":ro")) {
    rest.remove_suffix(3);
  }
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--share '", value, "': want HOSTDIR:GUESTDIR[:rw]"));
  }
  share.host_dir = std::string(rest.substr(0, colon));
  share.guest_dir = std::string(rest.substr(colon + 1));
  if (share.host_dir.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--share '", value, "': HOSTDIR is empty"));
  }
  if (share.host_dir.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--share '", value, "': HOSTDIR holds a NUL byte"));
  }
  if (share.guest_dir.empty() || share.guest_dir[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("--share '", value, "': GUESTDIR must be an absolute path"));
  }
  for (char c : share.guest_dir) {
    if (!CmdlineSafe(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--share '", value,
          "': GUESTDIR may not hold blanks, quotes, backslashes, ':' or control characters "
          "(it goes on the kernel command line)"));
    }
  }
  if (share.guest_dir.size() > 255) {
    return absl::InvalidArgumentError(absl::StrCat("--share '", value, "': GUESTDIR is too long"));
  }
  return share;
}

absl::StatusOr<std::string> ParseMemory(absl::string_view value) {
  absl::string_view digits = value;
  uint64_t scale_mib_num = 1, scale_mib_den = 1;  // the unit, in MiB
  char suffix = 'M';
  if (!digits.empty() && !absl::ascii_isdigit(static_cast<unsigned char>(digits.back()))) {
    suffix = absl::ascii_toupper(static_cast<unsigned char>(digits.back()));
    digits.remove_suffix(1);
    switch (suffix) {
      case 'K': scale_mib_den = 1024; break;
      case 'M': break;
      case 'G': scale_mib_num = 1024; break;
      case 'T': scale_mib_num = 1024 * 1024; break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("--memory '", value, "': want a size such as 512M or 2G"));
    }
  }
  uint64_t n = 0;
  if (digits.empty() || digits.size() > 12 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(digits, &n)) {
    return absl::InvalidArgumentError(absl::StrCat("--memory '", value, "': want a size such as 512M or 2G"));
  }
  const uint64_t mib = n * scale_mib_num / scale_mib_den;
  if (mib < 16 || mib > 1024 * 1024) {
    return absl::InvalidArgumentError(absl::StrCat("--memory '", value, "': out of range (16M to 1T)"));
  }
  return absl::StrCat(n, std::string(1, suffix));
}

uint64_t MemoryBytes(absl::string_view qemu_value) {
  if (qemu_value.empty()) return 0;
  int shift = 20;
  switch (qemu_value.back()) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    default: return 0;
  }
  uint64_t n = 0;
  if (!absl::SimpleAtoi(qemu_value.substr(0, qemu_value.size() - 1), &n) || n > (uint64_t{1} << 40)) return 0;
  return n << shift;
}

absl::StatusOr<int> ParseCpus(absl::string_view value) {
  int n = 0;
  if (value.empty() || value.size() > 3 ||
      !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(value, &n) || n < 1 || n > 64) {
    return absl::InvalidArgumentError(absl::StrCat("--cpus '", value, "': want a number from 1 to 64"));
  }
  return n;
}

std::string QemuOptionValue(absl::string_view value) {
  return absl::StrReplaceAll(value, {{",", ",,"}});
}

std::string KernelCmdline(const QemuPlan& plan) {
  // cryptomgr.notests: the crypto self-tests are a third of a second of
  // boot under TCG; a later cryptomgr.notests=0 in --append runs them.
  std::string cmdline = "console=ttyS0 panic=-1 cryptomgr.notests";
  // Under TCG on a busy host the emulated IO-APIC timer can tick too
  // slowly for the kernel's boot-time check, which then panics before the
  // init runs; KVM keeps real time.
  if (!plan.kvm) absl::StrAppend(&cmdline, " no_timer_check");
  if (!WantsKernelMessages(plan.user_append)) absl::StrAppend(&cmdline, " quiet");
  if (plan.host_root) absl::StrAppend(&cmdline, " minipod.root=", kHostRootTag);
  for (size_t i = 0; i < plan.shares.size(); ++i) {
    const Share& s = plan.shares[i];
    absl::StrAppend(&cmdline, " minipod.share=share", i, ":", s.guest_dir, s.writable ? ":rw" : "");
  }
  if (!plan.user_append.empty()) absl::StrAppend(&cmdline, " ", plan.user_append);
  return cmdline;
}

std::vector<std::string> QemuArgv(const QemuPlan& plan) {
  // -display none, not -nographic: with -nographic QEMU has the firmware
  // write to the serial port too, and its escape codes and boot lines would
  // come before the guest's first line.
  std::vector<std::string> argv = {plan.qemu, "-nodefaults", "-display", "none", "-no-reboot",
                                   "-m", plan.memory, "-smp", absl::StrCat(plan.cpus)};
  if (plan.kvm) {
    argv.insert(argv.end(), {"-accel", "kvm", "-cpu", "host"});
  } else {
    argv.insert(argv.end(), {"-accel", "tcg", "-cpu", "max"});
  }
  argv.insert(argv.end(), {"-kernel", plan.kernel, "-initrd", plan.initrd,
                           "-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
                           "-device", absl::StrCat("isa-debug-exit,iobase=0x", absl::Hex(kDebugExitPort),
                                                   ",iosize=0x04")});
  // multidevs=remap: a tree that spans file systems (the host's / above all)
  // keeps distinct inode numbers in the guest.
  if (plan.host_root) {
    argv.insert(argv.end(), {"-virtfs", absl::StrCat("local,path=/,mount_tag=", kHostRootTag,
                                                     ",security_model=none,readonly=on,multidevs=remap")});
  }
  for (size_t i = 0; i < plan.shares.size(); ++i) {
    const Share& s = plan.shares[i];
    argv.insert(argv.end(), {"-virtfs", absl::StrCat("local,path=", QemuOptionValue(s.host_dir),
                                                     ",mount_tag=share", i, ",security_model=none",
                                                     s.writable ? "" : ",readonly=on", ",multidevs=remap")});
  }
  argv.insert(argv.end(), {"-append", KernelCmdline(plan)});
  return argv;
}

std::optional<int> StatusFromLine(absl::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  const size_t at = line.rfind(kStatusLine);
  if (at == absl::string_view::npos) return std::nullopt;
  const absl::string_view digits = line.substr(at + kStatusLine.size());
  if (digits.empty() || digits.size() > 3) return std::nullopt;
  int n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n > 255) return std::nullopt;
  return n;
}

void ConsoleScanner::Feed(absl::string_view bytes) {
  while (!bytes.empty()) {
    const size_t nl = bytes.find('\n');
    const absl::string_view part = bytes.substr(0, nl);
    line_.append(part.data(), part.size());
    if (line_.size() > kMaxLine) {
      // Keep the end: a status line printed after a long run of output
      // without a newline (a prompt, escape codes) is still found.
      line_.erase(0, line_.size() - kMaxLine);
      line_cut_ = true;
    }
    if (nl == absl::string_view::npos) return;
    EndLine();
    bytes.remove_prefix(nl + 1);
  }
}

void ConsoleScanner::Finish() {
  if (!line_.empty() || line_cut_) EndLine();
}

void ConsoleScanner::EndLine() {
  if (std::optional<int> s = StatusFromLine(line_); s.has_value()) status_ = s;
  if (absl::StrContains(line_, kInitPrefix)) init_seen_ = true;
  tail_.push_back(line_cut_ ? absl::StrCat("...", line_) : line_);
  if (tail_.size() > kTailLines) tail_.pop_front();
  line_.clear();
  line_cut_ = false;
}

std::vector<std::string> ConsoleScanner::Tail() const {
  std::vector<std::string> out;
  // The firmware resets and clears the screen without a newline, so what
  // comes next shares its line: a reset starts a line of the tail.
  auto add = [&out](const std::string& raw) {
    const std::string split = absl::StrReplaceAll(raw, {{"\x1b" "c", "\n"}, {"\x1b[2J", "\n"}});
    const std::vector<absl::string_view> pieces = absl::StrSplit(split, '\n');
    for (absl::string_view piece : pieces) {
      std::string line = Printable(piece);
      if (pieces.size() > 1 && absl::StripAsciiWhitespace(line).empty()) continue;
      out.push_back(std::move(line));
    }
  };
  for (const std::string& l : tail_) add(l);
  if (!line_.empty()) add(line_);
  // Blank lines at the end say nothing.
  while (!out.empty() && absl::StripAsciiWhitespace(out.back()).empty()) out.pop_back();
  if (out.size() > kTailLines) out.erase(out.begin(), out.end() - kTailLines);
  return out;
}

Outcome Decide(const QemuEnd& end, std::optional<int> line_status, bool init_seen) {
  const bool device = end.exited && (end.code & 1) != 0;
  const int device_status = device ? (end.code - 1) / 2 : -1;
  if (line_status.has_value()) {
    if (device && *line_status % 128 != device_status) return Outcome{device_status, ""};
    return Outcome{*line_status, ""};
  }
  if (end.timed_out) {
    return Outcome{kExitTimedOut, absl::StrCat("timed out after ", end.timeout_text)};
  }
  if (end.interrupted_by != 0) {
    return Outcome{128 + end.interrupted_by, absl::StrCat("stopped by ", DescribeSignal(end.interrupted_by))};
  }
  if (device && end.code != 1) return Outcome{device_status, ""};
  if (!end.exited) {
    return Outcome{kExitVmFailed, absl::StrCat("QEMU was killed by ", DescribeSignal(end.code),
                                               " before the guest reported a status")};
  }
  if (end.code == 0) {
    return Outcome{kExitVmFailed, init_seen ? "the guest ended without a status"
                                            : "the guest ended without a status: the kernel never "
                                              "started minipod-init"};
  }
  return Outcome{kExitVmFailed,
                 absl::StrCat("QEMU exited with status ", end.code, " before the guest reported a status")};
}

}  // namespace vm
