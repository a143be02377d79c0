// The uncompressed kernel inside an x86 bzImage, for QEMU's PVH entry:
// under TCG most of a bzImage boot is the kernel decompressing itself, and
// `qemu -kernel vmlinux` jumps straight to the ELF's XEN_ELFNOTE_PHYS32_ENTRY.
// Parsing and decompression are pure and bounds-checked (fuzzed); the cache
// runs in the minipod tool as the caller (open, openat, linkat, unlinkat).
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rootfs {

enum class PayloadCompression { kGzip, kXz, kZstd, kLzma, kBzip2, kLz4, kLzo, kUnknown };

// "gzip", "xz", ... for messages.
const char* PayloadCompressionName(PayloadCompression c);

// Where the compressed kernel sits in a bzImage, from its boot protocol
// header (Documentation/arch/x86/boot.rst): "HdrS" at 0x202, protocol
// version >= 2.08 (0x206), setup_sects at 0x1f1 (0 means 4), payload_offset
// (0x248) and payload_length (0x24c) relative to the protected-mode code at
// (setup_sects + 1) * 512. Every field is checked against the image's size.
struct BzImagePayload {
  size_t offset = 0;  // from the start of the file
  size_t length = 0;
  uint16_t protocol = 0;  // 0x020f for boot protocol 2.15
  PayloadCompression compression = PayloadCompression::kUnknown;
};
absl::StatusOr<BzImagePayload> ParseBzImage(absl::string_view image);

// The compression of a payload, by its magic bytes.
PayloadCompression DetectCompression(absl::string_view payload);

// Decompresses the first stream of payload (gzip, xz or zstd; the kernel's
// build appends the size and may pad, so bytes after the stream are
// ignored). More than limit bytes of output is an error (a decompression
// bomb); lzma, bzip2, lz4 and lzo are FAILED_PRECONDITION.
absl::StatusOr<std::string> DecompressPayload(absl::string_view payload, PayloadCompression compression,
                                              size_t limit);

// OK when elf is a little-endian x86-64 ELF64 file with a PT_NOTE segment
// holding a "Xen" note of type XEN_ELFNOTE_PHYS32_ENTRY (18) and a 4- or
// 8-byte entry address; FAILED_PRECONDITION otherwise.
absl::Status CheckPvhElf(absl::string_view elf);

// The PVH vmlinux of a bzImage held in memory: ParseBzImage, DecompressPayload
// (limit kMaxVmlinux), CheckPvhElf.
inline constexpr size_t kMaxVmlinux = size_t{512} << 20;
absl::StatusOr<std::string> ExtractPvhKernel(absl::string_view bzimage);

// The cache's file name for a kernel: its base name and a hash of its path
// and identity (device, inode, size, modification and change times to the
// nanosecond), so a replaced or touched kernel gets a new entry.
std::string PvhCacheName(absl::string_view kernel_path, const struct stat& st);

// $MINIPOD_CACHE/kernels; for root /var/cache/minipod/kernels; else
// $XDG_CACHE_HOME/minipod/kernels or ~/.cache/minipod/kernels.
absl::StatusOr<std::string> KernelCacheDir();

// An uncompressed vmlinux with a PVH entry for the bzImage at `kernel`, extracted on first use
// and cached; FAILED_PRECONDITION when the kernel has no PVH entry (boot the bzImage instead).
// The cache directory is private (0700, the caller's, every component
// checked, opened without following a link at the end); the file is written
// unnamed (O_TMPFILE) and linked into place once complete, so concurrent
// callers and killed ones never expose half a kernel. Older entries for the
// same kernel path are removed.
absl::StatusOr<std::string> CachedPvhKernel(const std::string& kernel);

}  // namespace rootfs
