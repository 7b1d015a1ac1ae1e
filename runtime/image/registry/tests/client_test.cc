// The registry client against in-test registries (tests/test_server.h):
// bearer and basic auth, verification, retries, redirects and mirrors.

#include "runtime/image/registry/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>

#include "common/base64.h"
#include "common/file.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "runtime/image/registry/tests/test_server.h"

namespace berth::image::registry {
namespace {

using testing::TestRequest;
using testing::TestResponse;
using testing::TestServer;

std::unique_ptr<TestServer> Serve(testing::Handler h) {
  Result<std::unique_ptr<TestServer>> s = TestServer::Start(std::move(h));
  EXPECT_TRUE(s.ok()) << s.error().str();
  return s.ok() ? std::move(*s) : nullptr;
}

std::string QueryParam(const std::string& query, const std::string& name) {
  for (const std::string& kv : Split(query, '&')) {
    if (kv.rfind(name + "=", 0) == 0) return kv.substr(name.size() + 1);
  }
  return "";
}

// A registry in memory: manifests by repository and tag or digest, blobs by
// digest, optional Basic or Bearer auth, and a hook to misbehave.
class FakeRegistry {
 public:
  std::function<std::optional<TestResponse>(const TestRequest&)> intercept;
  std::string basic;   // required "user:pass"
  std::string bearer;  // required token
  std::string realm;   // token server URL
  bool head_allowed = true;
  bool send_digest = true;

  Descriptor AddBlob(std::string body, std::string media_type) {
    Descriptor d;
    d.media_type = std::move(media_type);
    d.digest = Sha256Of(body);
    d.size = static_cast<int64_t>(body.size());
    blobs_[d.digest.str()] = std::move(body);
    return d;
  }
  Descriptor AddManifest(const std::string& repo, const std::string& tag, std::string media_type,
                         const std::string& body) {
    Descriptor d;
    d.media_type = std::move(media_type);
    d.digest = Sha256Of(body);
    d.size = static_cast<int64_t>(body.size());
    manifests_[repo + "@" + tag] = {d.media_type, body};
    manifests_[repo + "@" + d.digest.str()] = {d.media_type, body};
    return d;
  }
  // A one-layer image; returns the manifest's descriptor.
  Descriptor AddImage(const std::string& repo, const std::string& tag, const std::string& layer) {
    layer_ = AddBlob(layer, std::string(media::kOciLayerGzip));
    config_ =
        AddBlob(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})",
                std::string(media::kOciConfig));
    std::string m =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
        DescriptorToJson(config_) + R"(,"layers":[)" + DescriptorToJson(layer_) + "]}";
    return AddManifest(repo, tag, std::string(media::kOciManifest), m);
  }
  const Descriptor& layer() const { return layer_; }

  TestResponse Handle(const TestRequest& r) {
    if (intercept) {
      if (std::optional<TestResponse> over = intercept(r)) return *over;
    }
    size_t m = r.path.rfind("/manifests/");
    size_t b = r.path.rfind("/blobs/");
    bool is_manifest = m != std::string::npos;
    std::string repo = r.path.substr(4, (is_manifest ? m : b) - 4);
    if (!basic.empty() && r.headers.Get("Authorization") != "Basic " + Base64Encode(basic)) {
      return TestResponse::Status(
                 401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})")
          .Header("WWW-Authenticate", R"(Basic realm="fake")");
    }
    if (!bearer.empty() && r.headers.Get("Authorization") != "Bearer " + bearer) {
      return TestResponse::Status(401).Header(
          "WWW-Authenticate", "Bearer realm=\"" + realm +
                                  "\",service=\"fake-registry\",scope=\"repository:" + repo +
                                  ":pull\"");
    }
    if (is_manifest) {
      if (r.method == "HEAD" && !head_allowed) return TestResponse::Status(405);
      auto it = manifests_.find(repo + "@" + r.path.substr(m + 11));
      if (it == manifests_.end())
        return TestResponse::Status(
            404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})");
      TestResponse resp = TestResponse::Status(200, it->second.second);
      resp.Header("Content-Type", it->second.first + "; charset=utf-8");
      if (send_digest) resp.Header("Docker-Content-Digest", Sha256Of(it->second.second).str());
      return resp;
    }
    if (b == std::string::npos) return TestResponse::Status(404);
    auto it = blobs_.find(r.path.substr(b + 7));
    if (it == blobs_.end())
      return TestResponse::Status(
          404, R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]})");
    return TestResponse::Status(200, it->second);
  }

 private:
  std::map<std::string, std::pair<std::string, std::string>> manifests_;
  std::map<std::string, std::string> blobs_;
  Descriptor layer_, config_;
};

