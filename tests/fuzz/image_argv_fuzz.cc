// `image build --cmd` splitting and the /etc/minipod/argv bytes: whatever
// the splitter accepts quotes back to the same words, encodes within the
// limits or is refused, and what is encoded decodes to the same words.
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "rootfs/image_argv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<std::string>> words = rootfs::SplitCommand(in);
  if (words.ok()) {
    if (words->empty()) __builtin_trap();
    for (const std::string& w : *words) {
      if (w.find('\0') != std::string::npos) __builtin_trap();
    }
    // Quoting for `image inspect` splits back into the same words.
    absl::StatusOr<std::vector<std::string>> again = rootfs::SplitCommand(rootfs::QuoteCommand(*words));
    if (!again.ok() || *again != *words) __builtin_trap();
    absl::StatusOr<std::string> bytes = rootfs::EncodeArgv(*words);
    if (bytes.ok()) {
      if (bytes->size() > rootfs::kMaxArgvBytes) __builtin_trap();
      absl::StatusOr<std::vector<std::string>> back = rootfs::DecodeArgv(*bytes);
      if (!back.ok() || *back != *words) __builtin_trap();
    }
  }
  (void)rootfs::DecodeArgv(in);
  return 0;
}
