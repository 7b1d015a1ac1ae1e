#include "runtime/cri/streaming/spdy_frame.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace berth::cri::streaming::spdy {
namespace {

void PutU32(std::string& out, uint32_t v) {
  out += static_cast<char>(v >> 24);
  out += static_cast<char>(v >> 16);
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

uint32_t GetU32(std::string_view s, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

std::string ControlHeader(FrameType type, uint8_t flags, size_t length) {
  std::string out;
  out += static_cast<char>(0x80 | (kVersion >> 8));
  out += static_cast<char>(kVersion & 0xff);
  out += static_cast<char>(static_cast<uint16_t>(type) >> 8);
  out += static_cast<char>(static_cast<uint16_t>(type) & 0xff);
  PutU32(out, static_cast<uint32_t>(flags) << 24 | static_cast<uint32_t>(length));
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Error Protocol(const std::string& what) {
  return Error(Errc::kInvalidArgument, "spdy: " + what);
}

}  // namespace

const std::string& HeaderDictionary() {
  // Section 2.6.10.1 of SPDY draft 3: the dictionary is a list of header
  // names and common values, each with a 4-byte big-endian length, followed
  // by one run of common value fragments without lengths.
  static const std::string dict = [] {
    static constexpr std::string_view kWords[] = {
        "options",
        "head",
        "post",
        "put",
        "delete",
        "trace",
        "accept",
        "accept-charset",
        "accept-encoding",
        "accept-language",
        "accept-ranges",
        "age",
        "allow",
        "authorization",
        "cache-control",
        "connection",
        "content-base",
        "content-encoding",
        "content-language",
        "content-length",
        "content-location",
        "content-md5",
        "content-range",
        "content-type",
        "date",
        "etag",
        "expect",
        "expires",
        "from",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-range",
        "if-unmodified-since",
        "last-modified",
        "location",
        "max-forwards",
        "pragma",
        "proxy-authenticate",
        "proxy-authorization",
        "range",
        "referer",
        "retry-after",
        "server",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "vary",
        "via",
        "warning",
        "www-authenticate",
        "method",
        "get",
        "status",
        "200 OK",
        "version",
        "HTTP/1.1",
        "url",
        "public",
        "set-cookie",
        "keep-alive",
        "origin",
    };
    static constexpr std::string_view kTail[] = {
        "10010120120220520630030230330430530630740240540640740840941041141241341441541641750250450"
        "5",
        "203 Non-Authoritative Information",
        "204 No Content",
        "301 Moved Permanently",
        "400 Bad Request",
        "401 Unauthorized",
        "403 Forbidden",
        "404 Not Found",
        "500 Internal Server Error",
        "501 Not Implemented",
        "503 Service Unavailable",
        "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 ",
        "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT",
        "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,",
        "text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdch",
        "charset=utf-8charset=iso-8859-1,utf-,*,enq=0.",
    };
    std::string d;
    for (auto w : kWords) {
      PutU32(d, static_cast<uint32_t>(w.size()));
      d.append(w);
    }
    for (auto t : kTail)
      d.append(t);
    return d;
  }();
  return dict;
}

std::optional<std::string> HeaderValue(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return v.substr(0, v.find('\0'));
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Header blocks

std::string EncodeHeaderBlock(const Headers& headers) {
  std::string out;
  PutU32(out, static_cast<uint32_t>(headers.size()));
  for (const auto& [name, value] : headers) {
    PutU32(out, static_cast<uint32_t>(name.size()));
    out += Lower(name);
    PutU32(out, static_cast<uint32_t>(value.size()));
    out += value;
  }
  return out;
}

Result<Headers> DecodeHeaderBlock(std::string_view block) {
  size_t pos = 0;
  auto u32 = [&](uint32_t& v) {
    if (block.size() - pos < 4) return false;
    v = GetU32(block, pos);
    pos += 4;
    return true;
  };
  uint32_t count = 0;
  if (!u32(count)) return Protocol("truncated header block");
  Headers out;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t len = 0;
    if (!u32(len) || block.size() - pos < len) return Protocol("truncated header name");
    std::string name(block.substr(pos, len));
    pos += len;
    if (!u32(len) || block.size() - pos < len) return Protocol("truncated header value");
    std::string value(block.substr(pos, len));
    pos += len;
    if (name.empty()) return Protocol("empty header name");
    out.emplace_back(Lower(name), std::move(value));
  }
  return out;
}

HeaderCompressor::HeaderCompressor() {
  // Any level works for the peer; the dictionary is what must match.
  if (deflateInit(&z_, Z_DEFAULT_COMPRESSION) != Z_OK) ResultMisuse("deflateInit failed");
  const auto& d = HeaderDictionary();
  deflateSetDictionary(&z_, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size()));
}

HeaderCompressor::~HeaderCompressor() {
  deflateEnd(&z_);
}

std::string HeaderCompressor::Compress(const Headers& headers) {
  std::string raw = EncodeHeaderBlock(headers);
  std::string out;
  z_.next_in = reinterpret_cast<Bytef*>(raw.data());
  z_.avail_in = static_cast<uInt>(raw.size());
  char chunk[4096];
  do {
    z_.next_out = reinterpret_cast<Bytef*>(chunk);
    z_.avail_out = sizeof chunk;
    deflate(&z_, Z_SYNC_FLUSH);
    out.append(chunk, sizeof chunk - z_.avail_out);
  } while (z_.avail_out == 0);
  return out;
}

HeaderDecompressor::HeaderDecompressor(size_t max_block) : max_block_(max_block) {
  if (inflateInit(&z_) != Z_OK) ResultMisuse("inflateInit failed");
}

HeaderDecompressor::~HeaderDecompressor() {
  inflateEnd(&z_);
}

Result<Headers> HeaderDecompressor::Decompress(std::string_view compressed) {
  std::string raw;
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z_.avail_in = static_cast<uInt>(compressed.size());
  char chunk[4096];
  while (true) {
    z_.next_out = reinterpret_cast<Bytef*>(chunk);
    z_.avail_out = sizeof chunk;
    int rc = inflate(&z_, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      const auto& d = HeaderDictionary();
      if (inflateSetDictionary(&z_, reinterpret_cast<const Bytef*>(d.data()),
                               static_cast<uInt>(d.size())) != Z_OK) {
        return Protocol("header block needs an unknown zlib dictionary");
      }
      continue;
    }
    raw.append(chunk, sizeof chunk - z_.avail_out);
    if (raw.size() > max_block_) return Protocol("header block too large");
    if (rc == Z_BUF_ERROR || (rc == Z_OK && z_.avail_in == 0 && z_.avail_out != 0)) break;
    if (rc != Z_OK) {
      return Protocol(std::string("header decompression: ") + (z_.msg ? z_.msg : "zlib error"));
    }
  }
  if (z_.avail_in != 0) return Protocol("header block not fully decompressed");
  return DecodeHeaderBlock(raw);
}

// ---------------------------------------------------------------------------
// Frames

std::string EncodeData(uint32_t stream_id, uint8_t flags, std::string_view data) {
  std::string out;
  out.reserve(8 + data.size());
  PutU32(out, stream_id & 0x7fffffff);
  PutU32(out, static_cast<uint32_t>(flags) << 24 | static_cast<uint32_t>(data.size()));
  out.append(data);
  return out;
}

std::string EncodeSynStream(HeaderCompressor& c, uint32_t stream_id, uint32_t associated_id,
                            uint8_t priority, uint8_t flags, const Headers& headers) {
  std::string block = c.Compress(headers);
  std::string out = ControlHeader(FrameType::kSynStream, flags, 10 + block.size());
  PutU32(out, stream_id & 0x7fffffff);
  PutU32(out, associated_id & 0x7fffffff);
  out += static_cast<char>((priority & 0x7) << 5);
  out += '\0';  // slot
  out += block;
  return out;
}

namespace {

// SYN_REPLY and HEADERS: a stream id, then the compressed header block.
std::string EncodeStreamHeaders(FrameType type, HeaderCompressor& c, uint32_t stream_id,
                                uint8_t flags, const Headers& headers) {
  std::string block = c.Compress(headers);
  std::string out = ControlHeader(type, flags, 4 + block.size());
  PutU32(out, stream_id & 0x7fffffff);
  out += block;
  return out;
}

}  // namespace

std::string EncodeSynReply(HeaderCompressor& c, uint32_t stream_id, uint8_t flags,
                           const Headers& headers) {
  return EncodeStreamHeaders(FrameType::kSynReply, c, stream_id, flags, headers);
}

std::string EncodeHeaders(HeaderCompressor& c, uint32_t stream_id, uint8_t flags,
                          const Headers& headers) {
  return EncodeStreamHeaders(FrameType::kHeaders, c, stream_id, flags, headers);
}

std::string EncodeRstStream(uint32_t stream_id, uint32_t status) {
  std::string out = ControlHeader(FrameType::kRstStream, 0, 8);
  PutU32(out, stream_id & 0x7fffffff);
  PutU32(out, status);
  return out;
}

std::string EncodeSettings(uint8_t flags, const std::vector<Setting>& settings) {
  std::string out = ControlHeader(FrameType::kSettings, flags, 4 + 8 * settings.size());
  PutU32(out, static_cast<uint32_t>(settings.size()));
  for (const auto& s : settings) {
    PutU32(out, static_cast<uint32_t>(s.flags) << 24 | (s.id & 0xffffff));
    PutU32(out, s.value);
  }
  return out;
}

std::string EncodePing(uint32_t id) {
  std::string out = ControlHeader(FrameType::kPing, 0, 4);
  PutU32(out, id);
  return out;
}

std::string EncodeGoAway(uint32_t last_good_stream_id, uint32_t status) {
  std::string out = ControlHeader(FrameType::kGoAway, 0, 8);
  PutU32(out, last_good_stream_id & 0x7fffffff);
  PutU32(out, status);
  return out;
}

std::string EncodeWindowUpdate(uint32_t stream_id, uint32_t delta) {
  std::string out = ControlHeader(FrameType::kWindowUpdate, 0, 8);
  PutU32(out, stream_id & 0x7fffffff);
  PutU32(out, delta & 0x7fffffff);
  return out;
}

Result<std::optional<Frame>> FrameReader::Next(HeaderDecompressor& d) {
  std::string_view avail(buf_.data() + pos_, buf_.size() - pos_);
  if (avail.size() < 8) return std::optional<Frame>();
  uint32_t w0 = GetU32(avail, 0);
  uint32_t w1 = GetU32(avail, 4);
  size_t length = w1 & 0xffffff;
  if (length > max_frame_length_) return Protocol("frame too large");
  if (avail.size() < 8 + length) return std::optional<Frame>();
  std::string_view p = avail.substr(8, length);
  pos_ += 8 + length;  // p stays valid: buf_ only changes in Feed()

  Frame f;
  f.flags = static_cast<uint8_t>(w1 >> 24);
  if ((w0 & 0x80000000u) == 0) {
    f.type = FrameType::kData;
    f.stream_id = w0 & 0x7fffffff;
    if (f.stream_id == 0) return Protocol("data frame on stream 0");
    f.data.assign(p);
    return std::optional<Frame>(std::move(f));
  }
  f.version = static_cast<uint16_t>((w0 >> 16) & 0x7fff);
  f.raw_type = static_cast<uint16_t>(w0 & 0xffff);
  f.type = static_cast<FrameType>(f.raw_type);
  auto need = [&](size_t n) { return p.size() >= n; };
  switch (f.type) {
    case FrameType::kSynStream: {
      if (!need(10)) return Protocol("short SYN_STREAM");
      f.stream_id = GetU32(p, 0) & 0x7fffffff;
      f.associated_id = GetU32(p, 4) & 0x7fffffff;
      f.priority = static_cast<uint8_t>(static_cast<unsigned char>(p[8]) >> 5);
      f.headers = BERTH_TRY(d.Decompress(p.substr(10)));
      if (f.stream_id == 0) return Protocol("SYN_STREAM on stream 0");
      break;
    }
    case FrameType::kSynReply:
    case FrameType::kHeaders: {
      if (!need(4)) return Protocol("short SYN_REPLY/HEADERS");
      f.stream_id = GetU32(p, 0) & 0x7fffffff;
      f.headers = BERTH_TRY(d.Decompress(p.substr(4)));
      break;
    }
    case FrameType::kRstStream:
      if (!need(8)) return Protocol("short RST_STREAM");
      f.stream_id = GetU32(p, 0) & 0x7fffffff;
      f.status = GetU32(p, 4);
      break;
    case FrameType::kSettings: {
      if (!need(4)) return Protocol("short SETTINGS");
      uint32_t n = GetU32(p, 0);
      if (p.size() < 4 + static_cast<size_t>(n) * 8) return Protocol("short SETTINGS entries");
      for (uint32_t i = 0; i < n; ++i) {
        uint32_t fid = GetU32(p, 4 + 8 * i);
        f.settings.push_back(
            {static_cast<uint8_t>(fid >> 24), fid & 0xffffff, GetU32(p, 8 + 8 * i)});
      }
      break;
    }
    case FrameType::kPing:
      if (!need(4)) return Protocol("short PING");
      f.ping_id = GetU32(p, 0);
      break;
    case FrameType::kGoAway:
      if (!need(4)) return Protocol("short GOAWAY");
      f.stream_id = GetU32(p, 0) & 0x7fffffff;
      if (need(8)) f.status = GetU32(p, 4);
      break;
    case FrameType::kWindowUpdate:
      if (!need(8)) return Protocol("short WINDOW_UPDATE");
      f.stream_id = GetU32(p, 0) & 0x7fffffff;
      f.delta = GetU32(p, 4) & 0x7fffffff;
      break;
    default:
      break;  // unknown control frames are ignored by the session
  }
  return std::optional<Frame>(std::move(f));
}

}  // namespace berth::cri::streaming::spdy
