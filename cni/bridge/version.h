#pragma once
// CNI spec versions this plugin speaks, and their ordering.

#include <string_view>

namespace berth::cni::bridge {

// Oldest first. 0.3.0 is the first with the interfaces/ips result; CHECK
// needs 0.4.0; STATUS and GC need 1.1.0.
inline constexpr std::string_view kSupportedVersions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0",
                                                          "1.1.0"};
inline constexpr std::string_view kLatestVersion = "1.1.0";

bool IsSupportedVersion(std::string_view version);
// Semantic-version comparison of "major.minor.patch" strings; a malformed
// version compares below every valid one.
bool IsVersionAtLeast(std::string_view version, std::string_view minimum);

}  // namespace berth::cni::bridge
