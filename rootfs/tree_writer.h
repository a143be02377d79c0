// Writes a manifest as a directory tree. The tree is built in a temporary
// sibling of the output and renamed into place, so OUT is either the old
// tree or the complete new one, never something in between.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rootfs/manifest.h"

namespace rootfs {

struct TreeStats {
  size_t files = 0;
  size_t bytes = 0;  // bytes of regular files copied
};

// An existing OUT is an error unless replace is set; then it is swapped
// out atomically (renameat2 RENAME_EXCHANGE) and removed. Device nodes
// need CAP_MKNOD (run as root; archives need no privileges).
absl::StatusOr<TreeStats> WriteTree(const Manifest& manifest, absl::string_view out, bool replace);

// rm -rf that never follows symlinks and stays on the starting filesystem.
absl::Status RemoveTree(const std::string& path);

}  // namespace rootfs
