#include "volumes/token_cache.h"

#include <optional>

#include "common/log.h"

namespace berth::volumes {

TokenCache::TokenCache(Clock clock) : clock_(std::move(clock)) {}

bool TokenCache::NeedsRefresh(std::chrono::system_clock::time_point now,
                              std::chrono::system_clock::time_point expiration,
                              int64_t expiration_seconds) {
  const auto lifetime = std::chrono::seconds(expiration_seconds);
  const auto issued = expiration - lifetime;
  if (now >= issued + std::chrono::hours(24)) return true;
  return now >= expiration - lifetime / 5;
}

Result<std::string> TokenCache::Get(const TokenKey& key, const decltype(Sources::token)& request) {
  const auto now = clock_();
  std::optional<Entry> cached;
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) cached = it->second;
  }
  if (cached && !NeedsRefresh(now, cached->expiration, key.expiration_seconds)) {
    return cached->token;
  }
  if (!request) return Error(Errc::kUnimplemented, "failed to fetch token: no TokenRequest source");
  auto fetched = request(key.ns, key.service_account, key.audience, key.expiration_seconds,
                         key.pod_name, key.pod_uid);
  if (!fetched.ok()) {
    if (!cached)
      return Error(fetched.error().code(), "failed to fetch token: " + fetched.error().str());
    if (now >= cached->expiration) {
      return Error(fetched.error().code(),
                   "token of service account " + key.ns + "/" + key.service_account +
                       " expired and refresh failed: " + fetched.error().str());
    }
    BLOG(kWarn) << "couldn't refresh token of service account " << key.ns << "/"
                << key.service_account << " for pod " << key.pod_name << ": "
                << fetched.error().str();
    return cached->token;
  }
  std::lock_guard lock(mu_);
  entries_[key] = Entry{fetched->first, fetched->second};
  return fetched->first;
}

void TokenCache::ForgetPod(const std::string& pod_uid) {
  std::lock_guard lock(mu_);
  std::erase_if(entries_, [&](const auto& entry) { return entry.first.pod_uid == pod_uid; });
}

}  // namespace berth::volumes
