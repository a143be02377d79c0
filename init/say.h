// Messages in the voice of the active personality: minipod's
// "name[pid]: LEVEL: msg", tini's "[WARN  tini (pid)] msg", dumb-init's
// "[dumb-init] msg", and so on. One write(2) per line; errno preserved.
#pragma once

#include "common/format.h"
#include "common/log.h"
#include "init/config.h"
#include "init/texts.h"

namespace init {

// Sets the style, program name and verbosity used by Say().
void ConfigureSay(const Config& config);

// Level kError is always shown; the others follow Config::verbosity. The
// format is one of the packed texts (texts.txt), not format-checked: the
// tests pin what each message prints.
void Say(common::Level level, Text fmt, ...);

// strerror() for the errors an init meets, without libc's 2 KB table.
const char* ErrorText(int err);

}  // namespace init
