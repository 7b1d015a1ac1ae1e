// httpGet probes against HTTP(S) servers on loopback: results, upstream's
// messages, the request kubelet sends, redirects and timeouts.

#include <gtest/gtest.h>

#include "agent/probes/probe.h"
#include "agent/probes/tests/test_servers.h"
#include "common/testing/testkit.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using testing::HttpReply;
using testing::SeenRequest;
using testing::TestHttpServer;

class HttpProbeTest : public ::testing::Test {
 protected:
  ProbeOutcome Run(const std::string& http_get_json, int timeout_seconds = 1) {
    bj::object probe = {{"httpGet", bj::parse(http_get_json)}, {"timeoutSeconds", timeout_seconds}};
    ProbeTarget target;
    target.pod_ip = "127.0.0.1";
    target.container = &container_;
    return RunProbe(probe, target);
  }
  std::string At(const std::string& path) const {
    return R"({"path": ")" + path + R"(", "port": )" + std::to_string(server_.port()) + "}";
  }

  TestHttpServer server_;
  bj::object container_ = bj::parse(R"({"name": "app"})").as_object();
};

TEST_F(HttpProbeTest, SuccessReturnsTheBodyAndSendsKubeletsHeaders) {
  server_.Handle("/healthz", [](const SeenRequest&) { return HttpReply{200, {}, "ok!"}; });
  ProbeOutcome out =
      Run(R"({"path": "/healthz?full=1", "port": )" + std::to_string(server_.port()) +
          R"(, "httpHeaders": [{"name": "x-custom", "value": "v1"}]})");
  EXPECT_EQ(out.result, ProbeResult::kSuccess);
  EXPECT_EQ(out.message, "ok!");
  EXPECT_FALSE(out.warning);
  auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/healthz?full=1");
  EXPECT_EQ(seen[0].headers["user-agent"], "kube-probe/1.33");
  EXPECT_EQ(seen[0].headers["accept"], "*/*");
  EXPECT_EQ(seen[0].headers["x-custom"], "v1");
  EXPECT_EQ(seen[0].headers["host"], "127.0.0.1:" + std::to_string(server_.port()));
  EXPECT_EQ(seen[0].headers["connection"], "close");
}

TEST_F(HttpProbeTest, HeadersOverrideHostUserAgentAndAccept) {
  server_.Handle("/", [](const SeenRequest&) { return HttpReply{204}; });
  ProbeOutcome out = Run(R"({"port": )" + std::to_string(server_.port()) + R"(, "httpHeaders": [
      {"name": "Host", "value": "example.test"}, {"name": "User-Agent", "value": "mine"},
      {"name": "Accept", "value": ""}]})");
  EXPECT_EQ(out.result, ProbeResult::kSuccess);
  auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/");
  EXPECT_EQ(seen[0].headers["host"], "example.test");
  EXPECT_EQ(seen[0].headers["user-agent"], "mine");
  EXPECT_EQ(seen[0].headers.count("accept"), 0u);
}

TEST_F(HttpProbeTest, ErrorStatusFailsWithoutTheBody) {
  server_.Handle("/bad", [](const SeenRequest&) { return HttpReply{503, {}, "secret detail"}; });
  ProbeOutcome out = Run(At("/bad"));
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_EQ(out.message, "HTTP probe failed with statuscode: 503");
}

TEST_F(HttpProbeTest, BodyIsCutAtTenKilobytes) {
  server_.Handle("/big", [](const SeenRequest&) {
    return HttpReply{200, {}, std::string(50000, 'x')};
  });
  ProbeOutcome out = Run(At("/big"));
  EXPECT_EQ(out.result, ProbeResult::kSuccess);
  EXPECT_EQ(out.message.size(), 10240u);
}

TEST_F(HttpProbeTest, FollowsRedirectsToTheSameHost) {
  server_.Handle("/old", [](const SeenRequest&) {
    return HttpReply{302, {{"Location", "/new?x=1"}}, ""};
  });
  server_.Handle("/new", [](const SeenRequest&) { return HttpReply{200, {}, "moved"}; });
  ProbeOutcome out = Run(At("/old"));
  EXPECT_EQ(out.result, ProbeResult::kSuccess);
  EXPECT_EQ(out.message, "moved");
  auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].target, "/new?x=1");
  EXPECT_EQ(seen[1].headers["user-agent"], "kube-probe/1.33");
}

