#pragma once
// CNI spec versions: which ones this client speaks, and ordering.
//
// Configurations may name any of kSupportedVersions. Results of the 0.3.x /
// 0.4.0 family (ips[].version present) and of the 1.x family (no version
// field) convert into each other; 0.1.0/0.2.0 (ip4/ip6 results) are not
// spoken.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::cni {

// The newest spec version this client implements (STATUS, cniVersions).
inline constexpr std::string_view kSpecVersion = "1.1.0";
inline constexpr std::array<std::string_view, 5> kSupportedVersions = {"0.3.0", "0.3.1", "0.4.0",
                                                                       "1.0.0", "1.1.0"};

struct SemVer {
  int major = 0, minor = 0, patch = 0;
  auto operator<=>(const SemVer&) const = default;
};

// "1.0.0" -> {1,0,0}; "1.0" is accepted as {1,0,0} like libcni.
Result<SemVer> ParseSemVer(std::string_view text);
bool IsSupportedVersion(std::string_view version);
// version >= min; an unparsable version compares as false.
bool VersionAtLeast(std::string_view version, std::string_view min);
// The newest of `versions` this client supports (cniVersions of spec 1.1);
// nullopt when none.
std::optional<std::string> NewestSupported(const std::vector<std::string>& versions);
// "0.3.0, 0.3.1, ..." for error messages.
std::string SupportedVersionsText();

// What a plugin answered to VERSION.
struct VersionInfo {
  std::string cni_version;
  std::vector<std::string> supported_versions;
  bool Supports(std::string_view version) const;
};

}  // namespace berth::cni
