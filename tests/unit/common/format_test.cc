#include "common/format.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstdarg>
#include <cstdint>
#include <string>

namespace common {
namespace {

std::string VFmt(const char* fmt, va_list ap) {
  char buf[256];
  Formatter f(buf, sizeof buf);
  f.VPrintf(fmt, ap);
  return std::string(f.data(), f.size());
}

std::string Fmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Fmt(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = VFmt(fmt, ap);
  va_end(ap);
  return s;
}

// No format checking: for deliberately malformed formats.
std::string RawFmt(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = VFmt(fmt, ap);
  va_end(ap);
  return s;
}

TEST(FormatterTest, Conversions) {
  EXPECT_EQ(Fmt("%d %i %u", -42, 7, 3u), "-42 7 3");
  EXPECT_EQ(Fmt("%x %X %o", 255u, 255u, 8u), "ff FF 10");
  EXPECT_EQ(Fmt("%s|%c|%%", "str", 'z'), "str|z|%");
  EXPECT_EQ(Fmt("%ld %lld %zu", -5L, LLONG_MIN, size_t{12}), "-5 -9223372036854775808 12");
  EXPECT_EQ(Fmt("%llu", ULLONG_MAX), "18446744073709551615");
  EXPECT_EQ(Fmt("%d", INT_MIN), "-2147483648");
  EXPECT_EQ(RawFmt("%s", static_cast<const char*>(nullptr)), "(null)");
  EXPECT_EQ(Fmt("%p", reinterpret_cast<void*>(0x10)), "0x10");
}

TEST(FormatterTest, WidthPrecisionAndFlags) {
  EXPECT_EQ(Fmt("[%5d]", 42), "[   42]");
  EXPECT_EQ(Fmt("[%-5d]", 42), "[42   ]");
  EXPECT_EQ(Fmt("[%05d]", -42), "[-0042]");
  EXPECT_EQ(Fmt("[%-5s]", "ab"), "[ab   ]");
  EXPECT_EQ(Fmt("[%.2s]", "abcdef"), "[ab]");
  EXPECT_EQ(Fmt("[%.*s]", 3, "abcdef"), "[abc]");
  EXPECT_EQ(Fmt("[%*d]", 4, 1), "[   1]");
  EXPECT_EQ(Fmt("[%*d]", -4, 1), "[1   ]");
}

TEST(FormatterTest, TruncatesAndStaysTerminated) {
  char buf[8];
  Formatter f(buf, sizeof buf);
  f.Printf("%s", "0123456789");
  EXPECT_TRUE(f.truncated());
  EXPECT_EQ(f.size(), 7u);
  EXPECT_STREQ(buf, "0123456");
  f.Clear();
  EXPECT_FALSE(f.truncated());
  EXPECT_STREQ(buf, "");
}

TEST(FormatterTest, ZeroCapacityNeverWrites) {
  char guard = 'x';
  Formatter f(&guard, 0);
  f.Str("abc");
  EXPECT_EQ(guard, 'x');
  EXPECT_TRUE(f.truncated());
}

TEST(FormatterTest, UnknownConversionIsCopied) {
  EXPECT_EQ(RawFmt("a%"), "a%");
  EXPECT_EQ(RawFmt("%q!"), "%q!");
}

}  // namespace
}  // namespace common
