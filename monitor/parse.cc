// minipod-monitor's parsers and formatters (see parse.h).
#include "monitor/parse.h"

#include <stdio.h>
#include <string.h>

#include "monitor/handover.h"

namespace monitor {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

bool ParseUint(const char* text, size_t len, long long max, long long* out) {
  if (len == 0 || len > 18) return false;
  long long v = 0;
  for (size_t i = 0; i < len; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

bool ParseMonitorArgs(int argc, const char* const* argv, MonitorArgs* out) {
  // NAME FLAGS JANITOR_PID MEMORY OOM_FILE [CGROUP_DIR...]
  if (argc < 5 || argc - 5 > kMaxCgroupDirs + kMaxRelays) return false;
  for (int i = 0; i < argc; ++i) {
    if (argv[i] == nullptr || argv[i][0] == '\0' || strlen(argv[i]) > 4096) return false;
  }
  MonitorArgs a;
  a.name = argv[0];
  if (strcmp(argv[1], "-") != 0) {
    for (const char* f = argv[1]; *f != '\0'; ++f) {
      switch (*f) {
        case kFlagTty: a.tty = true; break;
        case kFlagAutoRemove: a.auto_remove = true; break;
        case kFlagInit: a.init = true; break;
        case kFlagOomV1: a.oom_v1 = true; break;
        case kFlagJoinUserns: a.join_userns = true; break;
        default: return false;
      }
    }
  }
  if (strcmp(argv[2], "-") != 0) {
    long long pid = 0;
    if (!ParseUint(argv[2], strlen(argv[2]), 0x3fffffff, &pid) || pid < 1) return false;
    a.janitor_pid = static_cast<int>(pid);
  }
  if (strcmp(argv[3], "-") != 0) a.memory = argv[3];
  if (strcmp(argv[4], "-") != 0) {
    if (argv[4][0] != '/') return false;
    a.oom_file = argv[4];
  }
  for (int i = 5; i < argc; ++i) {
    if (argv[i][0] == '/') {
      if (a.cgroup_count == kMaxCgroupDirs) return false;
      a.cgroups[a.cgroup_count++] = argv[i];
    } else {
      if (a.relay_count == kMaxRelays || !ParseRelaySpec(argv[i], &a.relays[a.relay_count])) return false;
      ++a.relay_count;
    }
  }
  *out = a;
  return true;
}

bool ParseRelaySpec(const char* word, RelaySpec* out) {
  RelaySpec r;
  const char* p = word;
  if (*p == 't') {
    r.tcp = true;
  } else if (*p == 'u') {
    r.tcp = false;
  } else {
    return false;
  }
  ++p;
  if (*p == '4') {
    r.family = 2;
  } else if (*p == '6') {
    r.family = 10;
  } else {
    return false;
  }
  ++p;
  if (*p == 'w') {
    r.wildcard = true;
    ++p;
  }
  if (*p++ != ':') return false;
  long long port = 0;
  if (!ParseUint(p, strlen(p), 65535, &port) || port == 0) return false;
  r.container_port = static_cast<uint16_t>(port);
  *out = r;
  return true;
}

FrameResult NextFrame(const unsigned char* buf, size_t len, char* type, const unsigned char** payload,
                      uint32_t* payload_len, size_t* frame_len) {
  if (len < 5) return kFrameNeedMore;
  const char t = static_cast<char>(buf[0]);
  const uint32_t n = (uint32_t{buf[1]} << 24) | (uint32_t{buf[2]} << 16) | (uint32_t{buf[3]} << 8) | buf[4];
  if ((t != 'd' && t != 'r') || n > kAttachMaxPayload || (t == 'r' && n != 4)) return kFrameBad;
  if (len - 5 < n) return kFrameNeedMore;
  *type = t;
  *payload = buf + 5;
  *payload_len = n;
  *frame_len = 5 + static_cast<size_t>(n);
  return kFrameOk;
}

bool DecodeResize(const unsigned char* p, uint32_t len, unsigned short* rows, unsigned short* cols) {
  if (len != 4) return false;
  *rows = static_cast<unsigned short>((p[0] << 8) | p[1]);
  *cols = static_cast<unsigned short>((p[2] << 8) | p[3]);
  return true;
}

Request ClassifyRequest(const char* text, size_t len, size_t* rest_offset) {
  if (len >= 7 && memcmp(text, "attach\n", 7) == 0) {
    *rest_offset = 7;
    return kRequestAttach;
  }
  size_t b = 0, e = len;
  while (b < e && IsSpace(text[b])) ++b;
  while (e > b && IsSpace(text[e - 1])) --e;
  if (e - b == 4 && memcmp(text + b, "wait", 4) == 0) return kRequestWait;
  return kRequestUnknown;
}

bool ParseInitStatus(const char* text, size_t len, bool* signaled, int* value) {
  if (len > 0 && text[len - 1] == '\n') --len;
  bool sig;
  size_t at;
  if (len >= 5 && memcmp(text, "exit ", 5) == 0) {
    sig = false;
    at = 5;
  } else if (len >= 7 && memcmp(text, "signal ", 7) == 0) {
    sig = true;
    at = 7;
  } else {
    return false;
  }
  long long n = 0;
  if (len - at > 3 || !ParseUint(text + at, len - at, 999, &n)) return false;
  if (sig ? (n < 1 || n >= 65) : n > 255) return false;  // NSIG is 65 on Linux
  *signaled = sig;
  *value = static_cast<int>(n);
  return true;
}

bool KeyedValue(const char* text, size_t len, const char* key, long long* value) {
  const size_t key_len = strlen(key);
  size_t at = 0;
  while (at < len) {
    const char* nl = static_cast<const char*>(memchr(text + at, '\n', len - at));
    const size_t end = nl != nullptr ? static_cast<size_t>(nl - text) : len;
    const size_t line_len = end - at;
    const char* line = text + at;
    const char* sp = static_cast<const char*>(memchr(line, ' ', line_len));
    if (sp != nullptr && static_cast<size_t>(sp - line) == key_len && memcmp(line, key, key_len) == 0) {
      // absl::SimpleAtoi: optional surrounding whitespace and sign.
      const char* v = sp + 1;
      size_t vl = line_len - key_len - 1;
      while (vl > 0 && IsSpace(*v)) ++v, --vl;
      while (vl > 0 && IsSpace(v[vl - 1])) --vl;
      bool neg = false;
      if (vl > 0 && (*v == '+' || *v == '-')) {
        neg = *v == '-';
        ++v, --vl;
      }
      long long n = 0;
      if (ParseUint(v, vl, 0x7fffffffffffffffLL / 10, &n)) {
        *value = neg ? -n : n;
        return true;
      }
    }
    at = end + 1;
  }
  return false;
}

void DescribeOom(const char* memory, long long kills, bool command_killed, char* out, size_t size) {
  if (size == 0) return;
  if (command_killed) {
    if (kills > 1) {
      snprintf(out, size,
               "the command was killed by the kernel's OOM killer (--memory %s); %lld more of its processes were "
               "killed too",
               memory, kills - 1);
    } else {
      snprintf(out, size, "the command was killed by the kernel's OOM killer (--memory %s)", memory);
    }
  } else if (kills == 1) {
    snprintf(out, size, "1 of the command's processes was killed by the kernel's OOM killer (--memory %s)", memory);
  } else if (kills > 1) {
    snprintf(out, size, "%lld of the command's processes were killed by the kernel's OOM killer (--memory %s)",
             kills, memory);
  } else {
    snprintf(out, size, "the kernel's OOM killer acted in the command's cgroup (--memory %s)", memory);
  }
}

long FillStateTemplate(const char* tmpl, size_t len, const char* finished, int exit_code, int signal, bool oom,
                       char* out, size_t size) {
  size_t o = 0;
  for (size_t i = 0; i < len; ++i) {
    char piece[64];
    const char* add = piece;
    size_t add_len;
    if (tmpl[i] != kMarker) {
      if (o >= size) return -1;
      out[o++] = tmpl[i];
      continue;
    }
    if (i + 1 >= len) return -1;
    switch (tmpl[++i]) {
      case kMarkFinished:
        add_len = static_cast<size_t>(snprintf(piece, sizeof piece, "\"%s\"", finished));
        break;
      case kMarkExitCode:
        add_len = static_cast<size_t>(snprintf(piece, sizeof piece, "%d", exit_code));
        break;
      case kMarkSignal:
        add_len = static_cast<size_t>(snprintf(piece, sizeof piece, "%d", signal));
        break;
      case kMarkOom:
        add = oom ? "true" : "false";
        add_len = strlen(add);
        break;
      default:
        return -1;
    }
    if (add_len >= sizeof piece || size - o < add_len) return -1;
    memcpy(out + o, add, add_len);
    o += add_len;
  }
  return static_cast<long>(o);
}

}  // namespace monitor
