#include "common/log.h"

#include <unistd.h>

#include <string>

#include "common/strings.h"
#include "common/time.h"

namespace berth::log {
namespace {

Config g_config;

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warning";
    case Level::kError:
      return "error";
    case Level::kFatal:
      return "fatal";
  }
  return "info";
}

// logrus text format quotes values that contain anything beyond a safe set.
std::string QuoteText(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

void Configure(const Config& config) {
  if (g_config.owns_fd && g_config.fd != config.fd) close(g_config.fd);
  g_config = config;
}

const Config& Current() {
  return g_config;
}

bool Enabled(Level level) {
  return level >= g_config.min_level;
}

std::string Render(Format format, Level level, std::string_view message, std::string_view time) {
  if (format == Format::kJson) {
    return std::string("{\"level\":\"") + LevelName(level) + "\",\"msg\":" + JsonQuote(message) +
           ",\"time\":" + JsonQuote(time) + "}\n";
  }
  return "time=" + QuoteText(time) + " level=" + LevelName(level) + " msg=" + QuoteText(message) +
         "\n";
}

void Write(Level level, std::string_view message) {
  if (!Enabled(level)) return;
  std::string line = Render(g_config.format, level, message, FormatRfc3339Nano(WallClockNow()));
  // One write(2) per line so concurrent writers (O_APPEND) never interleave.
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = ::write(g_config.fd, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace berth::log
