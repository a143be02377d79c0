// minipod-init's entry point: argv -> Config -> Run(). Nothing else lives
// here, so the parsing and the loop stay testable.
#include <unistd.h>

#include "common/format.h"
#include "common/log.h"
#include "init/boot.h"
#include "init/options.h"
#include "init/runtime.h"

int main(int argc, char** argv, char** envp) {
  if (init::WantsBoot(argc, argv)) return init::Boot(argc, argv, envp);
  init::Config config;
  char text[8192];
  common::Formatter out(text, sizeof text);
  const init::ParseResult parsed = init::ParseCommandLine(argc, argv, envp, config, out);
  // Text may come with run=true too (dumb-init's debug notes).
  common::WriteAll(parsed.out_fd, out.data(), out.size());
  if (!parsed.run) return parsed.exit_code;
  return init::Run(config, envp);
}
