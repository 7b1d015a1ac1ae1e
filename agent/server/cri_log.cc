#include "agent/server/cri_log.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "common/log.h"

namespace berth::agent::kubelet {
namespace {

namespace bj = boost::json;

constexpr int64_t kNanos = 1'000'000'000;
constexpr size_t kReadChunk = size_t{64} * 1024;
constexpr size_t kFlushBytes = size_t{32} * 1024;
// How often a followed log re-checks the file and the container without an
// inotify event (upstream's logForceCheckPeriod).
constexpr int kForceCheckMillis = 1000;

bool Digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int Number(std::string_view s) {
  int n = 0;
  for (char c : s)
    n = n * 10 + (c - '0');
  return n;
}

Error BadTime(std::string_view text) {
  return Error(Errc::kInvalidArgument,
               "unexpected timestamp format \"" + std::string(text) +
                   "\": want RFC 3339 (2006-01-02T15:04:05.999999999Z07:00)");
}

// The log line's text after `n` space-separated fields, and the fields.
bool Fields(std::string_view line, size_t n, std::vector<std::string_view>& fields,
            std::string_view& rest) {
  for (size_t i = 0; i < n; ++i) {
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return false;
    fields.push_back(line.substr(0, sp));
    line.remove_prefix(sp + 1);
  }
  rest = line;
  return true;
}

}  // namespace

Result<LogTime> ParseRfc3339(std::string_view text) {
  // 2006-01-02T15:04:05[.frac](Z|+07:00)
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':') {
    return BadTime(text);
  }
  for (auto [pos, len] : {std::pair{0, 4}, {5, 2}, {8, 2}, {11, 2}, {14, 2}, {17, 2}}) {
    if (!Digits(text.substr(pos, len))) return BadTime(text);
  }
  std::tm tm{};
  tm.tm_year = Number(text.substr(0, 4)) - 1900;
  tm.tm_mon = Number(text.substr(5, 2)) - 1;
  tm.tm_mday = Number(text.substr(8, 2));
  tm.tm_hour = Number(text.substr(11, 2));
  tm.tm_min = Number(text.substr(14, 2));
  tm.tm_sec = Number(text.substr(17, 2));
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return BadTime(text);
  }
  std::string_view rest = text.substr(19);
  int64_t nanos = 0;
  if (rest.starts_with('.')) {
    size_t n = 1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9')
      ++n;
    std::string_view frac = rest.substr(1, n - 1);
    if (frac.empty() || frac.size() > 9) return BadTime(text);
    nanos = Number(frac);
    for (size_t i = frac.size(); i < 9; ++i)
      nanos *= 10;
    rest.remove_prefix(n);
  }
  LogTime t;
  if (rest == "Z") {
    t.offset_seconds = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
             Digits(rest.substr(1, 2)) && Digits(rest.substr(4, 2))) {
    int offset = Number(rest.substr(1, 2)) * 3600 + Number(rest.substr(4, 2)) * 60;
    t.offset_seconds = rest[0] == '-' ? -offset : offset;
  } else {
    return BadTime(text);
  }
  time_t local = timegm(&tm);
  t.unix_nanos = (static_cast<int64_t>(local) - t.offset_seconds) * kNanos + nanos;
  return t;
}

std::string FormatRfc3339NanoFixed(const LogTime& t) {
  int64_t seconds = t.unix_nanos / kNanos;
  int64_t nanos = t.unix_nanos % kNanos;
  if (nanos < 0) {
    nanos += kNanos;
    seconds -= 1;
  }
  time_t local = static_cast<time_t>(seconds + t.offset_seconds);
  std::tm tm{};
  gmtime_r(&local, &tm);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lld", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        static_cast<long long>(nanos));  // NOLINT(google-runtime-int): printf
  std::string out(buf, static_cast<size_t>(n));
  if (t.offset_seconds == 0) return out + "Z";
  int offset = std::abs(t.offset_seconds);
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", t.offset_seconds < 0 ? '-' : '+', offset / 3600,
                offset % 3600 / 60);
  return out + buf;
}

Result<LogEntry> ParseCriLogLine(std::string_view line) {
  std::vector<std::string_view> f;
  std::string_view rest;
  if (!Fields(line, 3, f, rest)) {
    return Error(Errc::kInvalidArgument, "not a CRI log line (timestamp stream tag text)");
  }
  LogEntry e;
  e.time = BERTH_TRY(ParseRfc3339(f[0]));
  if (f[1] != "stdout" && f[1] != "stderr") {
    return Error(Errc::kInvalidArgument, "unexpected stream type \"" + std::string(f[1]) + "\"");
  }
  e.stderr = f[1] == "stderr";
  // Tags are ':'-separated for forward compatibility; the first says P(artial) or F(ull).
  std::string_view tag = f[2].substr(0, f[2].find(':'));
  if (tag == "P" && rest.ends_with('\n')) rest.remove_suffix(1);
  e.text = std::string(rest);
  return e;
}

