// Fuzzes what `minipod vm` reads from outside: the guest's serial console
// (fed in pieces of every size, the status line must never be out of range,
// the tail bounded and printable, and the same bytes in one piece must give
// the same answer), --share, --memory and --cpus values (a share that
// parses puts nothing on the kernel command line but its own word), kernel
// file names (release and version order), and images to expand (first byte
// 0xf0 and up: the output within its limit, whole archives, 4-aligned).
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "absl/strings/match.h"
#include "vm/image_expand.h"
#include "vm/kernel_choice.h"
#include "vm/vm_plan.h"

namespace {

void CheckTail(const vm::ConsoleScanner& s) {
  const auto tail = s.Tail();
  if (tail.size() > vm::ConsoleScanner::kTailLines) __builtin_trap();
  for (const std::string& line : tail) {
    if (line.size() > vm::ConsoleScanner::kMaxLine + 3) __builtin_trap();
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 8192) return 0;
  const uint8_t mode = data[0];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode >= 0xf0) {
    constexpr size_t kLimit = size_t{1} << 20;
    std::string out;
    const absl::StatusOr<bool> done = vm::ExpandImage(text, kLimit, [&](absl::string_view piece) {
      out.append(piece.data(), piece.size());
      return absl::OkStatus();
    });
    if (out.size() > kLimit) __builtin_trap();
    if (done.ok() && *done) {
      if (out.size() % 4 != 0 || (out.compare(0, 6, "070701") != 0 && out.compare(0, 6, "070702") != 0)) {
        __builtin_trap();
      }
    }
  } else if (mode % 3 == 0) {
    vm::ConsoleScanner pieces, whole;
    size_t step = mode / 3 + 1;
    for (size_t i = 0; i < text.size(); i += step, step = step % 97 + 1) {
      pieces.Feed(absl::string_view(text).substr(i, step));
    }
    whole.Feed(text);
    pieces.Finish();
    whole.Finish();
    if (pieces.status() != whole.status() || pieces.init_seen() != whole.init_seen()) __builtin_trap();
    if (pieces.status().has_value() && (*pieces.status() < 0 || *pieces.status() > 255)) __builtin_trap();
    if (pieces.Tail() != whole.Tail()) __builtin_trap();
    CheckTail(pieces);
    const auto line = vm::StatusFromLine(text);
    if (line.has_value() && (*line < 0 || *line > 255)) __builtin_trap();
  } else if (mode % 3 == 1) {
    const auto share = vm::ParseShare(text);
    if (share.ok()) {
      vm::QemuPlan plan;
      plan.shares = {*share};
      const std::string cmdline = vm::KernelCmdline(plan);
      // One word more than the defaults: the share's.
      const auto count_words = [](const std::string& line) {
        size_t n = 1;
        for (char c : line) n += c == ' ';
        return n;
      };
      if (count_words(cmdline) != count_words(vm::KernelCmdline(vm::QemuPlan{})) + 1 ||
          absl::StrContains(cmdline, "\"")) {
        __builtin_trap();
      }
      if (share->host_dir.empty() || share->guest_dir.empty() || share->guest_dir[0] != '/') __builtin_trap();
      const std::string v = vm::QemuOptionValue(share->host_dir);
      for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == ',' && (i + 1 >= v.size() || v[i + 1] != ',')) __builtin_trap();
        if (v[i] == ',') ++i;
      }
    }
    (void)vm::ParseMemory(text);
    (void)vm::ParseCpus(text);
  } else {
    const std::string r = vm::KernelReleaseFromPath(text);
    if (!r.empty() && (r == "." || r == ".." || r.find('/') != std::string::npos)) __builtin_trap();
    const size_t half = text.size() / 2;
    const std::string a = text.substr(0, half), b = text.substr(half);
    if (vm::VersionLess(a, b) && vm::VersionLess(b, a)) __builtin_trap();
    if (vm::VersionLess(a, a)) __builtin_trap();
  }
  return 0;
}
