// Reading a list of pids (/proc/PID/task/TID/children: "12 345 6789 ") that
// arrives in pieces, one read(2) at a time. A number cut in two by a read
// boundary is carried to the next piece, never taken for two pids. Pure;
// builds for musl (the init) and glibc (the unit tests).
#pragma once

#include <stddef.h>

namespace init {

class PidScanner {
 public:
  // Feeds the next piece; on_pid(pid) runs for every number that ended in
  // it. A number still open at the end of the piece is kept for the next.
  template <typename OnPid>
  void Feed(const char* p, size_t n, OnPid&& on_pid) {
    for (size_t i = 0; i < n; ++i) {
      const char c = p[i];
      if (c >= '0' && c <= '9') {
        // A number longer than any pid is garbage: it saturates and is dropped.
        pid_ = pid_ > kMaxPid ? kOverflow : pid_ * 10 + (c - '0');
      } else {
        Flush(on_pid);
      }
    }
  }

  // The input ended: the last number, if any, is complete.
  template <typename OnPid>
  void Finish(OnPid&& on_pid) {
    Flush(on_pid);
  }

 private:
  // PID_MAX_LIMIT is 2^22 on 64-bit kernels.
  static constexpr long kMaxPid = 1L << 22;
  static constexpr long kOverflow = kMaxPid * 10 + 10;

  template <typename OnPid>
  void Flush(OnPid& on_pid) {
    if (pid_ > 0 && pid_ <= kMaxPid) on_pid(static_cast<int>(pid_));
    pid_ = 0;
  }

  long pid_ = 0;
};

}  // namespace init
