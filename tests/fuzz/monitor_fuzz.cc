// Fuzzes minipod-monitor's parsers: its command line (words split at NUL),
// the attach frames a client sends, the control socket's first read,
// minipod-init's status line, a memory.events text and the state template
// with its markers. The first byte picks which; each result is checked
// against what the parser promises.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

#include "monitor/handover.h"
#include "monitor/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 256 * 1024) return 0;
  const uint8_t which = data[0] % 6;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (which) {
    case 0: {
      std::vector<std::string> words;
      size_t at = 0;
      for (;;) {
        const size_t nul = text.find('\0', at);
        words.push_back(text.substr(at, nul == std::string::npos ? std::string::npos : nul - at));
        if (nul == std::string::npos) break;
        at = nul + 1;
      }
      std::vector<const char*> argv;
      for (const std::string& w : words) argv.push_back(w.c_str());
      monitor::MonitorArgs a;
      if (monitor::ParseMonitorArgs(static_cast<int>(argv.size()), argv.data(), &a)) {
        if (a.cgroup_count > monitor::kMaxCgroupDirs || a.name == nullptr) __builtin_trap();
        for (int i = 0; i < a.cgroup_count; ++i) {
          if (a.cgroups[i][0] != '/') __builtin_trap();
        }
        if (a.oom_file != nullptr && a.oom_file[0] != '/') __builtin_trap();
      }
      break;
    }
    case 1: {
      const unsigned char* p = reinterpret_cast<const unsigned char*>(text.data());
      size_t at = 0;
      for (;;) {
        char type;
        const unsigned char* payload;
        uint32_t len;
        size_t frame;
        const monitor::FrameResult r = monitor::NextFrame(p + at, text.size() - at, &type, &payload, &len, &frame);
        if (r != monitor::kFrameOk) break;
        if (frame != 5 + static_cast<size_t>(len) || at + frame > text.size() || len > monitor::kAttachMaxPayload) {
          __builtin_trap();
        }
        unsigned short rows, cols;
        if (type == 'r' && !monitor::DecodeResize(payload, len, &rows, &cols)) __builtin_trap();
        at += frame;
      }
      break;
    }
    case 2: {
      size_t rest = 0;
      if (monitor::ClassifyRequest(text.data(), text.size(), &rest) == monitor::kRequestAttach && rest > text.size()) {
        __builtin_trap();
      }
      break;
    }
    case 3: {
      bool sig;
      int value;
      if (monitor::ParseInitStatus(text.data(), text.size(), &sig, &value) &&
          (sig ? (value < 1 || value >= 65) : (value < 0 || value > 255))) {
        __builtin_trap();
      }
      break;
    }
    case 4: {
      long long v;
      (void)monitor::KeyedValue(text.data(), text.size(), "oom_kill", &v);
      char line[64];
      monitor::DescribeOom(text.c_str(), static_cast<long long>(size), size % 2 == 0, line, sizeof line);
      if (strlen(line) >= sizeof line) __builtin_trap();
      break;
    }
    case 5: {
      std::vector<char> out(text.size() + 64);
      const long n = monitor::FillStateTemplate(text.data(), text.size(), "2026-12-05T13:00:00.000000000Z", -1, 9,
                                                true, out.data(), out.size());
      if (n > static_cast<long>(out.size())) __builtin_trap();
      break;
    }
  }
  return 0;
}
