// Reading a container's CRI log back for `minipod logs`.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/status.h"

namespace runtime {

struct LogViewOptions {
  bool follow = false;
  bool timestamps = false;
  std::optional<int64_t> tail;  // the last N lines
};

// Prints log_fd's records: stdout ones to out_fd, stderr ones to err_fd.
absl::Status ShowLogs(int log_fd, const LogViewOptions& options, int until_fd, int out_fd, int err_fd);

}  // namespace runtime
