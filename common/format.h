// A bounded printf-style formatter into a caller-owned buffer: no heap, no
// stdio, no locale, so the static init can use it without musl's vfprintf.
// Shared by minipod-init (musl) and the minipod tools (glibc).
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

namespace common {

// Appends formatted text to buf[0..cap). Output that does not fit is dropped
// and truncated() turns true; the buffer is always NUL-terminated when cap > 0.
// Supports the conversions d i u x X o c s p %, the flags '-' and '0', a
// width and a precision (both may be '*'), and the length modifiers
// hh h l ll z j t. Anything else is copied through verbatim.
class Formatter {
 public:
  Formatter(char* buf, size_t cap) : buf_(buf), cap_(cap) { Terminate(); }

  void Append(const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i) Put(s[i]);
    Terminate();
  }
  void Str(const char* s) {
    if (s == nullptr) s = "(null)";
    while (*s != '\0') Put(*s++);
    Terminate();
  }
  void Printf(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    va_list ap;
    va_start(ap, fmt);
    VPrintf(fmt, ap);
    va_end(ap);
  }
  void VPrintf(const char* fmt, va_list ap);

  const char* data() const { return buf_; }
  size_t size() const { return len_; }
  bool truncated() const { return truncated_; }
  void Clear() {
    len_ = 0;
    truncated_ = false;
    Terminate();
  }

 private:
  void Put(char c) {
    // Keep one byte for the terminating NUL.
    if (len_ + 1 < cap_) {
      buf_[len_++] = c;
    } else {
      truncated_ = true;
    }
  }
  void Terminate() {
    if (cap_ > 0) buf_[len_ < cap_ ? len_ : cap_ - 1] = '\0';
  }
  void Pad(size_t n, char c) {
    while (n-- > 0) Put(c);
  }
  void Field(const char* s, size_t n, int width, bool left, char pad);
  void Number(uint64_t v, bool negative, unsigned base, bool upper, int width,
              bool left, bool zero);

  char* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool truncated_ = false;
};

inline void Formatter::Field(const char* s, size_t n, int width, bool left,
                             char pad) {
  const size_t w = width > 0 ? static_cast<size_t>(width) : 0;
  if (!left && w > n) Pad(w - n, pad);
  for (size_t i = 0; i < n; ++i) Put(s[i]);
  if (left && w > n) Pad(w - n, ' ');
}

inline void Formatter::Number(uint64_t v, bool negative, unsigned base,
                              bool upper, int width, bool left, bool zero) {
  char digits[24];
  size_t n = 0;
  const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    digits[n++] = set[v % base];
    v /= base;
  } while (v != 0);
  char out[26];
  size_t len = 0;
  if (negative) out[len++] = '-';
  while (n > 0) out[len++] = digits[--n];
  if (zero && !left && negative) {
    // Sign first, then the zero padding: "-007".
    Put('-');
    Field(out + 1, len - 1, width - 1, false, '0');
    return;
  }
  Field(out, len, width, left, zero && !left ? '0' : ' ');
}

inline void Formatter::VPrintf(const char* fmt, va_list ap) {
  while (*fmt != '\0') {
    if (*fmt != '%') {
      Put(*fmt++);
      continue;
    }
    const char* start = fmt++;
    bool left = false;
    bool zero = false;
    for (;; ++fmt) {
      if (*fmt == '-') {
        left = true;
      } else if (*fmt == '0') {
        zero = true;
      } else {
        break;
      }
    }
    int width = 0;
    if (*fmt == '*') {
      width = va_arg(ap, int);
      if (width < 0) {
        left = true;
        width = -width;
      }
      ++fmt;
    } else {
      while (*fmt >= '0' && *fmt <= '9' && width < 100000) {
        width = width * 10 + (*fmt++ - '0');
      }
    }
    int precision = -1;
    if (*fmt == '.') {
      ++fmt;
      precision = 0;
      if (*fmt == '*') {
        precision = va_arg(ap, int);
        ++fmt;
      } else {
        while (*fmt >= '0' && *fmt <= '9' && precision < 100000) {
          precision = precision * 10 + (*fmt++ - '0');
        }
      }
    }
    int longs = 0;  // 0 int, 1 long, 2 long long / intmax / size
    for (;; ++fmt) {
      if (*fmt == 'h') continue;  // promoted to int anyway
      if (*fmt == 'l') {
        ++longs;
        continue;
      }
      if (*fmt == 'z' || *fmt == 'j' || *fmt == 't') {
        longs = 2;
        continue;
      }
      break;
    }
    const char conv = *fmt;
    if (conv == '\0') {
      while (*start != '\0') Put(*start++);
      break;
    }
    ++fmt;
    switch (conv) {
      case 'd':
      case 'i': {
        int64_t v = longs == 0   ? va_arg(ap, int)
                    : longs == 1 ? va_arg(ap, long)
                                 : va_arg(ap, long long);
        const bool neg = v < 0;
        const uint64_t mag =
            neg ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
        Number(mag, neg, 10, false, width, left, zero);
        break;
      }
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        uint64_t v = longs == 0   ? va_arg(ap, unsigned)
                     : longs == 1 ? va_arg(ap, unsigned long)
                                  : va_arg(ap, unsigned long long);
        const unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
        Number(v, false, base, conv == 'X', width, left, zero);
        break;
      }
      case 'p': {
        const auto v = reinterpret_cast<uintptr_t>(va_arg(ap, void*));
        Put('0');
        Put('x');
        Number(v, false, 16, false, 0, false, false);
        break;
      }
      case 'c': {
        const char c = static_cast<char>(va_arg(ap, int));
        Field(&c, 1, width, left, ' ');
        break;
      }
      case 's': {
        const char* s = va_arg(ap, const char*);
        if (s == nullptr) s = "(null)";
        size_t n = 0;
        while (s[n] != '\0' && (precision < 0 || n < static_cast<size_t>(precision))) ++n;
        Field(s, n, width, left, ' ');
        break;
      }
      case '%':
        Put('%');
        break;
      default:
        while (start != fmt) Put(*start++);
        break;
    }
  }
  Terminate();
}

}  // namespace common
