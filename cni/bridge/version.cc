#include "cni/bridge/version.h"

#include <array>
#include <charconv>
#include <optional>

namespace berth::cni::bridge {
namespace {

std::optional<std::array<int, 3>> ParseSemver(std::string_view v) {
  std::array<int, 3> parts{};
  const char* p = v.data();
  const char* end = v.data() + v.size();
  for (size_t i = 0; i < parts.size(); ++i) {
    auto [next, ec] = std::from_chars(p, end, parts[i]);
    if (ec != std::errc() || next == p) return std::nullopt;
    p = next;
    if (i + 1 < parts.size()) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
  }
  if (p != end) return std::nullopt;
  return parts;
}

}  // namespace

bool IsSupportedVersion(std::string_view version) {
  for (std::string_view v : kSupportedVersions) {
    if (v == version) return true;
  }
  return false;
}

bool IsVersionAtLeast(std::string_view version, std::string_view minimum) {
  auto a = ParseSemver(version);
  auto b = ParseSemver(minimum);
  if (!a || !b) return false;
  return *a >= *b;
}

}  // namespace berth::cni::bridge
