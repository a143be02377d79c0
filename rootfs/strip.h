// --strip: every ELF file in the image is replaced by a stripped copy made
// with binutils' strip(1) in the staging directory; the host file is never
// touched. Executables and shared libraries lose everything not needed to
// run (--strip-unneeded); relocatable objects such as kernel modules keep
// their symbols and lose debug information only (--strip-debug).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rootfs/manifest.h"
#include "rootfs/staging.h"

namespace rootfs {

// Returns the number of files stripped. With `only`, just those image paths.
absl::StatusOr<size_t> StripElfFiles(Manifest& manifest, Staging& staging,
                                     const std::vector<std::string>& only = {});

}  // namespace rootfs
