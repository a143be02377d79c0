// minipod-init's long texts (usage, help, some tool messages), stored
// LZ-compressed (see pack_texts.py) and unpacked on first use. Pure;
// builds for musl and glibc.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/format.h"
#include "init/packed_texts.h"

namespace init {

// Decodes a packed stream into out[0..cap); returns the number of bytes
// written, or 0 if the stream is malformed or does not fit.
size_t UnpackTexts(const uint8_t* in, size_t len, char* out, size_t cap);

// The NUL-terminated text.
const char* GetText(Text text);

// Appends the text to out with its printf directives filled from the
// arguments. Not format-checked: callers pass what the text expects, and
// the unit tests pin each text's output.
void PrintText(common::Formatter& out, Text text, ...);

}  // namespace init
