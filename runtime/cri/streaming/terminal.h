#pragma once
// Terminal resize messages: the resize stream/channel carries a sequence of
// JSON objects {"Width":w,"Height":h} (Go's json.Encoder: one per line, but
// a message may be split over frames or several may share one).

#include <boost/json/stream_parser.hpp>
#include <string_view>
#include <vector>

#include "runtime/cri/streaming/backend.h"

namespace berth::cri::streaming {

class ResizeDecoder {
 public:
  // Appends bytes and returns the sizes completed by them. After a malformed
  // message the decoder stops (like kubelet's handleResizeEvents) and
  // failed() turns true.
  std::vector<TerminalSize> Feed(std::string_view bytes);
  bool failed() const { return failed_; }

 private:
  boost::json::stream_parser parser_;
  bool failed_ = false;
};

}  // namespace berth::cri::streaming
