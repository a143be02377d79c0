// Command-line parsing for every personality: argv (and the environment
// variables each tool honours) -> Config. Help, version and error text is
// written to a caller-owned buffer, never printed here, so the unit tests see
// exactly what a user would. Pure; builds for musl and glibc.
#pragma once

#include "common/format.h"
#include "init/config.h"

namespace init {

inline constexpr const char* kVersion = "0.1.0";
inline constexpr int kExitUsage = 2;

struct ParseResult {
  bool run = true;    // false: exit with exit_code after printing the text
  int exit_code = 0;
  int out_fd = 2;     // where the text in the buffer belongs
};

// "tini", "docker-init" -> kTini, "dumb-init", "catatonit", "pause";
// anything else is minipod's own command line.
Personality PersonalityFromArgv0(const char* argv0);

// The value of name in a NULL-terminated environment, or nullptr.
const char* GetEnv(char** envp, const char* name);

// argv is permuted in place; Config::command points into it afterwards.
ParseResult ParseCommandLine(int argc, char** argv, char** envp, Config& config,
                             common::Formatter& out);

ParseResult ParseMinipod(int argc, char** argv, char** envp, Config& config,
                         common::Formatter& out);
ParseResult ParseTini(int argc, char** argv, char** envp, Config& config,
                      common::Formatter& out);
ParseResult ParseDumbInit(int argc, char** argv, char** envp, Config& config,
                          common::Formatter& out);
ParseResult ParseCatatonit(int argc, char** argv, char** envp, Config& config,
                           common::Formatter& out);
ParseResult ParsePause(int argc, char** argv, char** envp, Config& config,
                       common::Formatter& out);

}  // namespace init
