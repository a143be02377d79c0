// Fuzzes minipod-init's command-line parsing for every personality: the
// input is split on NUL bytes into argv (after a personality byte) and the
// environment, as the kernel would hand them over.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

#include "common/format.h"
#include "init/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 4096) return 0;
  static const char* const kNames[] = {"minipod-init", "/usr/bin/tini", "docker-init",
                                       "dumb-init", "catatonit", "pause"};
  const char* name = kNames[data[0] % 6];
  std::vector<std::string> args{name};
  std::vector<std::string> env;
  bool in_env = false;
  std::string cur;
  for (size_t i = 1; i < size; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == '\0' || c == '\n') {
      (in_env ? env : args).push_back(cur);
      cur.clear();
      if (c == '\n') in_env = true;  // the rest is the environment
      continue;
    }
    cur.push_back(c);
  }
  (in_env ? env : args).push_back(cur);

  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  init::Config config;
  char text[8192];
  common::Formatter out(text, sizeof text);
  const init::ParseResult r =
      init::ParseCommandLine(static_cast<int>(args.size()), argv.data(), envp.data(), config, out);
  // Invariants: the text stays inside its buffer; a command is a
  // NULL-terminated list of argv's own strings.
  if (strlen(text) != out.size()) __builtin_trap();
  if (r.run && config.command != nullptr) {
    size_t n = 0;
    for (char** c = config.command; *c != nullptr; ++c) {
      if (++n > args.size()) __builtin_trap();
    }
  }
  return 0;
}
