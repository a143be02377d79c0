// A private scratch directory for files an image holds that do not exist
// on the host as such: stripped copies, decompressed kernel modules,
// generated /etc files. The manifest points at them like at any host file;
// the directory and everything in it goes away with the Staging object.
// A process killed before that (SIGKILL) leaves it behind: each directory
// holds a lock file, flock()ed for its life, and Create() removes the
// directories of ours whose lock nobody holds any more.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rootfs {

class Staging {
 public:
  // Creates $TMPDIR/minipod-rootfs.XXXXXX (mode 0700), after removing the
  // ones a killed process of this user left there (SweepStale).
  static absl::StatusOr<Staging> Create();

  // Removes every directory minipod-rootfs.XXXXXX in tmp that is ours
  // (owner the effective uid, mode 0700, no link) and holds an unlocked
  // lock file; returns how many. One without a lock file (made before it
  // could have one) is left alone.
  static int SweepStale(const std::string& tmp);
  Staging(Staging&& other) noexcept;
  Staging& operator=(Staging&& other) = delete;
  Staging(const Staging&) = delete;
  ~Staging();

  // A fresh, unused path inside the directory; hint becomes part of the
  // name for readable errors ("3-libc.so.6").
  std::string NewPath(absl::string_view hint);

  // Writes data to a new staging file with mode and returns its path.
  absl::StatusOr<std::string> WriteFile(absl::string_view hint, absl::string_view data, mode_t mode);

  const std::string& dir() const { return dir_; }

 private:
  Staging(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}
  std::string dir_;
  int lock_fd_ = -1;  // the lock file, flock()ed while the directory is in use
  int counter_ = 0;
};

}  // namespace rootfs
