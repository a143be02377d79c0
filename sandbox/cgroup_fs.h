// Small helpers the cgroup files share: reading cgroupfs texts (word lists,
// flat-keyed files such as memory.events) and writing a cgroupfs file in one
// write(2). Parent side only; open and write are the only syscalls here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sandbox {

// Space, tab or newline separated words (cgroup.controllers).
std::vector<std::string> Words(absl::string_view text);
bool Contains(const std::vector<std::string>& v, absl::string_view s);
// "/a/b" -> "/a"; "/a" and "a" -> "/".
std::string DirName(const std::string& path);

// "key N" from a flat-keyed cgroup file (memory.events,
// memory.oom_control); nullopt when the key is absent or not a number.
std::optional<int64_t> KeyedValue(absl::string_view text, absl::string_view key);

// Writes value to path in one write(2), as cgroupfs wants; errno or 0.
int WriteCgroupFile(const std::string& path, absl::string_view value);

// errno as a Status; EACCES, EPERM and EROFS become PermissionDenied
// (rootless and a read-only cgroupfs are one case for the caller).
absl::Status CgroupErrno(int err, absl::string_view what);

}  // namespace sandbox
