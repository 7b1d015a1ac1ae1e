#pragma once
// Process-wide logging in the two formats runc users parse: logrus text
// (`time="..." level=info msg="..."`) and JSON lines
// (`{"level":"info","msg":"...","time":"..."}`), which containerd's runc shim
// reads from log.json to surface the last error.
//
//   BLOG(kInfo) << "created container " << id;

#include <sstream>
#include <string>
#include <string_view>

namespace berth::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError, kFatal };
enum class Format { kText, kJson };

struct Config {
  Level min_level = Level::kWarn;
  Format format = Format::kText;
  int fd = 2;  // not owned unless owns_fd
  bool owns_fd = false;
};

// Replaces the process-wide configuration (closing an owned previous fd).
void Configure(const Config& config);
const Config& Current();
bool Enabled(Level level);
void Write(Level level, std::string_view message);

// One log line, written when the temporary is destroyed.
class Line {
 public:
  explicit Line(Level level) : level_(level) {}
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;
  ~Line() { Write(level_, stream_.str()); }
  template <class T>
  Line& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  Level level_;
  std::ostringstream stream_;
};

// Renders one line in `format`; exposed for tests.
std::string Render(Format format, Level level, std::string_view message, std::string_view time);

}  // namespace berth::log

namespace berth::log {
// Turns `Line(...) << a << b` into a void expression for BLOG's ternary.
struct Voidify {
  void operator&(Line&) {}
};
}  // namespace berth::log

// A ternary rather than if/else, so `if (x) BLOG(kWarn) << y;` is safe.
#define BLOG(level)                                  \
  !::berth::log::Enabled(::berth::log::Level::level) \
      ? (void)0                                      \
      : ::berth::log::Voidify() & ::berth::log::Line(::berth::log::Level::level)
