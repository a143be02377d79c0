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
std::vector<absl::string_view> Fields(absl::string_view record) {
  std::vector<absl::string_view> f = absl::StrSplit(record, absl::MaxSplits(' ', 3));
  if (f.size() < 4) f.resize(4);
  return f;
}

// Prints one record. A line longer than the monitor's limit is several
// records (P ... P F): the timestamp goes before its first one only, so
// mid_line is kept per stream between calls.
void Print(absl::string_view record, const LogViewOptions& o, int out_fd, int err_fd, bool mid_line[2]) {
  const std::vector<absl::string_view> f = Fields(record);
  const int stream = f[1] == "stderr" ? 1 : 0;
  std::string text;
  if (o.timestamps && !mid_line[stream]) text = std::string(f[0]) + " ";
  text.append(f[3].data(), f[3].size());
  mid_line[stream] = f[2] == "P";
  if (!mid_line[stream]) text += "\n";
  Put(stream == 1 ? err_fd : out_fd, text);
}

}  // namespace

absl::Status ShowLogs(int log_fd, const LogViewOptions& o, int until_fd, int out_fd, int err_fd) {
  std::string pending;
  // --tail: the last lines, each the records it was written in; a line
  // still open (P records without their F) per stream.
  std::deque<std::vector<std::string>> tail;
  std::vector<std::string> open[2];
  bool mid_line[2] = {false, false};
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
          const std::vector<absl::string_view> f = Fields(line);
          const int stream = f[1] == "stderr" ? 1 : 0;
          const bool partial = f[2] == "P";
          open[stream].push_back(std::move(line));
          if (partial) continue;
          tail.push_back(std::move(open[stream]));
          open[stream].clear();
          if (static_cast<int64_t>(tail.size()) > *o.tail) tail.pop_front();
        } else {
          Print(line, o, out_fd, err_fd, mid_line);
        }
      }
      pending.erase(0, start);
      continue;
    }
    if (first) {
      for (const auto& records : tail) {
        for (const std::string& r : records) Print(r, o, out_fd, err_fd, mid_line);
      }
      for (auto& records : open) {
        // The line being written: the newest one.
        if (!o.tail.has_value() || *o.tail > 0) {
          for (const std::string& r : records) Print(r, o, out_fd, err_fd, mid_line);
        }
        records.clear();
      }
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
