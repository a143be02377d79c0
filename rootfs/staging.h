// A private scratch directory for files an image holds that do not exist
// on the host as such: stripped copies, decompressed kernel modules,
// generated /etc files. The manifest points at them like at any host file;
// the directory and everything in it goes away with the Staging object.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rootfs {

class Staging {
 public:
  // Creates $TMPDIR/minipod-rootfs.XXXXXX (mode 0700).
  static absl::StatusOr<Staging> Create();
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
  explicit Staging(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  int counter_ = 0;
};

}  // namespace rootfs
