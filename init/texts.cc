// Unpacking the texts of texts.h. Single-threaded use only (the init), or
// the unit tests, which unpack once before any use.
#include "init/texts.h"

#include <stdarg.h>

namespace init {

size_t UnpackTexts(const uint8_t* in, size_t len, char* out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < len;) {
    const uint8_t b = in[i++];
    if (b < 0x80) {
      if (o >= cap) return 0;
      out[o++] = static_cast<char>(b);
      continue;
    }
    size_t n = (b & 0x7fu) + 3;
    if (i >= len) return 0;
    size_t back = in[i++];
    if (back & 0x80u) {
      if (i >= len) return 0;
      back = ((back & 0x7fu) << 8) | in[i++];
    }
    ++back;
    if (back > o || n > cap - o) return 0;
    for (; n > 0; --n, ++o) out[o] = out[o - back];
  }
  return o;
}

const char* GetText(Text text) {
  // .bss: costs no file size.
  static char unpacked[kUnpackedTextsSize];
  static bool ready = false;
  if (!ready) {
    UnpackTexts(kPackedTexts, sizeof kPackedTexts, unpacked, sizeof unpacked);
    ready = true;
  }
  return unpacked + static_cast<uint16_t>(text);
}

void PrintText(common::Formatter& out, Text text, ...) {
  va_list ap;
  va_start(ap, text);
  out.VPrintf(GetText(text), ap);
  va_end(ap);
}

}  // namespace init
