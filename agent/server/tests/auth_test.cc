// Authentication and authorization against a fake apiserver: who a
// request is from, the reviews sent, and what is cached for how long.

#include "agent/server/auth.h"

#include <gtest/gtest.h>

#include <thread>

namespace berth::agent::kubelet {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;

// Answers reviews as the test says and remembers what it was asked.
struct FakeReviews {
  std::vector<std::pair<std::string, bj::object>> asked;
  std::function<Result<bj::object>(const bj::object&)> answer;

  ReviewPoster Poster() {
    return [this](const std::string& path, const bj::object& body) -> Result<bj::object> {
      asked.emplace_back(path, body);
      return answer(body);
    };
  }
};

PeerCertificate Cert(bool verified, std::string cn, std::vector<std::string> o) {
  PeerCertificate p;
  p.presented = true;
  p.verified = verified;
  p.verify_error = verified ? "" : "unable to get local issuer certificate";
  p.common_name = std::move(cn);
  p.organizations = std::move(o);
  return p;
}

TEST(AuthnTest, VerifiedClientCertificateNamesUserAndGroups) {
  FakeReviews reviews;
  Authenticator a({true, true, false}, reviews.Poster());
  AuthnResult r =
      a.Authenticate(Cert(true, "kube-apiserver-kubelet-client", {"system:masters"}), "");
  ASSERT_TRUE(r.user);
  EXPECT_EQ(r.user->name, "kube-apiserver-kubelet-client");
  EXPECT_EQ(r.user->groups, (std::vector<std::string>{"system:masters", "system:authenticated"}));
  EXPECT_TRUE(reviews.asked.empty());
}

TEST(AuthnTest, AnonymousOnlyWhenEnabledAndWithoutFailedCredentials) {
  FakeReviews reviews;
  Authenticator closed({true, true, false}, reviews.Poster());
  EXPECT_FALSE(closed.Authenticate({}, "").user);
  Authenticator open({true, true, true}, reviews.Poster());
  AuthnResult anon = open.Authenticate({}, "");
  ASSERT_TRUE(anon.user);
  EXPECT_EQ(anon.user->name, "system:anonymous");
  EXPECT_EQ(anon.user->groups, (std::vector<std::string>{"system:unauthenticated"}));
  // A certificate that does not verify is a failed credential: 401, not anonymous.
  AuthnResult bad = open.Authenticate(Cert(false, "mallory", {"system:masters"}), "");
  EXPECT_FALSE(bad.user);
  EXPECT_NE(bad.failure.find("unable to get local issuer"), std::string::npos) << bad.failure;
  // Without a client CA, certificates are not looked at.
  Authenticator no_ca({false, true, false}, reviews.Poster());
  EXPECT_FALSE(no_ca.Authenticate(Cert(true, "alice", {}), "").user);
}

TEST(AuthnTest, BearerTokensGoThroughCachedTokenReviews) {
  FakeReviews reviews;
  reviews.answer = [](const bj::object& body) -> Result<bj::object> {
    std::string token(body.at("spec").at("token").as_string());
    if (token != "good") {
      return bj::object{{"status", bj::object{{"authenticated", false}, {"error", "expired"}}}};
    }
    return bj::object{
        {"status", bj::object{{"authenticated", true},
                              {"user", bj::object{{"username", "system:serviceaccount:ns:sa"},
                                                  {"uid", "u-1"},
                                                  {"groups", bj::array{"system:serviceaccounts"}},
                                                  {"extra", bj::object{{"k", bj::array{"v"}}}}}}}}};
  };
  Authenticator a({true, true, true}, reviews.Poster());
  AuthnResult r = a.Authenticate({}, "Bearer good");
  ASSERT_TRUE(r.user) << r.failure;
  EXPECT_EQ(r.user->name, "system:serviceaccount:ns:sa");
  EXPECT_EQ(r.user->uid, "u-1");
  EXPECT_EQ(r.user->groups,
            (std::vector<std::string>{"system:serviceaccounts", "system:authenticated"}));
  EXPECT_EQ(r.user->extra.at("k"), (std::vector<std::string>{"v"}));
  ASSERT_EQ(reviews.asked.size(), 1u);
  EXPECT_EQ(reviews.asked[0].first, "/apis/authentication.k8s.io/v1/tokenreviews");
  EXPECT_EQ(reviews.asked[0].second.at("kind"), "TokenReview");
  EXPECT_TRUE(a.Authenticate({}, "bearer good").user);  // the scheme is case-insensitive
  EXPECT_EQ(reviews.asked.size(), 1u);                  // cached

  // A rejected token is a 401 even with anonymous enabled.
  AuthnResult bad = a.Authenticate({}, "Bearer bad");
  EXPECT_FALSE(bad.user);
  EXPECT_EQ(bad.failure, "expired");
  // The apiserver unreachable: 401, and not cached.
  reviews.answer = [](const bj::object&) -> Result<bj::object> {
    return Error(Errc::kUnavailable, "connection refused");
  };
  EXPECT_FALSE(a.Authenticate({}, "Bearer other").user);
  EXPECT_FALSE(a.Authenticate({}, "Bearer other").user);
  EXPECT_EQ(reviews.asked.size(), 4u);
  // A failed certificate does not stop a good token.
  EXPECT_TRUE(a.Authenticate(Cert(false, "x", {}), "Bearer good").user);
  // Webhook authentication off: tokens are ignored.
  Authenticator no_webhook({true, false, false}, reviews.Poster());
  EXPECT_FALSE(no_webhook.Authenticate({}, "Bearer good").user);
}

TEST(AuthzTest, SubjectAccessReviewsAreCachedLongerWhenAllowed) {
  FakeReviews reviews;
  reviews.answer = [](const bj::object& body) -> Result<bj::object> {
    const bj::object& spec = body.at("spec").as_object();
    bool allowed = spec.at("user") == "alice";
    return bj::object{{"status", bj::object{{"allowed", allowed}}}};
  };
  Authorizer authz(AuthzMode::kWebhook, reviews.Poster(), 2s, 1s);
  Attributes a;
  a.user = {"alice", "uid-a", {"devs", "system:authenticated"}, {{"scopes", {"x"}}}};
  a.verb = "get";
  a.subresource = "proxy";
  a.name = "n1";
  a.path = "/containerLogs/ns/p/c";
  EXPECT_TRUE(*authz.Authorize(a));
  ASSERT_EQ(reviews.asked.size(), 1u);
  EXPECT_EQ(reviews.asked[0].first, "/apis/authorization.k8s.io/v1/subjectaccessreviews");
  EXPECT_EQ(bj::serialize(reviews.asked[0].second),
            R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{)"
            R"("resourceAttributes":{"verb":"get","version":"v1","resource":"nodes",)"
            R"("subresource":"proxy","name":"n1"},"user":"alice","groups":["devs",)"
            R"("system:authenticated"],"uid":"uid-a","extra":{"scopes":["x"]}}})");
  Attributes b = a;
  b.user.name = "bob";
  EXPECT_FALSE(*authz.Authorize(b));
  EXPECT_TRUE(*authz.Authorize(a));
  EXPECT_FALSE(*authz.Authorize(b));
  EXPECT_EQ(reviews.asked.size(), 2u);  // both cached
  std::this_thread::sleep_for(1100ms);
  EXPECT_TRUE(*authz.Authorize(a));   // still cached
  EXPECT_FALSE(*authz.Authorize(b));  // asked again
  EXPECT_EQ(reviews.asked.size(), 3u);
  // Another subresource is another question.
  b.subresource = "stats";
  EXPECT_FALSE(*authz.Authorize(b));
  EXPECT_EQ(reviews.asked.size(), 4u);

  reviews.answer = [](const bj::object&) -> Result<bj::object> {
    return Error(Errc::kUnavailable, "down");
  };
  a.subresource = "metrics";
  EXPECT_FALSE(authz.Authorize(a).ok());

  Authorizer always(AuthzMode::kAlwaysAllow, reviews.Poster());
  EXPECT_TRUE(*always.Authorize(b));
}

}  // namespace
}  // namespace berth::agent::kubelet
