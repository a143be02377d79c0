// UniqueFd: move-only ownership of one file descriptor, closed on destruction.
// Header-only and libc-only, so init and the tools share it.
#pragma once

#include <unistd.h>

namespace common {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Hands the descriptor over; this object no longer owns it.
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // close(2) errors are ignored on purpose: the descriptor is gone either
  // way on Linux, and retrying on EINTR could close a reused number.
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace common