// A token server: issues `token` to requests carrying `basic` (if set).
struct TokenServer {
  std::string basic;
  std::string token = "tok-1";
  std::string field = "token";
  std::atomic<int> issued{0};
  std::unique_ptr<TestServer> server;

  void Start() {
    server = Serve([this](const TestRequest& r) {
      if (!basic.empty() && r.headers.Get("Authorization") != "Basic " + Base64Encode(basic))
        return TestResponse::Status(401, R"({"details":"incorrect username or password"})");
      ++issued;
      return TestResponse::Status(200, "{\"" + field + "\":\"" + token + "\",\"expires_in\":300}");
    });
  }
  std::string realm() const { return server->url() + "/token"; }
};

ClientOptions Options(std::optional<AuthConfig> auth = std::nullopt,
                      const std::string& domain = "") {
  ClientOptions o;
  o.backoff = std::chrono::milliseconds(5);
  if (auth) o.credentials = MakeCredentials(domain, *auth, nullptr);
  return o;
}

AuthConfig UserPass(std::string user, std::string pass) {
  AuthConfig a;
  a.username = std::move(user);
  a.password = std::move(pass);
  return a;
}

Reference Ref(const std::string& text) {
  Result<Reference> r = Reference::Parse(text);
  EXPECT_TRUE(r.ok()) << r.error().str();
  return *r;
}

// Resolve + FetchManifest + FetchBlob of the first layer.
Status Pull(Client& client, const Reference& ref, std::string* layer = nullptr) {
  Descriptor top = BERTH_TRY(client.Resolve(ref));
  std::string doc = BERTH_TRY(client.FetchManifest(ref, top));
  Manifest m = BERTH_TRY(ParseManifest(doc, "manifest"));
  StringBlobSink sink;
  BERTH_TRY(client.FetchBlob(ref, m.layers.at(0), sink));
  if (layer != nullptr) *layer = sink.data();
  return Ok();
}

TEST(ClientTest, BearerTokenFlowWithCache) {
  TokenServer tokens;
  tokens.basic = "alice:wonder";
  tokens.Start();
  FakeRegistry reg;
  reg.bearer = "tok-1";
  reg.realm = tokens.realm();
  Descriptor want = reg.AddImage("team/app", "v1", "layer bytes");
  auto server = Serve([&](const TestRequest& r) { return reg.Handle(r); });
  Reference ref = Ref(server->host() + "/team/app:v1");

  Client client(Options(UserPass("alice", "wonder"), ref.domain));
  Descriptor got = *client.Resolve(ref);
  EXPECT_EQ(got.digest, want.digest);
  EXPECT_EQ(got.size, want.size);
  EXPECT_EQ(got.media_type, media::kOciManifest);
  std::string layer;
  Status pulled = Pull(client, ref, &layer);
  ASSERT_TRUE(pulled.ok()) << pulled.error().str();
  EXPECT_EQ(layer, "layer bytes");
  EXPECT_EQ(tokens.issued, 1);  // cached for (host, scope)

  auto token_reqs = tokens.server->requests();
  ASSERT_EQ(token_reqs.size(), 1u);
  EXPECT_EQ(QueryParam(token_reqs[0].query, "service"), "fake-registry");
  EXPECT_EQ(QueryParam(token_reqs[0].query, "scope"), "repository%3Ateam%2Fapp%3Apull");
  for (const TestRequest& r : server->requests()) {
    EXPECT_EQ(r.query, "") << "no ns= for the registry itself";
  }
}

