#include "init/texts.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace init {
namespace {

TEST(TextsTest, EveryTextUnpacksToTheSourceFile) {
  // The source of truth, as pack_texts.py reads it (path from meson).
  const char* path = getenv("MINIPOD_TEXTS_TXT");
  ASSERT_NE(path, nullptr);
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string src = ss.str();
  EXPECT_NE(src.find(std::string("@@ MinipodUsage\n") + GetText(Text::kMinipodUsage)),
            std::string::npos);
  EXPECT_NE(src.find(std::string("@@ TiniNotReaper\n") + GetText(Text::kTiniNotReaper)),
            std::string::npos);
  EXPECT_NE(src.find(std::string("@@ License\n") + GetText(Text::kLicense)), std::string::npos);
  EXPECT_EQ(std::string(GetText(Text::kCatatonitUsage)),
            "usage: catatonit [-ghLPV] [--] <progname> [<arguments>...]\n");
}

TEST(TextsTest, UnpacksTheWholeBlob) {
  std::vector<char> out(kUnpackedTextsSize);
  EXPECT_EQ(UnpackTexts(kPackedTexts, sizeof kPackedTexts, out.data(), out.size()),
            size_t{kUnpackedTextsSize});
  EXPECT_LT(sizeof kPackedTexts, size_t{kUnpackedTextsSize});  // it does compress
}

TEST(TextsTest, RejectsMalformedStreams) {
  char out[16];
  const uint8_t back_too_far[] = {'a', 0x80, 5};
  EXPECT_EQ(UnpackTexts(back_too_far, sizeof back_too_far, out, sizeof out), 0u);
  const uint8_t truncated[] = {'a', 0x80};
  EXPECT_EQ(UnpackTexts(truncated, sizeof truncated, out, sizeof out), 0u);
  const uint8_t truncated_long[] = {'a', 0x80, 0x80};
  EXPECT_EQ(UnpackTexts(truncated_long, sizeof truncated_long, out, sizeof out), 0u);
  const uint8_t overflow[] = {'a', 0xff, 0};  // 130 bytes into 16
  EXPECT_EQ(UnpackTexts(overflow, sizeof overflow, out, sizeof out), 0u);
  const uint8_t ok[] = {'a', 'b', 0x81, 1};  // "ab" + 4 copied = "ababab"
  ASSERT_EQ(UnpackTexts(ok, sizeof ok, out, sizeof out), 6u);
  EXPECT_EQ(std::string(out, 6), "ababab");
}

TEST(TextsTest, PrintTextFillsDirectives) {
  char buf[2048];
  common::Formatter f(buf, sizeof buf);
  PrintText(f, Text::kMinipodUsage, "prog");
  EXPECT_EQ(std::string(buf).rfind("Usage: prog [OPTIONS]", 0), 0u) << buf;
}

}  // namespace
}  // namespace init
