// The command lines of tini/docker-init, dumb-init, catatonit and
// Kubernetes' pause, parsed into Config. Pure; builds for musl and glibc.
#include <unistd.h>

#include "init/options.h"

namespace init {

ParseResult ParseTini(int argc, char** argv, char** envp, Config& config,
                      common::Formatter& out) {
  return ParseMinipod(argc, argv, envp, config, out);
}
ParseResult ParseDumbInit(int argc, char** argv, char** envp, Config& config,
                          common::Formatter& out) {
  return ParseMinipod(argc, argv, envp, config, out);
}
ParseResult ParseCatatonit(int argc, char** argv, char** envp, Config& config,
                           common::Formatter& out) {
  return ParseMinipod(argc, argv, envp, config, out);
}
ParseResult ParsePause(int argc, char** argv, char** envp, Config& config,
                       common::Formatter& out) {
  return ParseMinipod(argc, argv, envp, config, out);
}

}  // namespace init
