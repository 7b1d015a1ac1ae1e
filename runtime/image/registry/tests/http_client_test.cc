#include "runtime/image/registry/http_client.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "runtime/image/registry/tests/test_certs.h"
#include "runtime/image/registry/tests/test_server.h"

namespace berth::image::registry {
namespace {

using testing::TestRequest;
using testing::TestResponse;
using testing::TestServer;

std::unique_ptr<TestServer> Serve(testing::Handler h, const testing::TlsFiles* tls = nullptr) {
  Result<std::unique_ptr<TestServer>> s = TestServer::Start(std::move(h), tls);
  EXPECT_TRUE(s.ok()) << s.error().str();
  return s.ok() ? std::move(*s) : nullptr;
}

HttpRequest Get(const std::string& url) {
  HttpRequest req;
  req.url = *Url::Parse(url);
  return req;
}

TEST(HttpClientTest, GetReusesTheConnection) {
  auto server = Serve([](const TestRequest& r) {
    return TestResponse::Status(200, "hello " + r.path).Header("X-Thing", "1");
  });
  HttpClient http;
  for (int i = 0; i < 3; ++i) {
    auto resp = http.Do(Get(server->url() + "/a?b=c"));
    ASSERT_TRUE(resp.ok()) << resp.error().str();
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->StatusLine(), "200 OK");
    EXPECT_EQ(resp->body, "hello /a");
    EXPECT_EQ(resp->headers.Get("x-thing"), "1");
  }
  EXPECT_EQ(server->connections(), 1);
  auto reqs = server->requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].target, "/a?b=c");
  EXPECT_EQ(reqs[0].headers.Get("Host"), server->host());
  EXPECT_EQ(reqs[0].headers.Get("User-Agent"), "berth");
}

TEST(HttpClientTest, ReplacesAConnectionTheServerClosed) {
  auto server = Serve([](const TestRequest&) {
    TestResponse r = TestResponse::Status(200, "x");
    r.close = true;  // keep-alive promised, then closed
    return r;
  });
  HttpClient http;
  for (int i = 0; i < 3; ++i) {
    auto resp = http.Do(Get(server->url() + "/"));
    ASSERT_TRUE(resp.ok()) << i << ": " << resp.error().str();
  }
  EXPECT_EQ(server->connections(), 3);
}