TEST(ClientTest, BearerWithWrongCredentials) {
  TokenServer tokens;
  tokens.basic = "alice:wonder";
  tokens.Start();
  FakeRegistry reg;
  reg.bearer = "tok-1";
  reg.realm = tokens.realm();
  reg.AddImage("app", "v1", "x");
  auto server = Serve([&](const TestRequest& r) { return reg.Handle(r); });
  Reference ref = Ref(server->host() + "/app:v1");
  Client client(Options(UserPass("alice", "nope"), ref.domain));
  Result<Descriptor> d = client.Resolve(ref);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), Errc::kUnauthenticated);
  EXPECT_EQ(Error(d.error()).Wrap("pull " + ref.String()).str(),
            "pull " + ref.String() + ": 401 Unauthorized from " + tokens.realm() +
                "?service=fake-registry&scope=repository%3Aapp%3Apull: invalid credentials");
}

TEST(ClientTest, BearerAnonymousIdentityAndRegistryTokens) {
  TokenServer tokens;
  tokens.field = "access_token";
  tokens.Start();
  FakeRegistry reg;
  reg.bearer = "tok-1";
  reg.realm = tokens.realm();
  reg.AddImage("app", "v1", "x");
  auto server = Serve([&](const TestRequest& r) { return reg.Handle(r); });
  Reference ref = Ref(server->host() + "/app:v1");

  Client anonymous(Options());
  ASSERT_TRUE(anonymous.Resolve(ref).ok());
  EXPECT_FALSE(tokens.server->requests().back().headers.Get("Authorization"));

  AuthConfig identity;
  identity.identity_token = "refresh-123";
  Client oauth(Options(identity, ref.domain));
  Result<Descriptor> d = oauth.Resolve(ref);
  ASSERT_TRUE(d.ok()) << d.error().str();
  TestRequest post = tokens.server->requests().back();
  EXPECT_EQ(post.method, "POST");
  EXPECT_EQ(post.headers.Get("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(QueryParam(post.body, "grant_type"), "refresh_token");
  EXPECT_EQ(QueryParam(post.body, "refresh_token"), "refresh-123");
  EXPECT_EQ(QueryParam(post.body, "service"), "fake-registry");

  int before = tokens.issued;
  AuthConfig direct;
  direct.registry_token = "tok-1";
  Client with_token(Options(direct, ref.domain));
  ASSERT_TRUE(with_token.Resolve(ref).ok());
  EXPECT_EQ(tokens.issued, before);  // used as is
}

TEST(ClientTest, BasicAuth) {
  FakeRegistry reg;
  reg.basic = "bob:builder";
  reg.AddImage("app", "v1", "x");
  auto server = Serve([&](const TestRequest& r) { return reg.Handle(r); });
  Reference ref = Ref(server->host() + "/app:v1");
  std::string url = "http://" + server->host() + "/v2/app/manifests/v1";

  Client good(Options(UserPass("bob", "builder"), ref.domain));
  Status pulled = Pull(good, ref);
  ASSERT_TRUE(pulled.ok()) << pulled.error().str();

  Client wrong(Options(UserPass("bob", "wrong"), ref.domain));
  Result<Descriptor> d = wrong.Resolve(ref);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), Errc::kUnauthenticated);
  EXPECT_EQ(d.error().str(), "401 Unauthorized from " + url + ": invalid credentials");

  Client none(Options());
  Result<Descriptor> anon = none.Resolve(ref);
  ASSERT_FALSE(anon.ok());
  EXPECT_EQ(anon.error().str(), "401 Unauthorized from " + url +
                                    ": authentication required (no credentials for " +
                                    server->host() + ")");
}

