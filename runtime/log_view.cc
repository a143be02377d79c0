#include "runtime/log_view.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <deque>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/absl/status_util.h"

namespace runtime {
namespace {

void Put(int fd, absl::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// One record: "TIME STREAM TAG CONTENT".
void Print(absl::string_view line, const LogViewOptions& o, int out_fd, int err_fd) {
  std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(' ', 3));
  if (f.size() < 4) f.resize(4);
  const int fd = f[1] == "stderr" ? err_fd : out_fd;
  std::string text;
  if (o.timestamps) text = std::string(f[0]) + " ";
  text.append(f[3].data(), f[3].size());
  if (f[2] != "P") text += "\n";
  Put(fd, text);
}

}  // namespace

absl::Status ShowLogs(int log_fd, const LogViewOptions& o, int until_fd, int out_fd, int err_fd) {
  std::string pending;
  std::deque<std::string> tail;
  bool first = true;
  bool follow = o.follow && until_fd >= 0;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(log_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return common::ErrnoStatus(errno, "read(container log)");
    if (n > 0) {
      pending.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string line = pending.substr(start, nl - start);
        if (first && o.tail.has_value()) {
          tail.push_back(std::move(line));
          if (static_cast<int64_t>(tail.size()) > *o.tail) tail.pop_front();
        } else {
          Print(line, o, out_fd, err_fd);
        }
      }
      pending.erase(0, start);
      continue;
    }
    if (first) {
      for (const std::string& l : tail) Print(l, o, out_fd, err_fd);
      tail.clear();
      first = false;
    }
    if (!follow) return absl::OkStatus();
    // The monitor gone: read what is left, once more.
    struct pollfd p = {until_fd, POLLIN, 0};
    if (::poll(&p, 1, 200) > 0) follow = false;
  }
}

}  // namespace runtime
