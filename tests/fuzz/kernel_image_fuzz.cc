// The bzImage header parser, the payload decompressors (with a small output
// cap) and the PVH note check, on the same bytes: as a bzImage, and as an
// ELF file.
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "rootfs/kernel_image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  (void)rootfs::CheckPvhElf(in);
  absl::StatusOr<rootfs::BzImagePayload> p = rootfs::ParseBzImage(in);
  if (p.ok()) {
    if (p->offset > size || p->length > size - p->offset) __builtin_trap();
    absl::StatusOr<std::string> elf =
        rootfs::DecompressPayload(in.substr(p->offset, p->length), p->compression, size_t{1} << 20);
    if (elf.ok()) {
      if (elf->size() > (size_t{1} << 20)) __builtin_trap();
      (void)rootfs::CheckPvhElf(*elf);
    }
  }
  // Raw payloads too: the decompressors on input that has no header.
  const rootfs::PayloadCompression c = rootfs::DetectCompression(in);
  (void)rootfs::DecompressPayload(in, c, size_t{1} << 20);
  return 0;
}
