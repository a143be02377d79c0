#include "rootfs/staging.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"
#include "rootfs/tree_writer.h"

namespace rootfs {

absl::StatusOr<Staging> Staging::Create() {
  const char* tmp = ::getenv("TMPDIR");
  std::string templ = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/minipod-rootfs.XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) {
    return common::ErrnoStatus(errno, absl::StrCat("mkdtemp(", templ, ")"));
  }
  return Staging(std::move(templ));
}

Staging::Staging(Staging&& other) noexcept : dir_(std::move(other.dir_)), counter_(other.counter_) {
  other.dir_.clear();
}

Staging::~Staging() {
  if (!dir_.empty()) (void)RemoveTree(dir_);
}

std::string Staging::NewPath(absl::string_view hint) {
  std::string name(hint.substr(hint.rfind('/') == absl::string_view::npos ? 0 : hint.rfind('/') + 1));
  if (name.empty()) name = "file";
  return absl::StrCat(dir_, "/", counter_++, "-", name);
}

absl::StatusOr<std::string> Staging::WriteFile(absl::string_view hint, absl::string_view data, mode_t mode) {
  const std::string path = NewPath(hint);
  common::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("create(", path, ")"));
  while (!data.empty()) {
    const ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return common::ErrnoStatus(errno, absl::StrCat("write(", path, ")"));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  if (::fchmod(fd.get(), mode & 07777) != 0) return common::ErrnoStatus(errno, absl::StrCat("fchmod(", path, ")"));
  return path;
}

}  // namespace rootfs
