#include "runtime/cri/streaming/terminal.h"

#include <sys/ioctl.h>
#include <termios.h>

#include <boost/json.hpp>
#include <cctype>
#include <limits>

namespace berth::cri::streaming {
namespace json = boost::json;

namespace {

// Go's json decodes object keys into struct fields case-insensitively and
// ignores unknown keys; numbers out of uint16 range are errors.
bool ReadSize(const json::value& v, TerminalSize& out) {
  if (!v.is_object()) return false;
  for (const auto& [key, value] : v.as_object()) {
    std::string k(key);
    for (auto& c : k)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (k != "width" && k != "height") continue;
    if (!value.is_number()) return false;
    std::error_code ec;
    auto n = value.to_number<int64_t>(ec);
    if (ec || n < 0 || n > std::numeric_limits<uint16_t>::max()) return false;
    (k == "width" ? out.width : out.height) = static_cast<uint16_t>(n);
  }
  return true;
}

}  // namespace

std::vector<TerminalSize> ResizeDecoder::Feed(std::string_view bytes) {
  std::vector<TerminalSize> out;
  while (!failed_ && !bytes.empty()) {
    json::error_code ec;
    size_t used = parser_.write_some(bytes.data(), bytes.size(), ec);
    if (ec) {
      failed_ = true;
      break;
    }
    bytes.remove_prefix(used);
    if (parser_.done()) {
      TerminalSize size;
      if (!ReadSize(parser_.release(), size)) {
        failed_ = true;
        break;
      }
      out.push_back(size);
      parser_.reset();
    }
  }
  return out;
}

Status SetTerminalSize(int fd, TerminalSize size) {
  winsize ws{};
  ws.ws_row = size.height;
  ws.ws_col = size.width;
  if (::ioctl(fd, TIOCSWINSZ, &ws) != 0) {
    return Error::Sys("ioctl TIOCSWINSZ", "fd " + std::to_string(fd));
  }
  return Ok();
}

}  // namespace berth::cri::streaming