TEST_F(HttpProbeTest, RedirectToAnotherHostIsAWarning) {
  uint16_t port = server_.port();
  server_.Handle("/elsewhere", [port](const SeenRequest&) {
    return HttpReply{301, {{"Location", "http://localhost:" + std::to_string(port) + "/x"}}, "bye"};
  });
  ProbeOutcome out = Run(At("/elsewhere"));
  EXPECT_EQ(out.result, ProbeResult::kSuccess);
  EXPECT_TRUE(out.warning);
  EXPECT_EQ(out.message, "Probe terminated redirects, Response body: bye");
  EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(HttpProbeTest, RedirectLoopStopsAfterTenRedirects) {
  server_.Handle("/loop", [](const SeenRequest&) {
    return HttpReply{307, {{"Location", "/loop"}}, ""};
  });
  ProbeOutcome out = Run(At("/loop"));
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_EQ(out.message, "Get \"/loop\": stopped after 10 redirects");
  EXPECT_EQ(server_.requests().size(), 10u);
}

TEST_F(HttpProbeTest, ConnectionRefusedFails) {
  uint16_t port = berth::testing::UnusedPort();
  ProbeOutcome out = Run(R"({"path": "/healthz", "port": )" + std::to_string(port) + "}");
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  std::string addr = "127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(out.message, "Get \"http://" + addr + "/healthz\": dial tcp " + addr +
                             ": connect: connection refused");
}

TEST_F(HttpProbeTest, SlowServerTimesOut) {
  server_.Handle("/slow", [](const SeenRequest&) {
    return HttpReply{200, {}, "late", std::chrono::milliseconds(1500)};
  });
  auto start = std::chrono::steady_clock::now();
  ProbeOutcome out = Run(At("/slow"), 1);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_EQ(out.message, "Get \"http://127.0.0.1:" + std::to_string(server_.port()) +
                             "/slow\": context deadline exceeded (Client.Timeout exceeded while "
                             "awaiting headers)");
  EXPECT_LT(took, std::chrono::milliseconds(1400));
}

TEST_F(HttpProbeTest, NamedPortsAndPortErrors) {
  server_.Handle("/", [](const SeenRequest&) { return HttpReply{200}; });
  container_ = bj::object{
      {"name", "app"},
      {"ports", bj::array{bj::object{{"name", "http"}, {"containerPort", server_.port()}}}}};
  EXPECT_EQ(Run(R"({"port": "http"})").result, ProbeResult::kSuccess);
  EXPECT_EQ(Run(R"({"port": ")" + std::to_string(server_.port()) + R"("})").result,
            ProbeResult::kSuccess);
  ProbeOutcome unknown = Run(R"({"port": "metrics"})");
  EXPECT_EQ(unknown.result, ProbeResult::kUnknown);
  EXPECT_EQ(unknown.message, "strconv.Atoi: parsing \"metrics\": invalid syntax");
  ProbeOutcome zero = Run(R"({"port": 0})");
  EXPECT_EQ(zero.result, ProbeResult::kUnknown);
  EXPECT_EQ(zero.message, "invalid port number: 0");
}

TEST(HttpsProbe, SkipsCertificateChecks) {
  TestHttpServer server(/*tls=*/true);
  server.Handle("/secure", [](const SeenRequest&) { return HttpReply{200, {}, "tls ok"}; });
  bj::object probe = {
      {"httpGet", {{"scheme", "HTTPS"}, {"path", "/secure"}, {"port", server.port()}}}};
  ProbeTarget target;
  target.pod_ip = "127.0.0.1";
  ProbeOutcome out = RunProbe(probe, target);
  EXPECT_EQ(out.result, ProbeResult::kSuccess) << out.message;
  EXPECT_EQ(out.message, "tls ok");
}

TEST(ProbeHandler, MissingHandlerIsUnknown) {
  bj::object container = {{"name", "app"}};
  bj::object pod = {{"metadata", {{"name", "web"}, {"namespace", "ns"}, {"uid", "u1"}}}};
  ProbeTarget target;
  target.container = &container;
  target.pod = &pod;
  ProbeOutcome out = RunProbe(bj::object{{"periodSeconds", 3}}, target);
  EXPECT_EQ(out.result, ProbeResult::kUnknown);
  EXPECT_EQ(out.message, "missing probe handler for web_ns(u1):app");
}

}  // namespace
}  // namespace berth::agent
