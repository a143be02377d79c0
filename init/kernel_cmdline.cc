// The kernel command line parser for boot mode (the rules are in
// kernel_cmdline.h). Every pass compacts text towards the start of the
// buffer, so a write never overtakes the read position.
#include "init/kernel_cmdline.h"

#include <string.h>

#include "common/duration.h"
#include "common/format.h"

namespace init {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Returns the rest of s after prefix, or nullptr.
char* After(char* s, const char* prefix) {
  const size_t n = strlen(prefix);
  return strncmp(s, prefix, n) == 0 ? s + n : nullptr;
}

// Splits value into words in place (level 2 of the quoting rule).
void SplitCommand(char* value, BootSpec& spec) {
  spec.argc = 0;
  char* in = value;
  char* out = value;
  for (;;) {
    while (IsSpace(*in)) ++in;
    if (*in == '\0') break;
    char* word = out;
    bool quoted = false;
    while (*in != '\0' && (quoted || !IsSpace(*in))) {
      if (*in == '\'') {
        quoted = !quoted;
        ++in;
      } else if (*in == '\\' && !quoted && in[1] != '\0') {
        *out++ = in[1];
        in += 2;
      } else {
        *out++ = *in++;
      }
    }
    // The terminator lands on a removed quote or on the separator, never
    // past the read position.
    const bool end = *in == '\0';
    *out++ = '\0';
    if (!end) ++in;
    if (spec.argc == BootSpec::kMaxArgs) {
      spec.error = "minipod.cmd: too many words";
    } else {
      spec.argv[spec.argc++] = word;
    }
    if (end) break;
  }
  spec.argv[spec.argc] = nullptr;
}

// TAG:DIR[:rw] (or :ro): the tag up to the first colon, DIR absolute.
void AddShare(char* value, BootSpec& spec) {
  char* colon = const_cast<char*>(common::FindChar(value, ':'));
  if (colon == nullptr || colon == value || colon[1] != '/') {
    spec.error = "minipod.share: expected TAG:/DIR[:rw]";
    return;
  }
  if (spec.sharec == BootSpec::kMaxShares) {
    spec.error = "minipod.share: too many";
    return;
  }
  *colon = '\0';
  char* dir = colon + 1;
  const size_t n = strlen(dir);
  Share& share = spec.shares[spec.sharec++];
  if (n > 3 && (strcmp(dir + n - 3, ":rw") == 0 || strcmp(dir + n - 3, ":ro") == 0)) {
    share.rw = dir[n - 1] == 'w';
    dir[n - 3] = '\0';
  }
  share.tag = value;
  share.dir = dir;
}

// The keys after "minipod.", in the order of Apply()'s switch.
enum Key { kCmd, kEnv, kWorkdir, kHostname, kShare, kRoot, kTermDelay, kWaitAll, kOther };
constexpr char kKeys[] = "cmd=\0env=\0workdir=\0hostname=\0share=\0root=\0term_delay=\0wait_all";

void Apply(char* param, BootSpec& spec) {
  char* v = After(param, "minipod.");
  if (v == nullptr) return;
  int key = 0;
  for (const char* k = kKeys; key < kOther; k += strlen(k) + 1, ++key) {
    if (char* rest = After(v, k)) {
      v = rest;
      break;
    }
  }
  switch (key) {
    case kCmd:
      SplitCommand(v, spec);
      break;
    case kEnv: {
      const char* eq = common::FindChar(v, '=');
      if (eq == nullptr || eq == v) {
        spec.error = "minipod.env: expected K=V";
      } else if (spec.envc == BootSpec::kMaxEnv) {
        spec.error = "minipod.env: too many entries";
      } else {
        spec.env[spec.envc++] = v;
        spec.env[spec.envc] = nullptr;
      }
      break;
    }
    case kWorkdir:
      spec.workdir = v;
      break;
    case kHostname:
      spec.hostname = v;
      break;
    case kShare:
      AddShare(v, spec);
      break;
    case kRoot:
      spec.root = *v != '\0' ? v : nullptr;
      break;
    case kTermDelay:
      spec.term_delay_ms = common::ParseDurationMs(v);
      if (spec.term_delay_ms < 0) {
        spec.error = "minipod.term_delay: expected a duration";
        spec.term_delay_ms = 0;
      }
      break;
    case kWaitAll:  // a flag, or =1 / =0
      if (*v == '\0' || strcmp(v, "=1") == 0) spec.wait_all = true;
      if (strcmp(v, "=0") == 0) spec.wait_all = false;
      break;
    default:
      break;
  }
}

}  // namespace

void ParseKernelCmdline(char* line, BootSpec& spec) {
  char* in = line;
  bool dashes = false;
  for (;;) {
    while (IsSpace(*in)) ++in;
    if (*in == '\0') return;
    // Level 1: one parameter, double quotes removed, compacted in place.
    char* param = in;
    char* out = in;
    bool quoted = false;
    while (*in != '\0' && (quoted || !IsSpace(*in))) {
      if (*in == '"') {
        quoted = !quoted;
        ++in;
      } else {
        *out++ = *in++;
      }
    }
    const bool end = *in == '\0';
    *out = '\0';
    if (!end) ++in;
    if (dashes) {
      ++spec.init_args;
    } else if (strcmp(param, "--") == 0) {
      dashes = true;
    } else {
      Apply(param, spec);
    }
    if (end) return;
  }
}

void ParseArgvFile(char* data, size_t len, BootSpec& spec) {
  spec.argc = 0;
  spec.argv[0] = nullptr;
  if (len == 0 || data[len - 1] != '\0') {
    spec.error = "/etc/minipod/argv: expected NUL-terminated words";
    return;
  }
  int n = 0;
  for (size_t i = 0; i < len; i += strlen(data + i) + 1) {
    if (n == BootSpec::kMaxArgs) {
      spec.error = "/etc/minipod/argv: too many words";
      spec.argv[0] = nullptr;
      return;
    }
    spec.argv[n++] = data + i;
  }
  spec.argc = n;
  spec.argv[n] = nullptr;
}

}  // namespace init
