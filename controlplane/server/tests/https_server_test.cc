#include "controlplane/server/http/https_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/pki/pki.h"
#include "controlplane/server/http/beast.h"
#include "controlplane/server/tests/tls_client.h"

namespace berth::controlplane::http {
namespace {

struct Pki {
  pki::Credential ca, server, alice, stranger;
};

Pki MakePki() {
  Pki p;
  p.ca = pki::SelfSignedCa("test-ca").value();
  pki::CertSpec server;
  server.common_name = "kube-apiserver";
  server.server_auth = true;
  server.ip_addresses = {"127.0.0.1"};
  p.server = pki::Issue(p.ca, server).value();
  pki::CertSpec alice;
  alice.common_name = "alice";
  alice.organizations = {"devs", "ops"};
  alice.client_auth = true;
  p.alice = pki::Issue(p.ca, alice).value();
  p.stranger = pki::Issue(pki::SelfSignedCa("other-ca").value(), alice).value();
  return p;
}

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.cert_pem = pki_.server.cert_pem;
    o.key_pem = pki_.server.key_pem;
    o.client_ca_pem = pki_.ca.cert_pem;
    o.max_body_bytes = 1024;
    auto server = HttpsServer::Start(o, [this](const Request& r, Response& w) { Handle(r, w); });
    ASSERT_TRUE(server.ok()) << server.error().str();
    server_ = std::move(*server);
  }

  void Handle(const Request& r, Response& w) {
    if (r.path == "/stream") {
      ASSERT_TRUE(w.StartStream(200, "application/json").ok());
      for (const char* part : {"one\n", "two\n", "three\n"})
        (void)w.WriteChunk(part);
      (void)w.EndStream();
      return;
    }
    if (r.path == "/forever") {
      (void)w.StartStream(200, "text/plain");
      ++streaming_;
      while (w.WriteChunk("tick\n").ok())
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return;
    }
    std::string who = r.peer.common_name;
    for (const std::string& o : r.peer.organizations)
      who += "," + o;
    (void)w.Send(200, "text/plain",
                 r.method + " " + r.path + " ?" + r.query + " " + who + " " +
                     (r.peer.verified ? "verified" : "unverified") + " " +
                     std::to_string(r.body.size()),
                 {{"X-Test", "1"}});
  }

  Pki pki_ = MakePki();
  std::unique_ptr<HttpsServer> server_;
  std::atomic<int> streaming_{0};
};

TEST_F(HttpsServerTest, ClientCertificateNamesTheUserAndGroups) {
  TlsClient c(server_->port(), pki_.ca.cert_pem, &pki_.alice);
  auto res = c.Do(bhttp::verb::get, "/api/v1/pods?watch=1");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "GET /api/v1/pods ?watch=1 alice,devs,ops verified 0");
  EXPECT_EQ(res["X-Test"], "1");
  // The same connection carries the next request.
  auto again = c.Do(bhttp::verb::post, "/api/v1/namespaces", "{}");
  EXPECT_EQ(again.body(), "POST /api/v1/namespaces ? alice,devs,ops verified 2");
}

TEST_F(HttpsServerTest, NoOrAForeignCertificateIsNotVerified) {
  TlsClient anonymous(server_->port(), pki_.ca.cert_pem, nullptr);
  EXPECT_EQ(anonymous.Do(bhttp::verb::get, "/version").body(), "GET /version ?  unverified 0");
  TlsClient stranger(server_->port(), pki_.ca.cert_pem, &pki_.stranger);
  EXPECT_EQ(stranger.Do(bhttp::verb::get, "/version").body(),
            "GET /version ? alice,devs,ops unverified 0");
}

TEST_F(HttpsServerTest, ChunkedStreamArrivesWhole) {
  TlsClient c(server_->port(), pki_.ca.cert_pem, &pki_.alice);
  auto res = c.Do(bhttp::verb::get, "/stream");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[bhttp::field::transfer_encoding], "chunked");
  EXPECT_EQ(res.body(), "one\ntwo\nthree\n");
  EXPECT_EQ(c.Do(bhttp::verb::get, "/after").result_int(), 200);  // still usable
}

TEST_F(HttpsServerTest, AnOversizedBodyIs413) {
  TlsClient c(server_->port(), pki_.ca.cert_pem, &pki_.alice);
  auto res = c.Do(bhttp::verb::post, "/big", std::string(4096, 'x'));
  EXPECT_EQ(res.result_int(), 413);
}

TEST_F(HttpsServerTest, StopEndsStreamsThatNeverFinish) {
  std::thread client([&] {
    try {
      TlsClient c(server_->port(), pki_.ca.cert_pem, &pki_.alice);
      c.Do(bhttp::verb::get, "/forever");
    } catch (const std::exception&) {
      // the server went away mid-stream, as intended
    }
  });
  for (int i = 0; i < 100 && streaming_ == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(streaming_, 1);
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  client.join();
}

TEST(HttpsServerStartTest, ABadAddressOrKeyIsNamed) {
  Pki p = MakePki();
  ServerOptions o;
  o.bind_address = "not-an-ip";
  o.port = 0;
  o.cert_pem = p.server.cert_pem;
  o.key_pem = p.server.key_pem;
  auto bad_address = HttpsServer::Start(o, [](const Request&, Response&) {});
  ASSERT_FALSE(bad_address.ok());
  EXPECT_NE(bad_address.error().str().find("not-an-ip"), std::string::npos);
  o.bind_address = "127.0.0.1";
  o.key_pem = "junk";
  auto bad_key = HttpsServer::Start(o, [](const Request&, Response&) {});
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(bad_key.error().str().find("serving key"), std::string::npos);
}

}  // namespace
}  // namespace berth::controlplane::http
