#include "runtime/shim/cri_log.h"

#include <fcntl.h>
#include <sys/uio.h>

#include <cerrno>

#include "common/time.h"

namespace berth::shim {
namespace {

Result<UniqueFd> OpenForAppend(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd) return Error::Sys("open", path);
  return fd;
}

}  // namespace

Result<CriLog> CriLog::Open(const std::string& path) {
  if (path.empty()) return CriLog("", UniqueFd());
  return CriLog(path, BERTH_TRY(OpenForAppend(path)));
}

Status CriLog::Reopen() {
  if (path_.empty()) return Ok();
  fd_ = BERTH_TRY(OpenForAppend(path_));
  return Ok();
}

Status CriLog::WriteLine(Stream stream, char tag, std::string_view content) {
  if (!fd_) return Ok();
  std::string head = FormatRfc3339Nano(WallClockNow());
  head += stream == Stream::kStdout ? " stdout " : " stderr ";
  head += tag;
  head += ' ';
  iovec iov[3] = {{head.data(), head.size()},
                  {const_cast<char*>(content.data()), content.size()},
                  {const_cast<char*>("\n"), 1}};
  // One writev per line keeps lines whole for a concurrent reader (O_APPEND).
  size_t total = head.size() + content.size() + 1;
  ssize_t n;
  while ((n = ::writev(fd_.get(), iov, 3)) < 0 && errno == EINTR) {
  }
  if (n < 0) return Error::Sys("writev", path_);
  if (static_cast<size_t>(n) != total) {
    return Error(Errc::kResourceExhausted, "short write to log " + path_);
  }
  return Ok();
}

Status CriLog::Write(Stream stream, std::string_view bytes) {
  std::string& pending = pending_[static_cast<int>(stream)];
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    size_t room = kMaxLine - pending.size();
    if (nl != std::string_view::npos && nl <= room) {
      std::string_view rest = bytes.substr(0, nl);
      if (pending.empty()) {
        BERTH_TRY(WriteLine(stream, 'F', rest));
      } else {
        pending.append(rest);
        BERTH_TRY(WriteLine(stream, 'F', pending));
        pending.clear();
      }
      bytes.remove_prefix(nl + 1);
      continue;
    }
    size_t take = std::min(room, bytes.size());
    pending.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (pending.size() == kMaxLine) {
      BERTH_TRY(WriteLine(stream, 'P', pending));
      pending.clear();
    }
  }
  return Ok();
}

Status CriLog::Close(Stream stream) {
  std::string& pending = pending_[static_cast<int>(stream)];
  if (pending.empty()) return Ok();
  Status s = WriteLine(stream, 'P', pending);
  pending.clear();
  return s;
}

}  // namespace berth::shim