TEST(HttpClientTest, StreamsChunkedBodiesToTheSink) {
  auto server = Serve([](const TestRequest&) {
    TestResponse r;
    r.chunks = {"first,", std::string(100'000, 'x'), ",last"};
    return r;
  });
  HttpClient http;
  HttpRequest req = Get(server->url() + "/blob");
  std::string got;
  int calls = 0;
  req.sink = [&](std::string_view c) {
    got.append(c);
    ++calls;
    return Ok();
  };
  auto resp = http.Do(req);
  ASSERT_TRUE(resp.ok()) << resp.error().str();
  EXPECT_EQ(got, "first," + std::string(100'000, 'x') + ",last");
  EXPECT_TRUE(resp->body.empty());
  EXPECT_EQ(resp->body_bytes, static_cast<int64_t>(got.size()));
  EXPECT_GT(calls, 1);
}

TEST(HttpClientTest, ErrorBodiesAreBufferedNotSunk) {
  auto server = Serve([](const TestRequest&) {
    return TestResponse::Status(404, R"({"errors":[{"code":"BLOB_UNKNOWN"}]})");
  });
  HttpClient http;
  HttpRequest req = Get(server->url() + "/blob");
  req.sink = [](std::string_view) -> Status {
    return Error(Errc::kInternal, "must not be called");
  };
  auto resp = http.Do(req);
  ASSERT_TRUE(resp.ok()) << resp.error().str();
  EXPECT_EQ(resp->StatusLine(), "404 Not Found");
  EXPECT_EQ(resp->body, R"({"errors":[{"code":"BLOB_UNKNOWN"}]})");
}

TEST(HttpClientTest, HeadHasNoBody) {
  auto server = Serve([](const TestRequest&) { return TestResponse::Status(200, "0123456789"); });
  HttpClient http;
  HttpRequest req = Get(server->url() + "/m");
  req.method = "HEAD";
  for (int i = 0; i < 2; ++i) {
    auto resp = http.Do(req);
    ASSERT_TRUE(resp.ok()) << resp.error().str();
    EXPECT_EQ(resp->headers.Get("Content-Length"), "10");
    EXPECT_TRUE(resp->body.empty());
  }
  EXPECT_EQ(server->connections(), 1);
}

TEST(HttpClientTest, FollowsRedirectsAndDropsAuthorizationAcrossHosts) {
  auto storage =
      Serve([](const TestRequest& r) { return TestResponse::Status(200, "stored " + r.target); });
  auto origin = Serve([&](const TestRequest& r) {
    if (r.path == "/start") return TestResponse::Status(307).Header("Location", "/same?x=1");
    if (r.path == "/same")
      return TestResponse::Status(302).Header("Location", storage->url() + "/obj?sig=abc");
    return TestResponse::Status(500);
  });
  HttpClient http;
  HttpRequest req = Get(origin->url() + "/start");
  req.headers.Set("Authorization", "Bearer secret");
  std::string got;
  req.sink = [&](std::string_view c) {
    got.append(c);
    return Ok();
  };
  auto resp = http.Do(req);
  ASSERT_TRUE(resp.ok()) << resp.error().str();
  EXPECT_EQ(got, "stored /obj?sig=abc");
  EXPECT_EQ(resp->url.String(), storage->url() + "/obj?sig=abc");
  auto o = origin->requests();
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[1].headers.Get("Authorization"), "Bearer secret");  // same host keeps it
  auto s = storage->requests();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_FALSE(s[0].headers.Get("Authorization"));
}

TEST(HttpClientTest, RedirectLoopStops) {
  auto server = Serve(
      [](const TestRequest&) { return TestResponse::Status(302).Header("Location", "/again"); });
  HttpClient http;
  TransportFailure failure;
  auto resp = http.Do(Get(server->url() + "/"), &failure);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(failure, TransportFailure::kRedirect);
  EXPECT_NE(resp.error().str().find("stopped after 10 redirects"), std::string::npos);
}

TEST(HttpClientTest, LimitsAndSinkErrors) {
  auto server =
      Serve([](const TestRequest&) { return TestResponse::Status(200, std::string(5000, 'a')); });
  HttpClient http;
  HttpRequest req = Get(server->url() + "/");
  req.max_body = 100;
  TransportFailure failure;
  auto big = http.Do(req, &failure);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(failure, TransportFailure::kAborted);
  EXPECT_EQ(big.error().code(), Errc::kResourceExhausted);
  EXPECT_EQ(big.error().str(), "GET " + server->url() + "/: response body exceeds 100 bytes");

  req.sink = [](std::string_view) -> Status {
    return Error(Errc::kResourceExhausted, "disk full");
  };
  auto refused = http.Do(req, &failure);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(failure, TransportFailure::kAborted);
  EXPECT_EQ(refused.error().str(), "disk full");
}

TEST(HttpClientTest, ConnectFailuresAndTimeouts) {
  HttpClient http;
  TransportFailure failure;
  std::string url = "http://127.0.0.1:" + std::to_string(testing::UnusedPort()) + "/";
  auto refused = http.Do(Get(url), &failure);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(failure, TransportFailure::kConnect);
  EXPECT_EQ(refused.error().code(), Errc::kUnavailable);
  EXPECT_EQ(refused.error().str(), "GET " + url + ": connect: Connection refused");

  auto slow = Serve([](const TestRequest&) {
    TestResponse r = TestResponse::Status(200, "late");
    r.delay_ms = 1500;
    return r;
  });
  HttpClientOptions quick;
  quick.io_timeout = std::chrono::milliseconds(200);
  HttpClient impatient(quick);
  auto late = impatient.Do(Get(slow->url() + "/"), &failure);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(failure, TransportFailure::kTransfer);
  EXPECT_EQ(late.error().code(), Errc::kDeadlineExceeded);
  EXPECT_EQ(late.error().str(), "GET " + slow->url() + "/: read response: timed out after 200ms");

  auto truncated = Serve([](const TestRequest&) {
    TestResponse r = TestResponse::Status(200, std::string(1000, 'z'));
    r.truncate = 10;
    return r;
  });
  auto cut = http.Do(Get(truncated->url() + "/"), &failure);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(failure, TransportFailure::kTransfer);
  EXPECT_NE(cut.error().str().find("read body (after 10 bytes)"), std::string::npos)
      << cut.error().str();
}

class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = testing::MakeTestPki(dir_.path(), "IP:127.0.0.1,DNS:localhost");
    ASSERT_TRUE(pki.ok()) << pki.error().str();
    pki_ = *pki;
    tls_ = {pki_.server_cert, pki_.server_key};
    server_ = Serve([](const TestRequest&) { return TestResponse::Status(200, "secure"); }, &tls_);
    ASSERT_NE(server_, nullptr);
  }
  berth::testing::TempDir dir_;
  testing::TestPki pki_;
  testing::TlsFiles tls_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(HttpsTest, VerifiesAgainstTheGivenCa) {
  HttpClient http;
  HttpRequest req = Get(server_->url() + "/");
  req.tls.ca_files = {pki_.ca_cert};
  auto resp = http.Do(req);
  ASSERT_TRUE(resp.ok()) << resp.error().str();
  EXPECT_EQ(resp->body, "secure");
  // By name too (SNI + DNS name check).
  req.url = *Url::Parse("https://localhost:" + std::to_string(server_->port()) + "/");
  auto by_name = http.Do(req);
  ASSERT_TRUE(by_name.ok()) << by_name.error().str();
}

TEST_F(HttpsTest, RefusesAnUnknownCa) {
  HttpClient http;
  TransportFailure failure;
  auto resp = http.Do(Get(server_->url() + "/"), &failure);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(failure, TransportFailure::kTls);
  EXPECT_NE(resp.error().str().find("TLS handshake: certificate verify failed: "),
            std::string::npos)
      << resp.error().str();
  HttpRequest insecure = Get(server_->url() + "/");
  insecure.tls.skip_verify = true;
  auto ok = http.Do(insecure);
  ASSERT_TRUE(ok.ok()) << ok.error().str();
}

TEST_F(HttpsTest, RefusesAWrongName) {
  ASSERT_TRUE(MkdirAll(dir_ / "other").ok());
  auto pki = testing::MakeTestPki(dir_ / "other", "DNS:registry.invalid");
  ASSERT_TRUE(pki.ok());
  testing::TlsFiles other{pki->server_cert, pki->server_key};
  auto wrong = Serve([](const TestRequest&) { return TestResponse::Status(200); }, &other);
  HttpClient http;
  HttpRequest req = Get(wrong->url() + "/");
  req.tls.ca_files = {pki->ca_cert};
  auto resp = http.Do(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_NE(resp.error().str().find("certificate verify failed: "), std::string::npos)
      << resp.error().str();
  EXPECT_NE(resp.error().str().find("mismatch"), std::string::npos) << resp.error().str();
}

TEST_F(HttpsTest, HttpsToAPlainServerIsATlsFailure) {
  auto plain = Serve([](const TestRequest&) { return TestResponse::Status(200); });
  HttpClient http;
  TransportFailure failure;
  HttpRequest req = Get("https://" + plain->host() + "/");
  req.tls.skip_verify = true;
  auto resp = http.Do(req, &failure);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(failure, TransportFailure::kTls);
}

}  // namespace
}  // namespace berth::image::registry
