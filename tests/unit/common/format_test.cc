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
  EXPECT_EQ(Fmt("%x %hhd %hd", 255u, 1, 2), "ff 1 2");
  EXPECT_EQ(Fmt("%s|%c|%%", "str", 'z'), "str|z|%");
  EXPECT_EQ(Fmt("%ld %lld %zu", -5L, LLONG_MIN, size_t{12}), "-5 -9223372036854775808 12");
  EXPECT_EQ(Fmt("%llu %lx", ULLONG_MAX, 0xabcUL), "18446744073709551615 abc");
  EXPECT_EQ(Fmt("%d %d", INT_MIN, 0), "-2147483648 0");
  EXPECT_EQ(RawFmt("%s", static_cast<const char*>(nullptr)), "(null)");
  EXPECT_EQ(Fmt("%p", reinterpret_cast<void*>(0x10)), "0x10");
}

TEST(FormatterTest, StringPrecision) {
  EXPECT_EQ(Fmt("[%.2s]", "abcdef"), "[ab]");
  EXPECT_EQ(Fmt("[%.*s]", 3, "abcdef"), "[abc]");
  EXPECT_EQ(Fmt("[%.*s]", 10, "ab"), "[ab]");
  EXPECT_EQ(Fmt("[%.0s]", "ab"), "[]");
}

TEST(FormatterTest, WidthsAndFlagsAreCopiedVerbatim) {
  EXPECT_EQ(RawFmt("[%5d]", 42), "[%5d]");
  EXPECT_EQ(RawFmt("[%-s]", "a"), "[%-s]");
}

TEST(FormatterTest, TruncatesAndStaysTerminated) {
  char buf[8];
  Formatter f(buf, sizeof buf);
  f.Printf("%s", "0123456789");
  EXPECT_TRUE(f.truncated());
  EXPECT_EQ(f.size(), 7u);
  EXPECT_STREQ(buf, "0123456");
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
