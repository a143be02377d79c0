// The parts of `minipod rootfs build` that do not look inside binaries:
// choosing the output format from OUT's suffix, --add SRC[:DST], copying
// host trees, and the skeleton an initramfs needs (--init).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rootfs/archive_writer.h"
#include "rootfs/manifest.h"

namespace rootfs {

struct OutputSpec {
  enum class Kind { kDir, kCpio, kTar, kOci };
  Kind kind = Kind::kDir;
  Compression compression = Compression::kNone;
  bool oci_tar = false;  // kOci written as a tar of the layout (OUT ends in .tar)
};

// The format follows OUT's suffix (.cpio, .cpio.gz, .tar.zst, .tgz, ...)
// unless format ("dir", "cpio", "tar", "oci"; empty: from the suffix) or
// compress (empty: from the suffix) say otherwise. A suffix that names
// another format than --format is an error, as is compressing a directory,
// except that --format oci with OUT ending in ".tar" is an OCI layout in a
// tar (what `skopeo inspect oci-archive:` and `podman load` read).
absl::StatusOr<OutputSpec> ChooseOutput(absl::string_view out, absl::string_view format,
                                        absl::string_view compress);

// "SRC" or "SRC:DST"; DST defaults to SRC's absolute path. The first ':'
// that is not escaped ends SRC: "\:" stands for a ':' and "\\" for a
// backslash (any other backslash is kept as it is).
struct AddSpec {
  std::string source;
  std::string dest;
};
absl::StatusOr<AddSpec> ParseAddSpec(absl::string_view spec);

// Copies the host file or tree at source to dest in the image: regular
// files, directories and symlinks (kept as links, not followed), in name
// order; anything else (sockets, devices) is an error naming it.
absl::Status AddHostTree(Manifest& manifest, const std::string& source, const std::string& dest);

// /init (the static init at init_path) and /sbin/init linking to it, /dev/console and
// /dev/null as device entries, and the empty /proc, /sys, /dev, /tmp
// (1777), /run and /root (0700) an initramfs needs.
absl::Status AddInitSkeleton(Manifest& manifest, const std::string& init_path);

}  // namespace rootfs
