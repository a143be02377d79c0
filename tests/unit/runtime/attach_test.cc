// The attach protocol's frames (runtime/attach.h): encoding, decoding in
// pieces, and the malformed frames that end a connection.
#include "runtime/attach.h"

#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/monitor.h"

namespace runtime {
namespace {

using Frames = std::vector<std::pair<char, std::string>>;

bool Consume(std::string* buf, Frames* out) {
  return ConsumeAttachFrames(buf, [out](char type, absl::string_view payload) {
    out->emplace_back(type, std::string(payload));
  });
}

TEST(AttachFrameTest, EncodingIsTypeThenBigEndianLengthThenPayload) {
  EXPECT_EQ(EncodeAttachFrame(kAttachData, "hi"), std::string("d\0\0\0\2hi", 7));
  EXPECT_EQ(EncodeAttachFrame(kAttachData, ""), std::string("d\0\0\0\0", 5));
  EXPECT_EQ(EncodeResizeFrame(0x0102, 80), std::string("r\0\0\0\4\1\2\0\x50", 9));
}

TEST(AttachFrameTest, FramesComeOutWholeWhateverTheReadsCutThem) {
  const std::string stream = EncodeAttachFrame(kAttachData, "echo hi\r") + EncodeResizeFrame(33, 101) +
                             EncodeAttachFrame(kAttachData, std::string(70000 - 6000, 'x'));
  for (size_t piece : {size_t{1}, size_t{3}, size_t{5}, size_t{4096}, stream.size()}) {
    std::string buf;
    Frames frames;
    for (size_t at = 0; at < stream.size(); at += piece) {
      buf.append(stream, at, piece);
      ASSERT_TRUE(Consume(&buf, &frames)) << "piece " << piece;
    }
    EXPECT_TRUE(buf.empty()) << "piece " << piece;
    ASSERT_EQ(frames.size(), 3u) << "piece " << piece;
    EXPECT_EQ(frames[0], std::make_pair(kAttachData, std::string("echo hi\r")));
    EXPECT_EQ(frames[1].first, kAttachResize);
    unsigned short rows = 0, cols = 0;
    ASSERT_TRUE(DecodeResize(frames[1].second, &rows, &cols));
    EXPECT_EQ(rows, 33);
    EXPECT_EQ(cols, 101);
    EXPECT_EQ(frames[2].second.size(), 64000u);
  }
}

TEST(AttachFrameTest, MalformedFramesAreRefused) {
  struct Case {
    const char* what;
    std::string bytes;
  };
  const Case cases[] = {
      {"unknown type", std::string("x\0\0\0\1a", 6)},
      {"payload over the limit", std::string("d\0\1\0\1", 5)},  // 65537 bytes announced
      {"length near 4 GiB", std::string("d\xff\xff\xff\xff", 5)},
      {"resize of 3 bytes", std::string("r\0\0\0\3abc", 8)},
      {"resize of 0 bytes", std::string("r\0\0\0\0", 5)},
  };
  for (const Case& c : cases) {
    std::string buf = EncodeAttachFrame(kAttachData, "ok") + c.bytes;
    Frames frames;
    EXPECT_FALSE(Consume(&buf, &frames)) << c.what;
    // What came before the bad frame was still delivered.
    ASSERT_EQ(frames.size(), 1u) << c.what;
    EXPECT_EQ(frames[0].second, "ok") << c.what;
  }
  unsigned short rows, cols;
  EXPECT_FALSE(DecodeResize("abc", &rows, &cols));
}

TEST(AttachFrameTest, TheLargestPayloadIsAccepted) {
  std::string buf = EncodeAttachFrame(kAttachData, std::string(kAttachMaxPayload, 'y'));
  Frames frames;
  EXPECT_TRUE(Consume(&buf, &frames));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].second.size(), kAttachMaxPayload);
}

}  // namespace
}  // namespace runtime
