#pragma once
// Container logs as kubelet serves them (pkg/kubelet/kuberuntime/logs):
// the runtime writes CRI log files, one line per chunk of output,
//     2016-10-06T00:17:09.669794202Z stdout F log content
// ("P" marks a partial line whose newline comes in a later entry); Docker's
// JSON lines are read too. Options select the last N lines (of the file,
// as upstream counts them), entries since a time, a byte limit,
// timestamps, and follow: tail the file until the container exits,
// carrying on into the new file after a log rotation.

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/fd.h"

namespace berth::agent::kubelet {

// An instant as written in a log line, with the offset it was written in
// (timestamps are printed back in it, as Go's time.Parse + Format do).
struct LogTime {
  int64_t unix_nanos = 0;
  int offset_seconds = 0;
};

// RFC 3339 with any number of fraction digits ("Z" or "+hh:mm").
Result<LogTime> ParseRfc3339(std::string_view text);
// Kubernetes' RFC3339NanoFixed: "2006-01-02T15:04:05.000000000Z07:00".
std::string FormatRfc3339NanoFixed(const LogTime& t);

struct LogEntry {
  LogTime time;
  bool stderr = false;
  std::string text;  // a partial entry has no newline
};

// One line of a file (its newline included, if it had one).
Result<LogEntry> ParseCriLogLine(std::string_view line);
Result<LogEntry> ParseDockerJsonLogLine(std::string_view line);

// Where the last `n` lines of the file begin (n < 0: 0). A last line
// without a newline is not counted (upstream's tail.FindTailLineStartIndex).
Result<int64_t> FindTailStart(int fd, int64_t n);

struct LogOptions {
  int64_t tail_lines = -1;   // -1: all
  int64_t limit_bytes = -1;  // -1: no limit
  int64_t since_unix_nanos = std::numeric_limits<int64_t>::min();
  bool follow = false;
  bool timestamps = false;
};

// Where the log goes: the HTTP response.
class LogSink {
 public:
  virtual ~LogSink() = default;
  // False when the client is gone.
  virtual bool Write(std::string_view data) = 0;
  // The socket to watch for the client hanging up while following (-1:
  // none), and whether it has.
  virtual int wait_fd() const = 0;
  virtual bool Gone() const = 0;
};

class CriLogFile {
 public:
  // Opens `path` (symlinks resolved, as upstream): errors name the path.
  static Result<CriLogFile> Open(const std::string& path);

  // Writes the selected entries to `sink`. With follow, waits for more at
  // the end of the file while `running()` says the container runs; once it
  // does not, reads to the end once more and returns.
  Status Stream(
      const LogOptions& options, LogSink& sink,
      const std::function<bool()>& running = [] { return false; });

  const std::string& path() const { return path_; }

 private:
  CriLogFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}

  std::string path_;
  UniqueFd fd_;
};

}  // namespace berth::agent::kubelet
