#include "runtime/cri/streaming/request_cache.h"

#include <sys/random.h>

namespace berth::cri::streaming {
namespace {

constexpr size_t kTokenLen = 8;
constexpr size_t kTokenBytes = 6;  // 6 bytes encode to exactly 8 characters

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    for (int s = 18; s >= 0; s -= 6)
      out += kAlphabet[(v >> s) & 63];
  }
  if (bytes.size() - i == 1) {
    uint32_t v = at(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    uint32_t v = at(i) << 16 | at(i + 1) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

RequestCache::RequestCache(std::chrono::nanoseconds ttl, size_t max_in_flight, Clock clock)
    : ttl_(ttl), max_in_flight_(max_in_flight), clock_(std::move(clock)) {}

std::chrono::steady_clock::time_point RequestCache::Now() const {
  return clock_ ? clock_() : std::chrono::steady_clock::now();
}

void RequestCache::CollectExpired() {
  auto now = Now();
  while (!entries_.empty() && now > entries_.back().expires) {
    by_token_.erase(entries_.back().token);
    entries_.pop_back();
  }
}

Result<std::string> RequestCache::UniqueToken() {
  for (int attempt = 0; attempt < 10; ++attempt) {
    char raw[kTokenBytes];
    size_t got = 0;
    while (got < sizeof raw) {
      ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error::Sys("getrandom", "streaming token");
      }
      got += static_cast<size_t>(n);
    }
    std::string token = Base64UrlEncode(std::string_view(raw, sizeof raw)).substr(0, kTokenLen);
    if (!by_token_.contains(token)) return token;
  }
  return Error(Errc::kInternal, "failed to generate unique token");
}

Result<std::string> RequestCache::Insert(CachedRequest req) {
  std::lock_guard lock(mu_);
  CollectExpired();
  if (entries_.size() >= max_in_flight_) {
    return Error(Errc::kResourceExhausted, "maximum number of in-flight requests exceeded");
  }
  std::string token = BERTH_TRY(UniqueToken());
  entries_.push_front(Entry{token, std::move(req), Now() + ttl_});
  by_token_[token] = entries_.begin();
  return token;
}

std::optional<CachedRequest> RequestCache::Consume(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = by_token_.find(token);
  if (it == by_token_.end()) return std::nullopt;
  Entry entry = std::move(*it->second);
  entries_.erase(it->second);
  by_token_.erase(it);
  if (Now() > entry.expires) return std::nullopt;
  return std::move(entry.req);
}

size_t RequestCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace berth::cri::streaming