TEST(ClientTest, BlobDigestMismatchIsRejected) {
  FakeRegistry reg;
  Descriptor top = reg.AddImage("app", "v1", "the real layer");
  Digest want = reg.layer().digest;
  reg.intercept = [](const TestRequest& r) -> std::optional<TestResponse> {
    if (r.path.find("/blobs/") == std::string::npos) return std::nullopt;
    return TestResponse::Status(200, "the fake layer");  // same length, other bytes
  };
  auto server = Serve([&](const TestRequest& r) { return reg.Handle(r); });
  Reference ref = Ref(server->host() + "/app:v1");
  Client client(Options());
  StringBlobSink sink;
  Status s = client.FetchBlob(ref, reg.layer(), sink);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kDataLoss);
  EXPECT_EQ(s.error().str(), "blob " + want.str() + ": content digest " +
                                 Sha256Of("the fake layer").str() + " does not match");
  EXPECT_GE(sink.discards(), 1);
  EXPECT_TRUE(sink.data().empty());

  // Too long is stopped as it streams; too short is caught at the end.
  reg.intercept = [](const TestRequest& r) -> std::optional<TestResponse> {
    if (r.path.find("/blobs/") == std::string::npos) return std::nullopt;
    return TestResponse::Status(200, "the real layer, and more");
  };
  Status longer = client.FetchBlob(ref, reg.layer(), sink);
  ASSERT_FALSE(longer.ok());
  EXPECT_NE(longer.error().str().find("sent more than the 14 bytes expected"), std::string::npos)
      << longer.error().str();
  reg.intercept = [](const TestRequest& r) -> std::optional<TestResponse> {
    if (r.path.find("/blobs/") == std::string::npos) return std::nullopt;
    return TestResponse::Status(200, "short");
  };
  Status shorter = client.FetchBlob(ref, reg.layer(), sink);
  ASSERT_FALSE(shorter.ok());
  EXPECT_NE(shorter.error().str().find("sent 5 bytes, expected 14"), std::string::npos)
      << shorter.error().str();
  EXPECT_TRUE(sink.data().empty());
  (void)top;
}

TEST(ClientTest, ManifestVerification) {
  FakeRegistry reg;
  Descriptor top = reg.AddImage("app", "v1", "x");
  auto server = Serve([&](const TestRequest& r) { return reg.Handle(r); });
  Reference ref = Ref(server->host() + "/app:v1");
  Client client(Options());

  Descriptor wrong = top;
  wrong.digest = Sha256Of("something else");
  reg.AddManifest("app", wrong.digest.str(), top.media_type,
                  std::string(static_cast<size_t>(top.size), ' '));
  Result<std::string> m = client.FetchManifest(ref, wrong);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), Errc::kDataLoss);
  EXPECT_EQ(m.error().str().rfind("manifest " + wrong.digest.str() + ": content digest ", 0), 0u)
      << m.error().str();

  Descriptor huge = top;
  huge.size = 5 << 20;
  Result<std::string> h = client.FetchManifest(ref, huge);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code(), Errc::kResourceExhausted);

  // A digest reference must match what the registry serves.
  Reference pinned = Ref(server->host() + "/app@" + wrong.digest.str());
  Result<Descriptor> r = client.Resolve(pinned);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kDataLoss) << r.error().str();

  Reference missing = Ref(server->host() + "/app:nope");
  Result<Descriptor> nf = client.Resolve(missing);
  ASSERT_FALSE(nf.ok());
  EXPECT_EQ(nf.error().code(), Errc::kNotFound);
  EXPECT_EQ(nf.error().str(), "404 Not Found from " + server->url() + "/v2/app/manifests/nope");
}

TEST(ClientTest, HeadFallsBackToGet) {
  FakeRegistry reg;
  Descriptor top = reg.AddImage("app", "v1", "x");
  auto server = Serve([&](const TestRequest& r) { return reg.Handle(r); });
  Reference ref = Ref(server->host() + "/app:v1");
  Client client(Options());

  reg.head_allowed = false;
  Result<Descriptor> d = client.Resolve(ref);
  ASSERT_TRUE(d.ok()) << d.error().str();
  EXPECT_EQ(d->digest, top.digest);
  reg.head_allowed = true;
  reg.send_digest = false;  // no Docker-Content-Digest: GET and hash
  d = client.Resolve(ref);
  ASSERT_TRUE(d.ok()) << d.error().str();
  EXPECT_EQ(d->digest, top.digest);
  EXPECT_EQ(d->media_type, media::kOciManifest);
  EXPECT_EQ(server->requests().back().method, "GET");
}

