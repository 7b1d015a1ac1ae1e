#pragma once
// Standard base64 (RFC 4648 section 4): HTTP Basic credentials, the "auth"
// field of Docker's config.json, kubeconfig and Secret data.

#include <optional>
#include <string>
#include <string_view>

namespace berth {

std::string Base64Encode(std::string_view data);
// nullopt on a character outside the alphabet or a bad length; padding is
// optional.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace berth
