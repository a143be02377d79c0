// Run(): the init's life after parsing, from blocking signals to the exit
// status. Runs in the init process.
#pragma once

#include "init/config.h"

namespace init {

// Returns the init's exit status.
int Run(const Config& config, char** envp);

}  // namespace init
