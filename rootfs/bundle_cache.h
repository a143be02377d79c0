// The cache of root file systems behind `minipod run --bundle`: one tree
// per set of host files, kept in a directory only the caller (or root) can
// write, checked on every use, and filled by rename so parallel runs share
// one tree. Runs in the minipod tool as the caller (open, mkdirat, fstat,
// flock, renameat2).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace rootfs {

// minipod's cache directory for the caller: $MINIPOD_CACHE; else, for root,
// /var/cache/minipod; else $XDG_CACHE_HOME/minipod, ~/.cache/minipod or
// $XDG_RUNTIME_DIR/minipod-cache. Never a shared, guessable path: with
// none of those set it is an error, naming `user` (the option or command
// that needs the cache), saying which variable to set.
absl::StatusOr<std::string> CacheDir(absl::string_view user);
inline absl::StatusOr<std::string> BundleCacheDir() { return CacheDir("--bundle"); }

// Opens (creating missing parts with mode 0700) the directory path so that
// nobody but the caller and root can have put anything on the way: every
// directory on it must be owned by the caller or root and must not be
// writable by group or others unless it is sticky (/tmp); the last one is
// owned by the caller (or root) and is made 0700. Returns a checked
// O_DIRECTORY fd.
absl::StatusOr<common::UniqueFd> OpenPrivateDir(const std::string& path);

// Removes the temporary trees (names holding ".tmp-") in the directory
// whose builder is gone: a build holds an flock on its tree until the
// rename (TreeOptions::lock_tmp), so one that can be locked was left by a
// killed process. Returns how many were removed.
absl::StatusOr<int> ReapStaleTemporaries(const std::string& dir);

// The root file system for --bundle BINs: resolved as `rootfs build` does,
// kept under a key made of every file's identity (path, device, inode,
// size, modification time), so a second run with unchanged files finds it
// without copying a byte. When another run builds the same bundle at the
// same time, the first rename wins and both use that tree.
absl::StatusOr<std::string> BundleRootfs(const std::vector<std::string>& bins);

}  // namespace rootfs
