#pragma once
// SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 / SPDY Protocol Draft 3
// and 3.1): frame encoding, an incremental frame reader, and the zlib
// header-block compression with the SPDY/3 dictionary. Shared by the
// server's session and the tests' client.
//
//   control frame: |1|version(15)|type(16)|flags(8)|length(24)|payload
//   data frame:    |0|stream-id(31)|flags(8)|length(24)|data
//   header block (before compression): count(32) then count times
//     name-length(32) name value-length(32) value   (values joined by NUL)

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace berth::cri::streaming::spdy {

inline constexpr uint16_t kVersion = 3;

enum class FrameType : uint16_t {
  kData = 0,  // not a control type: marks data frames in Frame::type
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
};

inline constexpr uint8_t kFlagFin = 0x01;             // data and stream control frames
inline constexpr uint8_t kFlagUnidirectional = 0x02;  // SYN_STREAM

// RST_STREAM status codes.
enum RstStatus : uint32_t {
  kProtocolError = 1,
  kInvalidStream = 2,
  kRefusedStream = 3,
  kUnsupportedVersion = 4,
  kCancel = 5,
  kInternalError = 6,
  kFlowControlError = 7,
  kStreamInUse = 8,
  kStreamAlreadyClosed = 9,
  kFrameTooLarge = 11,
};

// GOAWAY status codes.
enum GoAwayStatus : uint32_t { kGoAwayOk = 0, kGoAwayProtocolError = 1, kGoAwayInternalError = 2 };

inline constexpr uint32_t kSettingsInitialWindowSize = 7;
inline constexpr int64_t kDefaultInitialWindow = 64 * 1024;  // stream and session windows
inline constexpr size_t kMaxFrameLength = (1u << 24) - 1;

// The SPDY/3 header compression dictionary (draft 3, section 2.6.10.1).
const std::string& HeaderDictionary();

// Header name/value pairs in wire order. Names are lowercase on the wire;
// a value holding several values joins them with NUL.
using Headers = std::vector<std::pair<std::string, std::string>>;
// The first value of header `name` (case-insensitive), like Go's Header.Get.
std::optional<std::string> HeaderValue(const Headers& headers, std::string_view name);

struct Setting {
  uint8_t flags = 0;
  uint32_t id = 0;
  uint32_t value = 0;
};

// One decoded frame. Which fields are meaningful depends on type.
struct Frame {
  FrameType type = FrameType::kData;
  uint16_t raw_type = 0;  // the wire type of control frames (also unknown ones)
  uint16_t version = kVersion;
  uint8_t flags = 0;
  uint32_t stream_id = 0;      // data, SYN_*, RST, HEADERS, WINDOW_UPDATE; GOAWAY: last good
  uint32_t associated_id = 0;  // SYN_STREAM
  uint8_t priority = 0;        // SYN_STREAM (3 bits)
  uint32_t status = 0;         // RST_STREAM, GOAWAY
  uint32_t ping_id = 0;        // PING
  uint32_t delta = 0;          // WINDOW_UPDATE
  std::vector<Setting> settings;
  Headers headers;
  std::string data;  // DATA payload
  bool fin() const { return (flags & kFlagFin) != 0; }
};

// zlib stream state for one direction of a session: every header block of
// the session goes through the same compressor, each ended by a sync flush.
class HeaderCompressor {
 public:
  HeaderCompressor();
  ~HeaderCompressor();
  HeaderCompressor(const HeaderCompressor&) = delete;
  HeaderCompressor& operator=(const HeaderCompressor&) = delete;
  std::string Compress(const Headers& headers);

 private:
  z_stream z_{};
};

class HeaderDecompressor {
 public:
  explicit HeaderDecompressor(size_t max_block = 256 * 1024);
  ~HeaderDecompressor();
  HeaderDecompressor(const HeaderDecompressor&) = delete;
  HeaderDecompressor& operator=(const HeaderDecompressor&) = delete;
  Result<Headers> Decompress(std::string_view compressed);

 private:
  z_stream z_{};
  size_t max_block_;
};

// Serialises a header block (uncompressed); names are lowercased.
std::string EncodeHeaderBlock(const Headers& headers);
Result<Headers> DecodeHeaderBlock(std::string_view block);

std::string EncodeData(uint32_t stream_id, uint8_t flags, std::string_view data);
std::string EncodeSynStream(HeaderCompressor& c, uint32_t stream_id, uint32_t associated_id,
                            uint8_t priority, uint8_t flags, const Headers& headers);
std::string EncodeSynReply(HeaderCompressor& c, uint32_t stream_id, uint8_t flags,
                           const Headers& headers);
std::string EncodeHeaders(HeaderCompressor& c, uint32_t stream_id, uint8_t flags,
                          const Headers& headers);
std::string EncodeRstStream(uint32_t stream_id, uint32_t status);
std::string EncodeSettings(uint8_t flags, const std::vector<Setting>& settings);
std::string EncodePing(uint32_t id);
std::string EncodeGoAway(uint32_t last_good_stream_id, uint32_t status);
std::string EncodeWindowUpdate(uint32_t stream_id, uint32_t delta);

// Cuts frames out of a byte stream. Feed() appends bytes; Next() returns
// the next whole frame (nullopt: need more bytes) or a protocol error, after
// which the session must be torn down.
class FrameReader {
 public:
  explicit FrameReader(size_t max_frame_length = kMaxFrameLength)
      : max_frame_length_(max_frame_length) {}
  void Feed(std::string_view bytes) {
    if (pos_ > 0 && pos_ * 2 > buf_.size()) {  // drop consumed bytes now and then
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    buf_.append(bytes);
  }
  Result<std::optional<Frame>> Next(HeaderDecompressor& d);
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  size_t pos_ = 0;
  size_t max_frame_length_;
};

}  // namespace berth::cri::streaming::spdy
