// postStart / preStop handlers: exec, httpGet, sleep, deadlines and
// upstream's messages.

#include "agent/probes/lifecycle.h"

#include <gtest/gtest.h>

#include "agent/probes/tests/test_servers.h"
#include "common/testing/testkit.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using Clock = std::chrono::steady_clock;
using testing::HttpReply;
using testing::SeenRequest;

class LifecycleTest : public ::testing::Test {
 protected:
  Status Run(const std::string& handler_json,
             Clock::time_point deadline = Clock::time_point::max()) {
    ProbeTarget target;
    target.pod_ip = "127.0.0.1";
    target.container_id = "c-9";
    target.container = &container_;
    target.cri = &cri_.client();
    target.pod = &pod_;
    return RunLifecycleHandler(bj::parse(handler_json).as_object(), target, deadline);
  }

  testing::FakeCri cri_;
  bj::object container_ = bj::parse(R"({"name": "app"})").as_object();
  bj::object pod_ =
      bj::parse(R"({"metadata": {"name": "web", "namespace": "prod", "uid": "u-7"}})").as_object();
};

TEST_F(LifecycleTest, ExecSucceedsOnExitZero) {
  cri_.SetExec([](const v1::ExecSyncRequest&, v1::ExecSyncResponse* resp) {
    resp->set_exit_code(0);
    return grpc::Status::OK;
  });
  Status s = Run(R"js({"exec": {"command": ["touch", "/tmp/$(NOT_EXPANDED)"]}})js");
  EXPECT_TRUE(s.ok()) << s.error().str();
  auto calls = cri_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].timeout(), 0);
  EXPECT_EQ(calls[0].cmd(1), "/tmp/$(NOT_EXPANDED)");
}

TEST_F(LifecycleTest, ExecFailureCarriesUpstreamsMessage) {
  cri_.SetExec([](const v1::ExecSyncRequest&, v1::ExecSyncResponse* resp) {
    resp->set_stdout("partial\n");
    resp->set_stderr("boom");
    resp->set_exit_code(3);
    return grpc::Status::OK;
  });
  Status s = Run(R"({"exec": {"command": ["sh", "-c", "exit 3"]}})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(),
            "Exec lifecycle hook ([sh -c exit 3]) for Container \"app\" in Pod "
            "\"web_prod(u-7)\" failed - error: command 'sh -c exit 3' exited with 3: boom, "
            "message: \"partial\\nboom\"");
}

TEST_F(LifecycleTest, ExecPastTheDeadlineIsDeadlineExceeded) {
  cri_.SetExec([](const v1::ExecSyncRequest&, v1::ExecSyncResponse* resp) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    resp->set_exit_code(0);
    return grpc::Status::OK;
  });
  Status s = Run(R"({"exec": {"command": ["sleep", "1"]}})",
                 Clock::now() + std::chrono::milliseconds(100));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kDeadlineExceeded);
}

TEST_F(LifecycleTest, HttpIgnoresStatusCodesButNotFailedRequests) {
  testing::TestHttpServer server;
  server.Handle("/hook", [](const SeenRequest&) { return HttpReply{500, {}, "err"}; });
  Status ok =
      Run(R"({"httpGet": {"path": "/hook", "port": )" + std::to_string(server.port()) + "}}");
  EXPECT_TRUE(ok.ok()) << ok.error().str();
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].headers["user-agent"], "kube-lifecycle/1.33");

  uint16_t unused = berth::testing::UnusedPort();
  Status refused = Run(R"({"httpGet": {"path": "/hook", "port": )" + std::to_string(unused) + "}}");
  ASSERT_FALSE(refused.ok());
  std::string addr = "127.0.0.1:" + std::to_string(unused);
  EXPECT_EQ(refused.error().message(),
            "HTTP lifecycle hook (/hook) for Container \"app\" in Pod \"web_prod(u-7)\" failed - "
            "error: Get \"http://" +
                addr + "/hook\": dial tcp " + addr + ": connect: connection refused");
}

TEST_F(LifecycleTest, HttpsAnsweredInPlainHttpFallsBackToHttp) {
  testing::TestHttpServer server;  // plain HTTP
  server.Handle("/hook", [](const SeenRequest&) { return HttpReply{200}; });
  Status s = Run(R"({"httpGet": {"scheme": "HTTPS", "path": "/hook", "port": )" +
                 std::to_string(server.port()) + "}}");
  EXPECT_TRUE(s.ok()) << s.error().str();
  auto seen = server.requests();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().target, "/hook");
}

TEST_F(LifecycleTest, SleepWaitsAndStopsAtTheDeadline) {
  auto start = Clock::now();
  EXPECT_TRUE(Run(R"({"sleep": {"seconds": 1}})").ok());
  EXPECT_GE(Clock::now() - start, std::chrono::seconds(1));

  start = Clock::now();
  Status cut = Run(R"({"sleep": {"seconds": 30}})", start + std::chrono::milliseconds(100));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code(), Errc::kDeadlineExceeded);
  EXPECT_EQ(cut.error().message(),
            "Sleep lifecycle hook (30) for Container \"app\" in Pod \"web_prod(u-7)\" failed - "
            "error: container terminated before sleep hook finished");
}

TEST_F(LifecycleTest, InvalidHandler) {
  Status s = Run(R"({"tcpSocket": {"port": 80}})");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.error().message().starts_with("Cannot run handler: invalid handler: "));
}

}  // namespace
}  // namespace berth::agent
