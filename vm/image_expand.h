// The image decompressed on the host before QEMU loads it. Without KVM the
// guest kernel inflates an initramfs ten to twenty times slower than the
// host does (about 0.2 s of boot for a 1 MB gzip'd image), so `minipod vm`
// hands it the archive uncompressed whenever it safely can. Pure: bytes in,
// bytes out through a sink; fuzzed.
#pragma once

#include <stddef.h>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vm {

// Writes to sink, in pieces, image with every compressed stream replaced by
// what it decompresses to, each piece padded with zeros to a multiple of 4
// bytes (where the kernel looks for the next archive). Expanded only when
// image is one or more gzip, zstd or xz streams, each holding a newc cpio
// archive, with nothing but zero padding between and after them, and the
// output stays within limit bytes: then true. Anything else (an uncompressed
// or lz4 segment, an old-style initrd, a larger result) is false, and the
// image is to be used as it is: the sink may have been given a part of the
// output, which the caller drops. A stream that is corrupt or cut short is
// an error naming its offset, as is a failed sink.
absl::StatusOr<bool> ExpandImage(absl::string_view image, size_t limit,
                                 absl::FunctionRef<absl::Status(absl::string_view)> sink);

}  // namespace vm
