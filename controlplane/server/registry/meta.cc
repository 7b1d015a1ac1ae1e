#include "controlplane/server/registry/meta.h"

#include <sys/random.h>

#include <cstdint>
#include <cstdio>

#include "common/time.h"

namespace berth::controlplane::registry {
namespace {

void Random(void* buf, size_t n) {
  auto* p = static_cast<uint8_t*>(buf);
  while (n > 0) {
    ssize_t got = ::getrandom(p, n, 0);
    if (got <= 0) continue;  // EINTR; getrandom does not fail otherwise once seeded
    p += got;
    n -= static_cast<size_t>(got);
  }
}

}  // namespace

std::string NewUid() {
  uint8_t b[16];
  Random(b, sizeof b);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::string NameSuffix() {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  uint8_t b[5];
  Random(b, sizeof b);
  std::string out;
  for (uint8_t c : b)
    out += kAlphabet[c % (sizeof kAlphabet - 1)];
  return out;
}

std::string NowRfc3339() {
  return FormatRfc3339(WallClockNow().tv_sec);
}

std::string Rfc3339After(int64_t seconds) {
  return FormatRfc3339(WallClockNow().tv_sec + seconds);
}

}  // namespace berth::controlplane::registry
