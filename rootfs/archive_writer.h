// Writes a manifest as a cpio (newc, the initramfs format) or tar (pax)
// archive through libarchive, optionally compressed. The bytes depend only
// on the manifest and the file contents: entries sorted, owner 0:0, one
// mtime for all, inode numbers in entry order. Device nodes are written as
// entries, so no privileges are needed to build a bootable image.
#pragma once

#include <stdint.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rootfs/manifest.h"
#include "rootfs/tree_writer.h"

namespace rootfs {

enum class ArchiveFormat { kCpio, kTar };
enum class Compression { kNone, kGzip, kZstd, kXz };

struct ArchiveOptions {
  ArchiveFormat format = ArchiveFormat::kCpio;
  Compression compression = Compression::kNone;
  int64_t mtime = 0;  // SOURCE_DATE_EPOCH
  bool replace = false;
};

// Written to a temporary sibling and renamed over OUT, so a failure leaves
// no partial archive; an existing OUT is refused unless options.replace.
absl::StatusOr<TreeStats> WriteArchive(const Manifest& manifest, absl::string_view out,
                                       const ArchiveOptions& options);

// "none", "gzip", "zstd", "xz".
absl::StatusOr<Compression> ParseCompression(absl::string_view name);

}  // namespace rootfs
