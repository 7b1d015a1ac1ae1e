#include "runtime/cri/streaming/spdy_frame.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace berth::cri::streaming::spdy {
namespace {

TEST(SpdyDictionary, MatchesDraft3) {
  const std::string& d = HeaderDictionary();
  // Draft 3's dictionary is 1423 bytes: 4-byte lengths + names, then a run.
  EXPECT_EQ(d.size(), 1423u);
  EXPECT_EQ(d.substr(0, 11), std::string("\0\0\0\x07options", 11));
  EXPECT_EQ(d.substr(d.size() - 7), ",enq=0.");
  EXPECT_NE(d.find(std::string("\0\0\0\x06origin100101", 16)), std::string::npos);
}

TEST(SpdyHeaders, CompressRoundTripAcrossBlocks) {
  HeaderCompressor c;
  HeaderDecompressor d;
  for (int i = 0; i < 3; ++i) {
    Headers h{{"streamType", "stdout"}, {"port", std::to_string(8000 + i)}, {"multi", "a\0b"}};
    auto got = d.Decompress(c.Compress(h));
    ASSERT_TRUE(got.ok()) << got.error().str();
    ASSERT_EQ(got->size(), 3u);
    EXPECT_EQ((*got)[0].first, "streamtype");  // lowercased on the wire
    EXPECT_EQ(HeaderValue(*got, "StreamType"), "stdout");
    EXPECT_EQ(HeaderValue(*got, "port"), std::to_string(8000 + i));
    EXPECT_EQ(HeaderValue(*got, "multi"), "a");  // first value, like Go's Get
  }
}

TEST(SpdyHeaders, FirstBlockCarriesDictionaryId) {
  // The zlib header must announce the SPDY dictionary (FDICT + its Adler-32),
  // which is what Go's zlib.NewReaderDict checks.
  HeaderCompressor c;
  std::string block = c.Compress({{"a", "b"}});
  ASSERT_GE(block.size(), 6u);
  EXPECT_TRUE(static_cast<unsigned char>(block[1]) & 0x20);
  const std::string& dict = HeaderDictionary();
  uLong adler = adler32(adler32(0, nullptr, 0), reinterpret_cast<const Bytef*>(dict.data()),
                        static_cast<uInt>(dict.size()));
  uint32_t got = static_cast<uint32_t>(static_cast<unsigned char>(block[2])) << 24 |
                 static_cast<uint32_t>(static_cast<unsigned char>(block[3])) << 16 |
                 static_cast<uint32_t>(static_cast<unsigned char>(block[4])) << 8 |
                 static_cast<uint32_t>(static_cast<unsigned char>(block[5]));
  EXPECT_EQ(got, adler);
}

TEST(SpdyFrames, EncodeDecodeEveryType) {
  HeaderCompressor c;
  HeaderDecompressor d;
  FrameReader r;
  // One statement per frame: the compressor's blocks must stay in order.
  std::string wire = EncodeSynStream(c, 1, 0, 3, kFlagFin, {{"streamtype", "error"}});
  wire += EncodeSynReply(c, 1, 0, {});
  wire += EncodeData(1, kFlagFin, "hello");
  wire += EncodeRstStream(3, kCancel);
  wire += EncodeSettings(0, {{0, kSettingsInitialWindowSize, 1024}});
  wire += EncodePing(7);
  wire += EncodeGoAway(5, kGoAwayOk);
  wire += EncodeHeaders(c, 1, 0, {});
  wire += EncodeWindowUpdate(0, 4096);
  // Feed byte by byte: frames must come out whole.
  std::vector<Frame> frames;
  for (char ch : wire) {
    r.Feed(std::string_view(&ch, 1));
    while (true) {
      auto f = r.Next(d);
      ASSERT_TRUE(f.ok()) << f.error().str();
      if (!f->has_value()) break;
      frames.push_back(std::move(**f));
    }
  }
  ASSERT_EQ(frames.size(), 9u);
  EXPECT_EQ(frames[0].type, FrameType::kSynStream);
  EXPECT_EQ(frames[0].stream_id, 1u);
  EXPECT_EQ(frames[0].priority, 3);
  EXPECT_TRUE(frames[0].fin());
  EXPECT_EQ(HeaderValue(frames[0].headers, "streamtype"), "error");
  EXPECT_EQ(frames[1].type, FrameType::kSynReply);
  EXPECT_TRUE(frames[1].headers.empty());
  EXPECT_EQ(frames[2].type, FrameType::kData);
  EXPECT_EQ(frames[2].data, "hello");
  EXPECT_TRUE(frames[2].fin());
  EXPECT_EQ(frames[3].type, FrameType::kRstStream);
  EXPECT_EQ(frames[3].status, kCancel);
  EXPECT_EQ(frames[4].type, FrameType::kSettings);
  ASSERT_EQ(frames[4].settings.size(), 1u);
  EXPECT_EQ(frames[4].settings[0].id, kSettingsInitialWindowSize);
  EXPECT_EQ(frames[4].settings[0].value, 1024u);
  EXPECT_EQ(frames[5].ping_id, 7u);
  EXPECT_EQ(frames[6].type, FrameType::kGoAway);
  EXPECT_EQ(frames[6].stream_id, 5u);
  EXPECT_EQ(frames[7].type, FrameType::kHeaders);
  EXPECT_EQ(frames[8].type, FrameType::kWindowUpdate);
  EXPECT_EQ(frames[8].delta, 4096u);
}

TEST(SpdyFrames, LargeFramesSurviveBufferCompaction) {
  // Frames larger than the reader's compaction threshold, fed in odd
  // chunks, must come out intact (kubectl sends 32 KiB stdin frames).
  HeaderDecompressor d;
  FrameReader r;
  std::string wire;
  std::vector<std::string> sent;
  for (int i = 0; i < 12; ++i) {
    std::string data(40000 + i, static_cast<char>('a' + i));
    data[i] = '!';
    sent.push_back(data);
    wire += EncodeData(1, 0, data);
  }
  std::vector<std::string> got;
  for (size_t off = 0; off < wire.size(); off += 7001) {
    r.Feed(std::string_view(wire).substr(off, 7001));
    while (true) {
      auto f = r.Next(d);
      ASSERT_TRUE(f.ok());
      if (!f->has_value()) break;
      got.push_back((*f)->data);
    }
  }
  EXPECT_EQ(got, sent);
}

TEST(SpdyFrames, WireLayout) {
  // Control: 0x8003 (version 3), type, flags + 24-bit length.
  EXPECT_EQ(EncodePing(1), std::string("\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01", 12));
  EXPECT_EQ(EncodeData(5, kFlagFin, "ab"), std::string("\x00\x00\x00\x05\x01\x00\x00\x02"
                                                       "ab",
                                                       10));
  EXPECT_EQ(EncodeRstStream(3, kCancel),
            std::string("\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x03\x00\x00\x00\x05", 16));
}

TEST(SpdyFrames, RejectsGarbage) {
  HeaderDecompressor d;
  FrameReader r;
  // SYN_STREAM whose header block is not zlib.
  std::string bad(
      "\x80\x03\x00\x01\x00\x00\x00\x0e\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
      "abcd",
      22);
  r.Feed(bad);
  EXPECT_FALSE(r.Next(d).ok());
}

}  // namespace
}  // namespace berth::cri::streaming::spdy
