#pragma once
// Who a kubelet API request is from and whether they may make it, as
// kubelet's delegated auth does:
//   authentication: a verified client certificate (CN the user, each O a
//   group), else a bearer token checked with a TokenReview (cached for
//   authentication.webhook.cacheTTL, 2 minutes), else anonymous when
//   enabled; authenticated users get the group system:authenticated.
//   authorization: a SubjectAccessReview per request for the node's
//   nodes/<subresource> (cached 5 minutes when allowed, 30 s when not), or
//   AlwaysAllow.

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/server/https_front.h"
#include "common/error.h"

namespace berth::controlplane::client {
class ApiClient;
}

namespace berth::agent::kubelet {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

// POSTs a review (`body`) to `path` and returns the answer: what the
// authenticator and authorizer need from the apiserver.
using ReviewPoster = std::function<Result<boost::json::object>(const std::string& path,
                                                               const boost::json::object& body)>;
ReviewPoster ReviewPosterFor(controlplane::client::ApiClient& api);

// Entries live until `ttl` after they were stored; the oldest are dropped
// when it grows past `max_entries`.
template <class Value>
class TtlCache {
 public:
  explicit TtlCache(size_t max_entries = 4096) : max_entries_(max_entries) {}
  std::optional<Value> Get(const std::string& key);
  void Put(const std::string& key, Value value, std::chrono::steady_clock::duration ttl);

 private:
  struct Entry {
    Value value;
    std::chrono::steady_clock::time_point expires;
  };
  std::mutex mu_;
  size_t max_entries_;
  std::map<std::string, Entry> entries_;
};

template <class Value>
std::optional<Value> TtlCache<Value>::Get(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires <= std::chrono::steady_clock::now()) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.value;
}

template <class Value>
void TtlCache<Value>::Put(const std::string& key, Value value,
                          std::chrono::steady_clock::duration ttl) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (entries_.size() >= max_entries_) {
    std::erase_if(entries_, [&](const auto& e) { return e.second.expires <= now; });
    // Still full: forget everything rather than track ages; the next
    // requests just ask again.
    if (entries_.size() >= max_entries_) entries_.clear();
  }
  entries_.insert_or_assign(key, Entry{std::move(value), now + ttl});
}

struct AuthnConfig {
  bool x509 = true;  // client certificates are requested (a client CA is set)
  bool webhook = true;
  bool anonymous = false;
  std::chrono::seconds cache_ttl{120};
};

struct AuthnResult {
  std::optional<UserInfo> user;  // none: 401
  std::string failure;           // why, for the log
};

class Authenticator {
 public:
  Authenticator(AuthnConfig config, ReviewPoster poster)
      : config_(config), poster_(std::move(poster)) {}
  AuthnResult Authenticate(const PeerCertificate& peer, const std::string& authorization) const;

 private:
  struct Review {
    bool authenticated = false;
    UserInfo user;
    std::string error;
  };
  Result<Review> ReviewToken(const std::string& token) const;

  AuthnConfig config_;
  ReviewPoster poster_;
  mutable TtlCache<Review> cache_;
};

struct Attributes {
  UserInfo user;
  std::string verb;
  std::string resource = "nodes";
  std::string subresource;
  std::string name;  // the node
  std::string path;
};

enum class AuthzMode { kWebhook, kAlwaysAllow };

class Authorizer {
 public:
  Authorizer(AuthzMode mode, ReviewPoster poster,
             std::chrono::seconds allowed_ttl = std::chrono::minutes(5),
             std::chrono::seconds denied_ttl = std::chrono::seconds(30))
      : mode_(mode),
        poster_(std::move(poster)),
        allowed_ttl_(allowed_ttl),
        denied_ttl_(denied_ttl) {}
  // Whether `a` is allowed; an error when the apiserver could not say.
  Result<bool> Authorize(const Attributes& a) const;

 private:
  AuthzMode mode_;
  ReviewPoster poster_;
  std::chrono::seconds allowed_ttl_;
  std::chrono::seconds denied_ttl_;
  mutable TtlCache<bool> cache_;
};

// The SubjectAccessReview upstream's webhook authorizer sends for `a`.
boost::json::object SubjectAccessReviewFor(const Attributes& a);

}  // namespace berth::agent::kubelet
