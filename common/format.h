// A bounded printf-style formatter into a caller-owned buffer: no heap, no
// stdio, no locale, so the static init can use it without musl's vfprintf.
// Shared by minipod-init (musl) and the minipod tools (glibc).
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

namespace common {

// The first c in s, or the terminating NUL's position when c == '\0';
// nullptr when c does not occur. last: the last occurrence instead.
inline const char* FindChar(const char* s, char c, bool last = false) {
  const char* found = nullptr;
  for (;; ++s) {
    if (*s == c) {
      found = s;
      if (!last || c == '\0') return found;
    }
    if (*s == '\0') return found;
  }
}

// Appends formatted text to buf[0..cap). Output that does not fit is dropped
// and truncated() turns true; the buffer is always NUL-terminated when cap > 0.
// Deliberately small (the static init pays for every byte): the conversions
// d i u x c s p %, a precision for %s ("%.*s", "%.3s"), and the length
// modifiers hh h l ll z j t. Flags and field widths are not supported; such
// a directive is copied through verbatim.
class Formatter {
 public:
  Formatter(char* buf, size_t cap) : buf_(buf), cap_(cap) { Terminate(); }

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
  void Number(uint64_t v, unsigned base) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdef"[v % base];
      v /= base;
    } while (v != 0);
    while (n > 0) Put(digits[--n]);
  }

  char* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool truncated_ = false;
};

inline void Formatter::VPrintf(const char* fmt, va_list ap) {
  while (*fmt != '\0') {
    if (*fmt != '%') {
      Put(*fmt++);
      continue;
    }
    const char* start = fmt++;
    long precision = -1;
    if (*fmt == '.') {
      ++fmt;
      if (*fmt == '*') {
        precision = va_arg(ap, int);
        ++fmt;
      } else {
        precision = 0;
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
      } else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't') {
        longs = 2;
      } else {
        break;
      }
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
        const int64_t v = longs == 0   ? va_arg(ap, int)
                          : longs == 1 ? va_arg(ap, long)
                                       : va_arg(ap, long long);
        if (v < 0) Put('-');
        Number(v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v), 10);
        break;
      }
      case 'u':
      case 'x':
        Number(longs == 0   ? va_arg(ap, unsigned)
               : longs == 1 ? va_arg(ap, unsigned long)
                            : va_arg(ap, unsigned long long),
               conv == 'u' ? 10 : 16);
        break;
      case 'p':
        Put('0');
        Put('x');
        Number(reinterpret_cast<uintptr_t>(va_arg(ap, void*)), 16);
        break;
      case 'c':
        Put(static_cast<char>(va_arg(ap, int)));
        break;
      case 's': {
        const char* s = va_arg(ap, const char*);
        if (s == nullptr) s = "(null)";
        for (long n = 0; s[n] != '\0' && (precision < 0 || n < precision); ++n) Put(s[n]);
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
