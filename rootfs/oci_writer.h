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

// A JSON string literal, quotes included.
std::string JsonString(absl::string_view s);

}  // namespace rootfs
