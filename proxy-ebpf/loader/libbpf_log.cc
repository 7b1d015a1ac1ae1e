#include "proxy-ebpf/loader/libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace berth::proxy {
namespace {

// A failed load prints the verifier log in one go; keep its tail, which
// says why, within a bound.
constexpr size_t kKeepBytes = 64 * 1024;

thread_local std::string captured;

int Print(enum libbpf_print_level level, const char* format, va_list args) {
  char line[2048];
  int n = vsnprintf(line, sizeof(line), format, args);
  if (n <= 0) return 0;
  std::string text(line, std::min<size_t>(static_cast<size_t>(n), sizeof(line) - 1));
  if (level != LIBBPF_DEBUG) {
    captured += text;
    if (captured.size() > kKeepBytes) captured.erase(0, captured.size() - kKeepBytes);
  }
  return n;
}

}  // namespace

void RouteLibbpfLogs() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(Print); });
}

std::string TakeLibbpfLog() {
  std::string out;
  out.swap(captured);
  return out;
}

}  // namespace berth::proxy
