// A slow model of `minipod logs` without -f, for checking the real reader
// (runtime/log_reader.h) in unit tests and the fuzz target: the whole file
// in memory, every line parsed with ParseCriLine, lines grouped forwards,
// the last N picked by sorting. Test code only.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "runtime/cri_log.h"

namespace testing_util {

struct OracleOutput {
  std::string out;
  std::string err;
};

// What ShowLogs(file, tail, timestamps) prints; with same_fd everything
// goes to out, in order.
inline OracleOutput ShowLogsOracle(absl::string_view file, std::optional<uint64_t> tail, bool timestamps,
                                   bool same_fd = false) {
  struct Line {  // one line of the file
    absl::string_view text;
    std::optional<runtime::CriRecord> record;
    size_t logical = 0;  // the logical line it belongs to
  };
  std::vector<Line> lines;
  while (!file.empty()) {
    const size_t nl = file.find('\n');
    const absl::string_view text = file.substr(0, nl);
    lines.push_back(Line{text, runtime::ParseCriLine(text), 0});
    file.remove_prefix(nl == absl::string_view::npos ? file.size() : nl + 1);
  }
  // Logical lines: a record joins its stream's open line; F closes it.
  std::vector<size_t> end_of;  // per logical line: index of its last line
  std::optional<size_t> open[2];
  for (size_t i = 0; i < lines.size(); ++i) {
    Line& l = lines[i];
    if (!l.record) {
      l.logical = end_of.size();
      end_of.push_back(i);
      continue;
    }
    const size_t s = static_cast<size_t>(l.record->stream);
    if (!open[s]) {
      open[s] = end_of.size();
      end_of.push_back(i);
    }
    l.logical = *open[s];
    end_of[l.logical] = i;
    if (!l.record->partial) open[s].reset();
  }
  std::vector<bool> shown(end_of.size(), true);
  if (tail) {
    std::vector<size_t> order(end_of.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return end_of[a] < end_of[b]; });
    const size_t keep = static_cast<size_t>(std::min<uint64_t>(*tail, order.size()));
    for (size_t i = 0; i + keep < order.size(); ++i) shown[order[i]] = false;
  }
  OracleOutput o;
  bool warned = false;
  bool mid[2] = {false, false};
  for (const Line& l : lines) {
    if (!shown[l.logical]) {
      if (l.record) mid[static_cast<size_t>(l.record->stream)] = l.record->partial;
      continue;
    }
    if (!l.record) {
      std::string& e = same_fd ? o.out : o.err;
      if (!warned) e += "warning: the log holds lines that are not CRI records; they are shown as they are\n";
      warned = true;
      e.append(l.text.data(), l.text.size());
      e += '\n';
      continue;
    }
    const size_t s = static_cast<size_t>(l.record->stream);
    std::string& d = (s == 1 && !same_fd) ? o.err : o.out;
    if (!mid[s] && timestamps) {
      d.append(l.record->timestamp.data(), l.record->timestamp.size());
      d += ' ';
    }
    d.append(l.record->content.data(), l.record->content.size());
    if (!l.record->partial) d += '\n';
    mid[s] = l.record->partial;
  }
  return o;
}

}  // namespace testing_util