TEST(ClientTest, RetriesTransientFailures) {
  FakeRegistry reg;
  reg.AddImage("app", "v1", "layer");
  std::atomic<int> failures{2};
  reg.intercept = [&](const TestRequest& r) -> std::optional<TestResponse> {
    if (r.path.find("/blobs/") != std::string::npos && failures-- > 0)
      return TestResponse::Status(503, R"({"errors":[{"code":"UNAVAILABLE","message":"busy"}]})");
    return std::nullopt;
  };
  auto server = Serve([&](const TestRequest& r) { return reg.Handle(r); });
  Reference ref = Ref(server->host() + "/app:v1");
  Client client(Options());
  StringBlobSink sink;
  Status s = client.FetchBlob(ref, reg.layer(), sink);
  ASSERT_TRUE(s.ok()) << s.error().str();
  EXPECT_EQ(sink.data(), "layer");

  failures = 100;
  Status down = client.FetchBlob(ref, reg.layer(), sink);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code(), Errc::kUnavailable);
  EXPECT_EQ(down.error().str(), "503 Service Unavailable from " + server->url() + "/v2/app/blobs/" +
                                    reg.layer().digest.str() + ": UNAVAILABLE: busy");
  EXPECT_EQ(failures, 100 - 3);  // three attempts
}

