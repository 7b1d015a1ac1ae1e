#include "cni/client/version.h"

#include <algorithm>

#include "common/strings.h"

namespace berth::cni {

Result<SemVer> ParseSemVer(std::string_view text) {
  std::vector<std::string> parts = Split(text, '.');
  if (parts.size() < 2 || parts.size() > 3) {
    return Error(Errc::kInvalidArgument, "invalid version \"" + std::string(text) + "\"");
  }
  SemVer v;
  int* fields[3] = {&v.major, &v.minor, &v.patch};
  for (size_t i = 0; i < parts.size(); ++i) {
    auto n = ParseInt<int>(parts[i], "version \"" + std::string(text) + "\"");
    if (!n.ok() || *n < 0) {
      return Error(Errc::kInvalidArgument, "invalid version \"" + std::string(text) + "\"");
    }
    *fields[i] = *n;
  }
  return v;
}

bool IsSupportedVersion(std::string_view version) {
  return std::find(kSupportedVersions.begin(), kSupportedVersions.end(), version) !=
         kSupportedVersions.end();
}

bool VersionAtLeast(std::string_view version, std::string_view min) {
  auto a = ParseSemVer(version);
  auto b = ParseSemVer(min);
  return a.ok() && b.ok() && *a >= *b;
}

std::optional<std::string> NewestSupported(const std::vector<std::string>& versions) {
  std::optional<std::string> best;
  for (const std::string& v : versions) {
    if (!IsSupportedVersion(v)) continue;
    if (!best || VersionAtLeast(v, *best)) best = v;
  }
  return best;
}

std::string SupportedVersionsText() {
  std::vector<std::string> all(kSupportedVersions.begin(), kSupportedVersions.end());
  return Join(all, ", ");
}

bool VersionInfo::Supports(std::string_view version) const {
  return std::find(supported_versions.begin(), supported_versions.end(), version) !=
         supported_versions.end();
}

}  // namespace berth::cni
