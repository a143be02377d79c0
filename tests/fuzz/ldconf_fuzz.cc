// libFuzzer target: ld.so.conf text and search-path strings, the other
// outside input the closure resolver reads besides ELF files.
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "rootfs/ld_paths.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const rootfs::LdSoConfText conf = rootfs::ParseLdSoConfText(text, "/etc");
  for (const std::string& dir : conf.dirs) {
    if (dir.empty() || dir[0] != '/') __builtin_trap();  // only absolute directories
  }
  rootfs::LoaderTraits traits;
  traits.lib = "lib/x86_64-linux-gnu";
  traits.platform = "x86_64";
  for (const std::string& element : rootfs::SplitSearchPath(text)) {
    if (element.empty()) __builtin_trap();
    (void)rootfs::ExpandDst(element, "/origin", traits);
  }
  (void)rootfs::DirName(text);
  return 0;
}