TEST(ClientTest, BrokenTransferRestartsFromZero) {
  FakeRegistry reg;
  reg.AddImage("app", "v1", std::string(200'000, 'L'));
  std::atomic<int> cut{1};
  reg.intercept = [&](const TestRequest& r) -> std::optional<TestResponse> {
    if (r.path.find("/blobs/") == std::string::npos || cut-- <= 0) return std::nullopt;
    TestResponse resp = TestResponse::Status(200, std::string(200'000, 'L'));
    resp.truncate = 100'000;
    return resp;
  };
  auto server = Serve([&](const TestRequest& r) { return reg.Handle(r); });
  Reference ref = Ref(server->host() + "/app:v1");
  Client client(Options());
  StringBlobSink sink;
  Status s = client.FetchBlob(ref, reg.layer(), sink);
  ASSERT_TRUE(s.ok()) << s.error().str();
  EXPECT_EQ(sink.discards(), 1);
  EXPECT_EQ(sink.data(), std::string(200'000, 'L'));
}

TEST(ClientTest, BlobRedirectToStorage) {
  auto storage = Serve([](const TestRequest& r) {
    if (r.headers.Get("Authorization")) return TestResponse::Status(400, "credentials leaked");
    return TestResponse::Status(200, "layer");
  });
  FakeRegistry reg;
  reg.basic = "u:p";
  reg.AddImage("app", "v1", "layer");
  reg.intercept = [&](const TestRequest& r) -> std::optional<TestResponse> {
    if (r.path.find("/blobs/") == std::string::npos || !r.headers.Get("Authorization"))
      return std::nullopt;
    return TestResponse::Status(307).Header("Location", storage->url() + "/bucket/x?sig=1");
  };
  auto server = Serve([&](const TestRequest& r) { return reg.Handle(r); });
  Reference ref = Ref(server->host() + "/app:v1");
  Client client(Options(UserPass("u", "p"), ref.domain));
  StringBlobSink sink;
  Status s = client.FetchBlob(ref, reg.layer(), sink);
  ASSERT_TRUE(s.ok()) << s.error().str();
  EXPECT_EQ(sink.data(), "layer");
  EXPECT_EQ(storage->requests().size(), 1u);
}

TEST(ClientTest, MirrorsInOrderThenUpstream) {
  FakeRegistry upstream_reg;
  Descriptor top = upstream_reg.AddImage("pause", "3.9", "pause layer");
  auto upstream = Serve([&](const TestRequest& r) { return upstream_reg.Handle(r); });
  auto empty_mirror = Serve([](const TestRequest&) {
    return TestResponse::Status(
        404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})");
  });
  // A pull-only mirror must never resolve tags.
  FakeRegistry pull_reg;
  pull_reg.AddImage("pause", "3.9", "pause layer");
  auto pull_only = Serve([&](const TestRequest& r) { return pull_reg.Handle(r); });
  uint16_t dead = testing::UnusedPort();

  berth::testing::TempDir dir;
  ASSERT_TRUE(MkdirAll(dir / "registry.test").ok());
  ASSERT_TRUE(
      WriteFile(dir / "registry.test/hosts.toml", "server = \"" + upstream->url() +
                                                      "\"\n"
                                                      "[host.\"http://127.0.0.1:" +
                                                      std::to_string(dead) +
                                                      "\"]\n"
                                                      "  capabilities = [\"pull\", \"resolve\"]\n"
                                                      "[host.\"" +
                                                      empty_mirror->url() +
                                                      "\"]\n"
                                                      "  capabilities = [\"pull\", \"resolve\"]\n"
                                                      "[host.\"" +
                                                      pull_only->url() +
                                                      "\"]\n"
                                                      "  capabilities = [\"pull\"]\n")
          .ok());
  ClientOptions opts = Options();
  opts.hosts.hosts_dir = dir.path();
  Client client(opts);
  Reference ref = Ref("registry.test/pause:3.9");
  Result<Descriptor> d = client.Resolve(ref);
  ASSERT_TRUE(d.ok()) << d.error().str();
  EXPECT_EQ(d->digest, top.digest);
  EXPECT_EQ(empty_mirror->requests().size(), 1u);
  EXPECT_EQ(empty_mirror->requests()[0].query, "ns=registry.test");
  EXPECT_EQ(pull_only->requests().size(), 0u);
  EXPECT_EQ(upstream->requests().back().query, "ns=registry.test");

  // By digest, the pull-only mirror is asked (after the dead and empty ones).
  std::string doc = *client.FetchManifest(ref, *d);
  StringBlobSink sink;
  ASSERT_TRUE(client.FetchBlob(ref, pull_reg.layer(), sink).ok());
  EXPECT_EQ(sink.data(), "pause layer");
  EXPECT_EQ(pull_only->requests().size(), 2u);

  // When every host fails, the error is the upstream's, after the others'.
  Result<Descriptor> nf = client.Resolve(Ref("registry.test/pause:nope"));
  ASSERT_FALSE(nf.ok());
  EXPECT_EQ(nf.error().code(), Errc::kNotFound);
  EXPECT_EQ(nf.error().str().rfind("404 Not Found from " + upstream->url() +
                                       "/v2/pause/manifests/nope?ns=registry.test (tried before: "
                                       "HEAD http://127.0.0.1:" +
                                       std::to_string(dead),
                                   0),
            0u)
      << nf.error().str();
}

TEST(ClientTest, NoHostWithTheCapability) {
  berth::testing::TempDir dir;
  ASSERT_TRUE(MkdirAll(dir / "registry.test").ok());
  ASSERT_TRUE(WriteFile(dir / "registry.test/hosts.toml",
                        "server = \"http://127.0.0.1:1\"\ncapabilities = [\"pull\"]\n")
                  .ok());
  ClientOptions opts = Options();
  opts.hosts.hosts_dir = dir.path();
  Client client(opts);
  Result<Descriptor> d = client.Resolve(Ref("registry.test/app:v1"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), Errc::kFailedPrecondition);
  EXPECT_EQ(d.error().str(), "no host configured for registry.test has the resolve capability");
}

TEST(ClientTest, LoopbackRegistryFallsBackToHttp) {
  FakeRegistry reg;
  reg.AddImage("app", "v1", "x");
  auto server = Serve([&](const TestRequest& r) { return reg.Handle(r); });
  Client client(Options());  // no hosts.toml: https first, then http (containerd)
  auto eps = client.Endpoints(server->host());
  ASSERT_TRUE(eps.ok());
  EXPECT_TRUE((*eps)[0].http_fallback);
  Status pulled = Pull(client, Ref(server->host() + "/app:v1"));
  ASSERT_TRUE(pulled.ok()) << pulled.error().str();
}

}  // namespace
}  // namespace berth::image::registry
