#pragma once
// Service account tokens of projected volumes, kept until they near their
// end as upstream's kubelet token manager keeps them: a token is requested
// again past 80% of its requested lifetime or 24 h after it was issued;
// while a refresh fails the old token serves until it expires.

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "volumes/sources.h"

namespace berth::volumes {

struct TokenKey {
  std::string ns;
  std::string service_account;
  std::string audience;
  int64_t expiration_seconds = 0;
  std::string pod_name;
  std::string pod_uid;
  auto operator<=>(const TokenKey&) const = default;
};

class TokenCache {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  explicit TokenCache(Clock clock = &std::chrono::system_clock::now);

  Result<std::string> Get(const TokenKey& key, const decltype(Sources::token)& request);
  // Drops the tokens of a pod (after its volumes are torn down).
  void ForgetPod(const std::string& pod_uid);

  static bool NeedsRefresh(std::chrono::system_clock::time_point now,
                           std::chrono::system_clock::time_point expiration,
                           int64_t expiration_seconds);

 private:
  struct Entry {
    std::string token;
    std::chrono::system_clock::time_point expiration;
  };
  Clock clock_;
  std::mutex mu_;
  std::map<TokenKey, Entry> entries_;
};

}  // namespace berth::volumes
