#pragma once
// The API's answers that are computed, not stored: TokenReview,
// SelfSubjectReview (`kubectl auth whoami`), SubjectAccessReview,
// LocalSubjectAccessReview, SelfSubjectAccessReview (`kubectl auth
// can-i`), SelfSubjectRulesReview (`kubectl auth can-i --list`), and
// TokenRequest (serviceaccounts/<name>/token, `kubectl create token`).

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "controlplane/server/auth/authorizer.h"
#include "controlplane/server/auth/service_account_token.h"
#include "controlplane/server/authn.h"
#include "controlplane/server/registry/call.h"
#include "controlplane/storage/store.h"

namespace berth::controlplane {

class Reviews {
 public:
  Reviews(const Authenticator& authenticator, auth::Authorizer& authorizer,
          const auth::ServiceAccountTokens& tokens, storage::Store& store)
      : authenticator_(authenticator), authorizer_(authorizer), tokens_(tokens), store_(store) {}

  // Whether `info` names one of these (a POST of a review type, or a
  // service account's token).
  static bool Handles(const api::RequestInfo& info);
  void Serve(const UserInfo& user, registry::Call& c);

 private:
  // Both set `error` instead when the request is refused.
  boost::json::object Review(const UserInfo& user, registry::Call& c,
                             const boost::json::object& body, std::optional<api::ApiStatus>& error);
  boost::json::object TokenRequest(registry::Call& c, const boost::json::object& body,
                                   std::optional<api::ApiStatus>& error);
  boost::json::object RulesReview(const UserInfo& user, const std::string& ns);

  const Authenticator& authenticator_;
  auth::Authorizer& authorizer_;
  const auth::ServiceAccountTokens& tokens_;
  storage::Store& store_;
};

// The attributes of a SubjectAccessReview spec (resourceAttributes or
// nonResourceAttributes) for `user`.
auth::Attributes AttributesOf(const boost::json::object& spec, const UserInfo& user);

}  // namespace berth::controlplane
