// The whole of `minipod rootfs build` below option parsing: binaries and
// their closures, --add trees, NSS, the init skeleton, kernel modules,
// stripping, and the writer OUT's format calls for. `minipod rootfs build`,
// `run --bundle` (through bundle_cache.h) and `minipod image` call it.
// Runs in the minipod tool; needs no privilege except for device nodes in
// a directory output.
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rootfs/tree_writer.h"

namespace rootfs {

struct BuildConfig {
  std::string output;    // OUT; relative: against the working directory
  std::string format;    // "dir", "cpio", "tar", "oci"; empty: from OUT
  std::string compress;  // "none", "gzip", ...; empty: from OUT
  // A name with a slash is a path (relative ones against the working
  // directory); without one it is looked up in PATH.
  std::vector<std::string> binaries;
  std::vector<std::string> adds;         // --add SRC[:DST] as given
  std::string init_path;                 // the static init for --init; empty: none
  bool nss = false;
  std::vector<std::string> modules;      // --module NAME
  std::string kernel_release;            // --kernel-release
  std::string kernel_dir;                // --kernel-dir
  bool strip = false;
  bool allow_missing = false;
  bool force = false;
  // Host files at chosen image paths (`image build --with-minipod`:
  // /usr/bin/minipod), each with its loader closure at the host's paths.
  struct Placed {
    std::string source;
    std::string dest;
    mode_t mode = 0755;
    bool strip = false;  // a stripped copy even without --strip
  };
  std::vector<Placed> placed;
  // Files made for the image (/etc/minipod/argv). A `fallback` one is left
  // out when the image already has that path (from --add or --nss); any
  // other is an error then.
  struct Generated {
    std::string dest;
    std::string data;
    mode_t mode = 0644;
    bool fallback = false;
  };
  std::vector<Generated> generated;
  int64_t epoch = 0;                     // SOURCE_DATE_EPOCH
  // Warnings and notes as they come ("warning: ...", "note: ..."); may be empty.
  std::function<void(absl::string_view)> report;
};

struct BuildResult {
  TreeStats stats;
  size_t entries = 0;
};

absl::StatusOr<BuildResult> Build(const BuildConfig& config);

// path made absolute against the working directory, lexically (a symlink
// stays a symlink, so the image keeps it); absolute paths are returned as
// they are.
absl::StatusOr<std::string> AbsoluteFromCwd(const std::string& path);

}  // namespace rootfs
