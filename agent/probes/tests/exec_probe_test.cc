// exec probes through a fake CRI runtime (ExecSync in process).

#include <gtest/gtest.h>

#include "agent/probes/probe.h"
#include "agent/probes/tests/test_servers.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;

class ExecProbeTest : public ::testing::Test {
 protected:
  ProbeOutcome Run(const std::string& probe_json) {
    ProbeTarget target;
    target.container_id = "c-123";
    target.container = &container_;
    target.cri = &cri_.client();
    return RunProbe(bj::parse(probe_json).as_object(), target);
  }

  testing::FakeCri cri_;
  bj::object container_ = bj::parse(R"({"name": "app", "env": [
      {"name": "FILE", "value": "/tmp/healthy"},
      {"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]})")
                              .as_object();
};

TEST_F(ExecProbeTest, ExitZeroSucceedsWithOutput) {
  cri_.SetExec([](const v1::ExecSyncRequest&, v1::ExecSyncResponse* resp) {
    resp->set_stdout("fine\n");
    resp->set_exit_code(0);
    return grpc::Status::OK;
  });
  ProbeOutcome out = Run(R"js({"exec": {"command": ["cat", "$(FILE)", "$(SECRET)", "$(NONE)"]},
                             "timeoutSeconds": 7})js");
  EXPECT_EQ(out.result, ProbeResult::kSuccess);
  EXPECT_EQ(out.message, "fine\n");
  auto calls = cri_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].container_id(), "c-123");
  EXPECT_EQ(calls[0].timeout(), 7);
  // Only literal env values expand; valueFrom variables read as "".
  std::vector<std::string> cmd(calls[0].cmd().begin(), calls[0].cmd().end());
  EXPECT_EQ(cmd, (std::vector<std::string>{"cat", "/tmp/healthy", "", "$(NONE)"}));
}

TEST_F(ExecProbeTest, NonZeroExitFailsWithStdoutThenStderr) {
  cri_.SetExec([](const v1::ExecSyncRequest&, v1::ExecSyncResponse* resp) {
    resp->set_stdout("out;");
    resp->set_stderr("err");
    resp->set_exit_code(2);
    return grpc::Status::OK;
  });
  ProbeOutcome out = Run(R"({"exec": {"command": ["false"]}})");
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_EQ(out.message, "out;err");
  EXPECT_EQ(cri_.calls()[0].timeout(), 1);  // timeoutSeconds defaults to 1
}

TEST_F(ExecProbeTest, OutputIsCutAtTenKilobytes) {
  cri_.SetExec([](const v1::ExecSyncRequest&, v1::ExecSyncResponse* resp) {
    resp->set_stdout(std::string(20000, 'o'));
    resp->set_exit_code(1);
    return grpc::Status::OK;
  });
  EXPECT_EQ(Run(R"({"exec": {"command": ["x"]}})").message.size(), 10240u);
}

TEST_F(ExecProbeTest, TimeoutFailsWithUpstreamsMessage) {
  cri_.SetExec([](const v1::ExecSyncRequest&, v1::ExecSyncResponse*) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "command timed out after 2 s");
  });
  ProbeOutcome out = Run(R"({"exec": {"command": ["sh", "-c", "sleep 10"]}, "timeoutSeconds": 2})");
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_EQ(out.message, "command timed out: \"sh -c sleep 10\" timed out after 2s");
}

TEST_F(ExecProbeTest, RuntimeErrorIsUnknown) {
  cri_.SetExec([](const v1::ExecSyncRequest&, v1::ExecSyncResponse*) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "container c-123 not found");
  });
  ProbeOutcome out = Run(R"({"exec": {"command": ["true"]}})");
  EXPECT_EQ(out.result, ProbeResult::kUnknown);
  EXPECT_NE(out.message.find("container c-123 not found"), std::string::npos) << out.message;
}

}  // namespace
}  // namespace berth::agent
