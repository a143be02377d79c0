// libFuzzer target: ld.so.conf text, search-path strings and
// nsswitch.conf text, the configuration the closure resolver and --nss
// read besides ELF files.
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "rootfs/ld_paths.h"
#include "rootfs/nss.h"

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
  for (const std::string& source : rootfs::NsswitchSources(text)) {
    // A source becomes part of a file name: never a path.
    if (source.empty() || source.find('/') != std::string::npos) __builtin_trap();
  }
  return 0;
}
