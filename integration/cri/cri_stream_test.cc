// Exec, Attach and PortForward through the URLs `berth cri` returns, with
// the WebSocket and SPDY clients kubelet's streaming peers speak (label
// priv, same fixture as cri_pod_test.cc).

#include <gtest/gtest.h>

#include "common/strings.h"
#include "integration/cri/cri_fixture.h"
#include "runtime/cri/streaming/tests/spdy_client.h"
#include "runtime/cri/streaming/tests/ws_client.h"

namespace berth::integration {
namespace {

using cri::streaming::testing::SpdyClient;
using cri::streaming::testing::WsClient;

std::string ExecUrl(v1::RuntimeService::Stub& stub, const std::string& id,
                    std::vector<std::string> cmd, bool tty, bool in, bool out, bool err) {
  grpc::ClientContext ctx;
  v1::ExecRequest req;
  req.set_container_id(id);
  for (const std::string& c : cmd)
    req.add_cmd(c);
  req.set_tty(tty);
  req.set_stdin(in);
  req.set_stdout(out);
  req.set_stderr(err);
  v1::ExecResponse resp;
  grpc::Status s = stub.Exec(Ctx(ctx), req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.url();
}

// Attach with stdin, stdout and stderr: the streaming URL ("" on failure).
std::string AttachUrl(v1::RuntimeService::Stub& stub, const std::string& id) {
  grpc::ClientContext ctx;
  v1::AttachRequest req;
  req.set_container_id(id);
  req.set_stdin(true);
  req.set_stdout(true);
  req.set_stderr(true);
  v1::AttachResponse resp;
  grpc::Status s = stub.Attach(Ctx(ctx), req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.url();
}

// Collects WebSocket channel frames until the error channel (3) speaks.
struct WsResult {
  std::string out, err, status;
};
WsResult CollectWs(WsClient& c) {
  WsResult r;
  while (auto m = c.Read()) {
    if (m->data.empty()) continue;
    char channel = m->data[0];
    std::string payload = m->data.substr(1);
    if (channel == 1) r.out += payload;
    if (channel == 2) r.err += payload;
    if (channel == 3) {
      r.status += payload;
      break;
    }
  }
  return r;
}

TEST_P(CriPodTest, ExecOverWebSocketReportsOutputAndExitCode) {
  v1::PodSandboxConfig pod = PodConfig("wsexec");
  std::string sandbox = RunPod(pod);
  std::string c = StartContainer(sandbox, pod, ContainerConfig("sleeper", {"sleep", "1000"}));
  ASSERT_FALSE(c.empty());
  std::string url = ExecUrl(cri_->runtime(), c, {"sh", "-c", "echo out; echo err >&2; exit 3"},
                            false, false, true, true);
  WsClient::Handshake hs;
  auto ws = WsClient::Connect(url, {"v5.channel.k8s.io", "v4.channel.k8s.io"}, &hs);
  ASSERT_TRUE(ws.ok() && *ws) << (ws.ok() ? hs.body : ws.error().str());
  EXPECT_EQ(hs.protocol, "v5.channel.k8s.io");
  WsResult r = CollectWs(**ws);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_NE(r.status.find("NonZeroExitCode"), std::string::npos) << r.status;
  EXPECT_NE(r.status.find("\"message\":\"3\""), std::string::npos) << r.status;
}

TEST_P(CriPodTest, ExecWithTtyOverSpdyResizes) {
  v1::PodSandboxConfig pod = PodConfig("spdyexec");
  std::string sandbox = RunPod(pod);
  std::string c = StartContainer(sandbox, pod, ContainerConfig("sleeper", {"sleep", "1000"}));
  ASSERT_FALSE(c.empty());
  std::string url =
      ExecUrl(cri_->runtime(), c, {"sh", "-c", "sleep 0.5; stty size"}, true, true, true, false);
  auto client = SpdyClient::Connect(url, {"v4.channel.k8s.io"});
  ASSERT_TRUE(client.ok() && *client);
  SpdyClient& spdy = **client;
  uint32_t error = spdy.OpenStream({{"streamType", "error"}});
  uint32_t in = spdy.OpenStream({{"streamType", "stdin"}});
  uint32_t out = spdy.OpenStream({{"streamType", "stdout"}});
  uint32_t resize = spdy.OpenStream({{"streamType", "resize"}});
  ASSERT_TRUE(spdy.WaitReply(resize));
  spdy.Send(resize, R"({"Width":123,"Height":45})");
  EXPECT_TRUE(spdy.WaitContains(out, "45 123")) << spdy.Stream(out).data;
  std::string status = spdy.ReadAll(error);
  EXPECT_NE(status.find("Success"), std::string::npos) << status;
  (void)in;
}

TEST_P(CriPodTest, AttachOverWebSocketEchoesStdin) {
  std::string c = StartStdinCat("attach");
  ASSERT_FALSE(c.empty());
  std::string url = AttachUrl(cri_->runtime(), c);
  ASSERT_FALSE(url.empty());
  auto ws = WsClient::Connect(url, {"v4.channel.k8s.io"});
  ASSERT_TRUE(ws.ok() && *ws);
  (*ws)->Send(std::string("\0hello attach\n", 14));
  std::string seen;
  while (auto m = (*ws)->Read()) {
    if (!m->data.empty() && m->data[0] == 1) seen += m->data.substr(1);
    if (seen.find("hello attach\n") != std::string::npos) break;
  }
  EXPECT_EQ(seen, "hello attach\n");
  // The log has it too.
  EXPECT_EQ(LogLines(Status(c).log_path()), std::vector<std::string>{"stdout F hello attach"});
}

TEST_P(CriPodTest, AttachOverSpdyEchoesStdin) {
  std::string c = StartStdinCat("spdyattach");
  ASSERT_FALSE(c.empty());
  std::string url = AttachUrl(cri_->runtime(), c);
  ASSERT_FALSE(url.empty());
  auto client = SpdyClient::Connect(url, {"v4.channel.k8s.io"});
  ASSERT_TRUE(client.ok() && *client);
  SpdyClient& spdy = **client;
  spdy.OpenStream({{"streamType", "error"}});
  uint32_t in = spdy.OpenStream({{"streamType", "stdin"}});
  uint32_t out = spdy.OpenStream({{"streamType", "stdout"}});
  spdy.OpenStream({{"streamType", "stderr"}});
  ASSERT_TRUE(spdy.WaitReply(out));
  spdy.Send(in, "hello spdy\n");
  EXPECT_TRUE(spdy.WaitContains(out, "hello spdy\n")) << spdy.Stream(out).data;
}

TEST_P(CriPodTest, PortForwardOverSpdyReachesThePod) {
  v1::PodSandboxConfig pod = PodConfig("forward");
  std::string sandbox = RunPod(pod);
  std::string c = StartContainer(
      sandbox, pod,
      ContainerConfig("web", {"sh", "-c", "while true; do echo forwarded | nc -l -p 8080; done"}));
  ASSERT_FALSE(c.empty());
  std::this_thread::sleep_for(300ms);  // nc listens
  grpc::ClientContext ctx;
  v1::PortForwardRequest req;
  req.set_pod_sandbox_id(sandbox);
  req.add_port(8080);
  v1::PortForwardResponse resp;
  grpc::Status s = cri_->runtime().PortForward(Ctx(ctx), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  auto client = SpdyClient::Connect(resp.url(), {"portforward.k8s.io"});
  ASSERT_TRUE(client.ok() && *client);
  SpdyClient& spdy = **client;
  uint32_t error = spdy.OpenStream({{"streamType", "error"}, {"port", "8080"}, {"requestID", "0"}});
  uint32_t data = spdy.OpenStream({{"streamType", "data"}, {"port", "8080"}, {"requestID", "0"}});
  ASSERT_TRUE(spdy.WaitReply(data));
  EXPECT_TRUE(spdy.WaitContains(data, "forwarded\n")) << spdy.Stream(error).data;
}

}  // namespace
}  // namespace berth::integration
