// Writes a manifest as an OCI image layout (directory, or a tar of one):
// one uncompressed layer, its config, the image manifest and index.json
// with the tag "latest". Reproducible like the archive writers: the
// digests depend only on the content and SOURCE_DATE_EPOCH.
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "rootfs/manifest.h"
#include "rootfs/tree_writer.h"

namespace rootfs {

struct OciOptions {
  std::vector<std::string> entrypoint;  // empty: no Entrypoint in the config
  int64_t created = 0;                  // SOURCE_DATE_EPOCH
  bool as_tar = false;                  // OUT is a tar of the layout
  bool replace = false;
};

absl::StatusOr<TreeStats> WriteOci(const Manifest& manifest, absl::string_view out,
                                   const OciOptions& options);

// "sha256:<hex>" of a file's bytes.
absl::StatusOr<std::string> Sha256File(const std::string& path);

// An image's OCI platform: from the e_machine (and class and byte order)
// of its ELF files; mixed machines are an error; no ELF file at all: the
// host's.
struct Platform {
  std::string architecture;  // GOARCH names: amd64, arm64, 386, ...
  std::string variant;       // "v8" for arm64; "" where OCI has none
};
absl::StatusOr<Platform> ImagePlatform(const Manifest& manifest);

// The platform one ELF header (at least its first 20 bytes) is for.
absl::StatusOr<Platform> PlatformOfElf(absl::Span<const uint8_t> head, absl::string_view what);

}  // namespace rootfs
