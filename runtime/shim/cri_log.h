#pragma once
// A container's log in the CRI format kubelet reads
// (`<RFC3339Nano> <stdout|stderr> <F|P> <content>\n`): output is cut at
// newlines into full (F) lines; a line longer than kMaxLine, or one left
// unterminated when its stream ends, goes out in partial (P) pieces, as
// containerd does with its 16 KiB line limit.

#include <string>
#include <string_view>

#include "common/error.h"
#include "common/fd.h"

namespace berth::shim {

enum class Stream { kStdout = 0, kStderr = 1 };

class CriLog {
 public:
  static constexpr size_t kMaxLine = 16 * 1024;

  // Opens `path` for appending (created 0640); "" discards everything.
  static Result<CriLog> Open(const std::string& path);

  // Appends output of `stream`; complete lines are written now.
  Status Write(Stream stream, std::string_view bytes);
  // The stream ended: what is left of its last line is written as P.
  Status Close(Stream stream);
  // Reopens the path (after kubelet rotated the file away).
  Status Reopen();

 private:
  CriLog(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  Status WriteLine(Stream stream, char tag, std::string_view content);

  std::string path_;
  UniqueFd fd_;
  std::string pending_[2];  // unterminated output per stream
};

}  // namespace berth::shim
