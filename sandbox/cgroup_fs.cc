// cgroupfs text helpers and the one-write file write (see cgroup_fs.h).
// Parent side: open and write only.
#include "sandbox/cgroup_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl/status_util.h"
#include "common/sys.h"
#include "common/unique_fd.h"

namespace sandbox {

std::vector<std::string> Words(absl::string_view text) {
  return absl::StrSplit(text, absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
}

bool Contains(const std::vector<std::string>& v, absl::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

std::optional<int64_t> KeyedValue(absl::string_view text, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, absl::MaxSplits(' ', 1));
    int64_t v = 0;
    if (kv.first == key && absl::SimpleAtoi(kv.second, &v)) return v;
  }
  return std::nullopt;
}

int WriteCgroupFile(const std::string& path, absl::string_view value) {
  const common::SysResult fd = common::sys::Open(path.c_str(), O_WRONLY);
  if (!fd.ok()) return fd.err;
  common::UniqueFd owned(static_cast<int>(fd.value));
  for (;;) {
    const ssize_t n = ::write(owned.get(), value.data(), value.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    return static_cast<size_t>(n) == value.size() ? 0 : EIO;
  }
}

absl::Status CgroupErrno(int err, absl::string_view what) {
  if (err == EACCES || err == EPERM || err == EROFS) {
    return absl::PermissionDeniedError(absl::StrCat(what, ": ", strerror(err)));
  }
  return common::ErrnoStatus(err, what);
}

}  // namespace sandbox
