// The kernel command line parser for boot mode (the rules are in
// kernel_cmdline.h). Every pass compacts text towards the start of the
// buffer, so a write never overtakes the read position.
#include "init/kernel_cmdline.h"

#include <string.h>

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

void Apply(char* param, BootSpec& spec) {
  if (char* v = After(param, "minipod.cmd=")) {
    SplitCommand(v, spec);
  } else if (char* e = After(param, "minipod.env=")) {
    const char* eq = common::FindChar(e, '=');
    if (eq == nullptr || eq == e) {
      spec.error = "minipod.env: expected K=V";
    } else if (spec.envc == BootSpec::kMaxEnv) {
      spec.error = "minipod.env: too many entries";
    } else {
      spec.env[spec.envc++] = e;
      spec.env[spec.envc] = nullptr;
    }
  } else if (char* w = After(param, "minipod.workdir=")) {
    spec.workdir = w;
  } else if (char* h = After(param, "minipod.hostname=")) {
    spec.hostname = h;
  }
}

}  // namespace

void ParseKernelCmdline(char* line, BootSpec& spec) {
  char* in = line;
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
    if (strcmp(param, "--") == 0) return;
    Apply(param, spec);
    if (end) return;
  }
}

}  // namespace init
