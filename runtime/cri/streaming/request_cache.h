#pragma once
// One-time tokens for cached streaming requests, as kubelet's requestCache:
// 8 URL-safe random characters, valid for a TTL, consumed on first use, at
// most max_in_flight cached at once (expired entries are collected on
// Insert).

#include <chrono>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>

#include "common/error.h"
#include "runtime/cri/streaming/backend.h"

namespace berth::cri::streaming {

using CachedRequest = std::variant<ExecRequest, AttachRequest, PortForwardRequest>;

class RequestCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  RequestCache(std::chrono::nanoseconds ttl, size_t max_in_flight, Clock clock = {});

  // The token, or ResourceExhausted when max_in_flight requests are cached.
  Result<std::string> Insert(CachedRequest req);
  // The request, removing it; nullopt when unknown or expired.
  std::optional<CachedRequest> Consume(const std::string& token);
  size_t size() const;

 private:
  struct Entry {
    std::string token;
    CachedRequest req;
    std::chrono::steady_clock::time_point expires;
  };
  std::chrono::steady_clock::time_point Now() const;
  void CollectExpired();              // mu_ held
  Result<std::string> UniqueToken();  // mu_ held

  std::chrono::nanoseconds ttl_;
  size_t max_in_flight_;
  Clock clock_;
  mutable std::mutex mu_;
  std::list<Entry> entries_;  // newest first
  std::unordered_map<std::string, std::list<Entry>::iterator> by_token_;
};

// base64url without padding (RFC 4648 section 5).
std::string Base64UrlEncode(std::string_view bytes);

}  // namespace berth::cri::streaming