Result<LogEntry> ParseDockerJsonLogLine(std::string_view line) {
  boost::system::error_code ec;
  bj::value v = bj::parse(line, ec);
  if (ec || !v.is_object()) return Error(Errc::kInvalidArgument, "not a JSON log line");
  const bj::object& o = v.as_object();
  auto text = [&](std::string_view key) {
    const bj::value* x = o.if_contains(key);
    return x != nullptr && x->is_string() ? std::string(x->as_string()) : std::string();
  };
  LogEntry e;
  std::string stream = text("stream");
  if (stream != "stdout" && stream != "stderr") {
    return Error(Errc::kInvalidArgument, "unexpected stream type \"" + stream + "\"");
  }
  e.stderr = stream == "stderr";
  e.time = BERTH_TRY(ParseRfc3339(text("time")));
  e.text = text("log");
  return e;
}

Result<int64_t> FindTailStart(int fd, int64_t n) {
  if (n < 0) return int64_t{0};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error::Sys("fstat", "log file");
  constexpr int64_t kBlock = 4096;
  int64_t size = st.st_size;
  int64_t left = 0;
  int64_t count = 0;
  std::string block;
  // Read blocks backwards until more than n newlines are behind us.
  for (int64_t right = size; right > 0 && count <= n; right -= kBlock) {
    left = std::max<int64_t>(right - kBlock, 0);
    block.resize(static_cast<size_t>(right - left));
    ssize_t got = ::pread(fd, block.data(), block.size(), left);
    if (got < 0) return Error::Sys("pread", "log file");
    block.resize(static_cast<size_t>(got));
    for (char c : block)
      if (c == '\n') ++count;
  }
  // Skip whole lines at the front of the first block until n are left.
  size_t pos = 0;
  for (; count > n; --count) {
    size_t nl = block.find('\n', pos);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return left + static_cast<int64_t>(pos);
}

Result<CriLogFile> CriLogFile::Open(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    return Error::Sys("failed to try resolving symlinks in path", path);
  }
  int fd = ::open(resolved, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::Sys("failed to open log file", resolved);
  return CriLogFile(resolved, UniqueFd(fd));
}

namespace {

// Applies since/timestamps/limitBytes to entries and batches the output.
class EntryWriter {
 public:
  EntryWriter(const LogOptions& o, LogSink& sink)
      : o_(o), sink_(sink), remain_(o.limit_bytes >= 0 ? o.limit_bytes : INT64_MAX) {}

  // False once the limit is reached or the client is gone.
  bool Write(const LogEntry& e) {
    if (e.time.unix_nanos < o_.since_unix_nanos) return true;
    std::string line;
    if (o_.timestamps) line = FormatRfc3339NanoFixed(e.time) + " ";
    line += e.text;
    if (static_cast<int64_t>(line.size()) > remain_) line.resize(static_cast<size_t>(remain_));
    pending_ += line;
    remain_ -= static_cast<int64_t>(line.size());
    if (pending_.size() >= kFlushBytes && !Flush()) return false;
    return remain_ > 0;
  }
  bool Flush() {
    if (pending_.empty()) return true;
    bool ok = sink_.Write(pending_);
    pending_.clear();
    return ok;
  }
  bool LimitReached() const { return remain_ <= 0; }

 private:
  const LogOptions& o_;
  LogSink& sink_;
  int64_t remain_;
  std::string pending_;
};

// inotify on the followed file: wakes the wait on writes and on the file
// being renamed, removed or replaced (a rotation).
class FileWatch {
 public:
  Status Watch(const std::string& path) {
    if (!fd_.valid()) {
      fd_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
      if (!fd_.valid()) return Error::Sys("inotify_init1", path);
    }
    if (wd_ >= 0) ::inotify_rm_watch(fd_.get(), wd_);
    wd_ = ::inotify_add_watch(fd_.get(), path.c_str(),
                              IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF);
    if (wd_ < 0) return Error::Sys("inotify_add_watch", path);
    return Ok();
  }
  int fd() const { return fd_.get(); }
  void Drain() {
    char buf[4096];
    while (::read(fd_.get(), buf, sizeof buf) > 0) {
    }
  }

 private:
  UniqueFd fd_;
  int wd_ = -1;
};

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

Status CriLogFile::Stream(const LogOptions& o, LogSink& sink,
                          const std::function<bool()>& running) {
  int64_t start = BERTH_TRY_CTX(
      FindTailStart(fd_.get(), o.tail_lines),
      "failed to tail " + std::to_string(o.tail_lines) + " lines of log file " + path_);
  if (::lseek(fd_.get(), start, SEEK_SET) < 0) return Error::Sys("lseek", path_);
  int64_t offset = start;
  bool limited = o.tail_lines >= 0 && !o.follow;
  int64_t lines_left = o.tail_lines;
  EntryWriter writer(o, sink);
  FileWatch watch;
  bool watching = false;
  bool found = true;  // the container was running at the last check
  bool stop = false;
  Result<LogEntry> (*parse)(std::string_view) = nullptr;
  std::string buf;
  size_t pos = 0;  // start of the unread part of buf

  for (;;) {
    if (stop || (limited && lines_left == 0)) break;
    size_t nl = buf.find('\n', pos);
    std::string_view line;
    if (nl != std::string::npos) {
      line = std::string_view(buf).substr(pos, nl + 1 - pos);
      pos = nl + 1;
    } else {
      buf.erase(0, pos);
      pos = 0;
      size_t had = buf.size();
      buf.resize(had + kReadChunk);
      ssize_t got = ::read(fd_.get(), buf.data() + had, kReadChunk);
      if (got < 0) return Error::Sys("failed to read log file", path_);
      buf.resize(had + static_cast<size_t>(got));
      offset += got;
      if (got > 0) continue;
      // End of file.
      if (o.follow) {
        if (!writer.Flush()) return Ok();
        if (!found) break;  // the container stopped and everything is read
        if (!watching) {
          BERTH_TRY(watch.Watch(path_));
          watching = true;
          continue;  // writes may have come before the watch
        }
        found = running();
        if (!found) continue;  // read to the end once more
        pollfd fds[2] = {{watch.fd(), POLLIN, 0}, {sink.wait_fd(), POLLRDHUP, 0}};
        int ready = ::poll(fds, sink.wait_fd() >= 0 ? 2 : 1, kForceCheckMillis);
        if (ready < 0 && errno != EINTR) return Error::Sys("poll", path_);
        watch.Drain();
        if (sink.Gone()) return Ok();
        struct stat now {};
        struct stat at_path {};
        if (::fstat(fd_.get(), &now) == 0 && now.st_size < offset) {
          // Truncated in place (copytruncate): start over.
          if (::lseek(fd_.get(), 0, SEEK_SET) < 0) return Error::Sys("lseek", path_);
          offset = 0;
          buf.clear();
          continue;
        }
        if (::stat(path_.c_str(), &at_path) == 0 && !SameFile(now, at_path)) {
          // Rotated: the runtime writes a new file at the path. What reached
          // the old one meanwhile is read first.
          std::string rest;
          char chunk[kReadChunk];
          ssize_t n;
          while ((n = ::read(fd_.get(), chunk, sizeof chunk)) > 0)
            rest.append(chunk, static_cast<size_t>(n));
          if (!rest.empty()) {
            offset += static_cast<int64_t>(rest.size());
            buf += rest;
            // Lines of the old file are handled by the loop; switch after.
            continue;
          }
          int fresh = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
          if (fresh < 0) continue;  // gone again; the next check retries
          fd_.reset(fresh);
          offset = 0;
          BERTH_TRY(watch.Watch(path_));
        }
        continue;
      }
      stop = true;
      if (buf.empty()) continue;
      line = buf;  // the last line has no newline
      pos = buf.size();
    }
    if (parse == nullptr) {
      if (ParseCriLogLine(line).ok()) {
        parse = ParseCriLogLine;
      } else if (ParseDockerJsonLogLine(line).ok()) {
        parse = ParseDockerJsonLogLine;
      } else {
        return Error(Errc::kInvalidArgument,
                     "failed to get parse function: unsupported log format in " + path_);
      }
    }
    Result<LogEntry> entry = parse(line);
    if (!entry.ok()) {
      BLOG(kWarn) << "log file " << path_ << ": skipping a line: " << entry.error().str();
      continue;
    }
    if (!writer.Write(*entry)) break;
    if (limited) --lines_left;
  }
  writer.Flush();
  return Ok();
}

}  // namespace berth::agent::kubelet
