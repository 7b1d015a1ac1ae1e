// End-to-end tests of the streaming server with our own SPDY and WebSocket
// clients and a backend that runs real processes.

#include "runtime/cri/streaming/server.h"

#include <gtest/gtest.h>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>
#include <thread>

#include "runtime/cri/streaming/tests/spdy_client.h"
#include "runtime/cri/streaming/tests/test_backend.h"
#include "runtime/cri/streaming/tests/ws_client.h"

namespace berth::cri::streaming {
namespace {

using namespace std::chrono_literals;
using testing::EchoServer;
using testing::HttpRequest;
using testing::SpdyClient;
using testing::TestBackend;
using testing::WsClient;
using testing::WsMessage;

const std::string kSuccess = R"({"metadata":{},"status":"Success"})";

std::vector<std::string> Sh(const std::string& script) {
  return {"/bin/sh", "-c", script};
}

std::string B64Decode(std::string_view s) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::decoded_size(s.size()), '\0');
  out.resize(b64::decode(out.data(), s.data(), s.size()).first);
  return out;
}

class StreamingTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer({}); }

  void StartServer(Config config) {
    server_.reset();
    backend_ = std::make_shared<TestBackend>();
    server_ = std::make_unique<Server>(backend_, config);
    auto addr = server_->Start("127.0.0.1:0");
    ASSERT_TRUE(addr.ok()) << addr.error().str();
  }

  std::string ExecUrl(std::vector<std::string> cmd, bool in, bool out, bool err, bool tty) {
    auto url = server_->GetExec({"c1", std::move(cmd), tty, in, out, err});
    EXPECT_TRUE(url.ok()) << url.error().str();
    return url.ok() ? *url : "";
  }

  std::string PortForwardUrl(std::vector<int32_t> ports = {}) {
    auto url = server_->GetPortForward({"sb1", std::move(ports)});
    EXPECT_TRUE(url.ok());
    return url.ok() ? *url : "";
  }

  std::shared_ptr<TestBackend> backend_;
  std::unique_ptr<Server> server_;
};

// Opens the streams the way client-go's v4 protocol does: error first, then
// stdin, stdout, stderr, resize, each after the previous one was replied.
struct SpdyExec {
  std::unique_ptr<SpdyClient> c;
  uint32_t error = 0, in = 0, out = 0, err = 0, resize = 0;
};

SpdyExec OpenSpdyExec(const std::string& url, const std::string& protocol, bool in, bool out,
                      bool err, bool resize, const std::string& prelude = {}) {
  SpdyExec s;
  auto c = SpdyClient::Connect(url, {protocol});
  EXPECT_TRUE(c.ok() && *c) << (c.ok() ? "refused" : c.error().str());
  if (!c.ok() || !*c) return s;
  s.c = std::move(*c);
  if (!prelude.empty()) s.c->SendRaw(prelude);
  auto open = [&](const char* type) {
    uint32_t id = s.c->OpenStream({{"streamType", type}});
    EXPECT_TRUE(s.c->WaitReply(id)) << type;
    EXPECT_FALSE(s.c->Stream(id).reset) << type;
    return id;
  };
  s.error = open("error");
  if (in) s.in = open("stdin");
  if (out) s.out = open("stdout");
  if (err) s.err = open("stderr");
  if (resize) s.resize = open("resize");
  return s;
}

// ---------------------------------------------------------------------------
// URLs, tokens, validation

TEST_F(StreamingTest, ValidatesRequestsLikeKubelet) {
  auto r = server_->GetExec({"", {"ls"}, false, false, true, false});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "missing required container_id");
  r = server_->GetExec({"c", {"ls"}, true, false, true, true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "tty and stderr cannot both be true");
  r = server_->GetExec({"c", {"ls"}, false, false, false, false});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "one of stdin, stdout, or stderr must be set");
  r = server_->GetAttach({"c", false, false, false, false});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "one of stdin, stdout, and stderr must be set");
  r = server_->GetPortForward({"", {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "missing required pod_sandbox_id");

  std::string url = ExecUrl({"ls"}, false, true, false, false);
  std::string prefix = "http://" + server_->address() + "/exec/";
  ASSERT_EQ(url.substr(0, prefix.size()), prefix);
  EXPECT_EQ(url.size(), prefix.size() + 8);
  url = *server_->GetAttach({"c", true, false, true, false});
  EXPECT_NE(url.find("/attach/"), std::string::npos);
  EXPECT_NE(PortForwardUrl().find("/portforward/"), std::string::npos);
}

TEST_F(StreamingTest, BaseUrlPathPrefixesRoutes) {
  Config config;
  config.base_url = "http://example.invalid:1/cri/streaming";
  StartServer(config);
  auto url = server_->GetExec({"c", {"true"}, false, false, true, false});
  ASSERT_TRUE(url.ok());
  ASSERT_EQ(url->substr(0, 32), "http://example.invalid:1/cri/exe");
  std::string token = url->substr(url->rfind('/') + 1);
  auto c = SpdyClient::Connect("http://" + server_->address() + "/cri/exec/" + token,
                               {"v4.channel.k8s.io"});
  ASSERT_TRUE(c.ok() && *c);
}

TEST_F(StreamingTest, UnknownReusedAndExpiredTokensAre404) {
  auto res = HttpRequest("http://" + server_->address() + "/exec/AAAAAAAA", "GET", {});
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(res->body, "404 page not found\n");

  std::string url = ExecUrl({"/bin/true"}, false, true, false, false);
  {
    auto s = OpenSpdyExec(url, "v4.channel.k8s.io", false, true, false, false);
    ASSERT_TRUE(s.c);
    EXPECT_EQ(s.c->ReadAll(s.error), kSuccess);
  }
  testing::HttpResponse refused;
  auto again = SpdyClient::Connect(url, {"v4.channel.k8s.io"}, &refused);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(refused.status, 404);

  // An exec token on the attach route is unknown there (and consumed).
  std::string exec_url = ExecUrl({"/bin/true"}, false, true, false, false);
  std::string token = exec_url.substr(exec_url.rfind('/') + 1);
  res = HttpRequest("http://" + server_->address() + "/attach/" + token, "GET", {});
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 404);

  Config config;
  config.token_ttl = 50ms;
  StartServer(config);
  url = ExecUrl({"/bin/true"}, false, true, false, false);
  std::this_thread::sleep_for(150ms);
  again = SpdyClient::Connect(url, {"v4.channel.k8s.io"}, &refused);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(refused.status, 404);
}

TEST_F(StreamingTest, SpdyProtocolNegotiationErrors) {
  testing::HttpResponse res;
  auto c = SpdyClient::Connect(ExecUrl({"/bin/true"}, false, true, false, false),
                               {"v9.channel.k8s.io"}, &res);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(*c);
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(res.Header("X-Accepted-Stream-Protocol-Versions"),
            (std::vector<std::string>{"v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io",
                                      "v2.channel.k8s.io", "channel.k8s.io"}));
  EXPECT_NE(res.body.find("unable to negotiate protocol"), std::string::npos);

  // A protocol but no upgrade headers.
  auto plain = HttpRequest(ExecUrl({"/bin/true"}, false, true, false, false), "POST",
                           {{"X-Stream-Protocol-Version", "v4.channel.k8s.io"}});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->status, 400);
  EXPECT_NE(plain->body.find("missing upgrade headers"), std::string::npos);

  // No protocol at all.
  plain = HttpRequest(ExecUrl({"/bin/true"}, false, true, false, false), "POST",
                      {{"Connection", "Upgrade"}, {"Upgrade", "SPDY/3.1"}});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->status, 400);

  // Port forward speaks only portforward.k8s.io.
  c = SpdyClient::Connect(PortForwardUrl(), {"v4.channel.k8s.io"}, &res);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(*c);
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(res.Header("X-Accepted-Stream-Protocol-Versions"),
            std::vector<std::string>{"portforward.k8s.io"});
}

TEST_F(StreamingTest, WebSocketUnknownProtocolIs403) {
  WsClient::Handshake hs;
  auto c = WsClient::Connect(ExecUrl({"/bin/true"}, false, true, false, false),
                             {"v9.channel.k8s.io"}, &hs);
  ASSERT_TRUE(c.ok()) << c.error().str();
  EXPECT_FALSE(*c);
  EXPECT_EQ(hs.status, 403);
}

// ---------------------------------------------------------------------------
// Exec over SPDY

TEST_F(StreamingTest, SpdyExecSeparatesOutputAndReportsSuccess) {
  auto s = OpenSpdyExec(ExecUrl(Sh("echo out; echo err >&2"), false, true, true, false),
                        "v4.channel.k8s.io", false, true, true, false);
  ASSERT_TRUE(s.c);
  EXPECT_EQ(s.c->ReadAll(s.out), "out\n");
  EXPECT_EQ(s.c->ReadAll(s.err), "err\n");
  EXPECT_EQ(s.c->ReadAll(s.error), kSuccess);
  EXPECT_TRUE(s.c->Stream(s.out).fin);
  EXPECT_TRUE(s.c->Stream(s.error).fin);
  EXPECT_TRUE(s.c->WaitGoAway());
  EXPECT_TRUE(s.c->WaitClosed());
}

TEST_F(StreamingTest, SpdyExecNonZeroExitStatus) {
  auto s = OpenSpdyExec(ExecUrl(Sh("echo partial; exit 3"), false, true, false, false),
                        "v5.channel.k8s.io", false, true, false, false);
  ASSERT_TRUE(s.c);
  EXPECT_EQ(s.c->ReadAll(s.out), "partial\n");
  auto status = boost::json::parse(s.c->ReadAll(s.error)).as_object();
  EXPECT_EQ(status["status"], "Failure");
  EXPECT_EQ(status["reason"], "NonZeroExitCode");
  EXPECT_EQ(status["message"],
            "command terminated with non-zero exit code: error executing command "
            "[/bin/sh -c echo partial; exit 3], exit code 3");
  auto cause = status["details"].as_object()["causes"].as_array()[0].as_object();
  EXPECT_EQ(cause["reason"], "ExitCode");
  EXPECT_EQ(cause["message"], "3");
}

TEST_F(StreamingTest, SpdyV2ErrorStreamIsText) {
  auto s = OpenSpdyExec(ExecUrl(Sh("exit 4"), false, true, false, false), "v2.channel.k8s.io",
                        false, true, false, false);
  ASSERT_TRUE(s.c);
  EXPECT_EQ(s.c->ReadAll(s.error),
            "command terminated with non-zero exit code: error executing command "
            "[/bin/sh -c exit 4], exit code 4");
  auto ok = OpenSpdyExec(ExecUrl(Sh("true"), false, true, false, false), "v3.channel.k8s.io", false,
                         true, false, false);
  ASSERT_TRUE(ok.c);
  EXPECT_EQ(ok.c->ReadAll(ok.error), "");
  EXPECT_TRUE(ok.c->Stream(ok.error).fin);
}

TEST_F(StreamingTest, SpdyExecForwardsAndClosesStdin) {
  auto s = OpenSpdyExec(ExecUrl(Sh("cat; echo done"), true, true, false, false),
                        "v4.channel.k8s.io", true, true, false, false);
  ASSERT_TRUE(s.c);
  s.c->Send(s.in, "hello ");
  s.c->Send(s.in, "world\n");
  ASSERT_TRUE(s.c->WaitContains(s.out, "hello world\n"));
  s.c->Fin(s.in);  // cat sees EOF
  EXPECT_EQ(s.c->ReadAll(s.out), "hello world\ndone\n");
  EXPECT_EQ(s.c->ReadAll(s.error), kSuccess);
}

TEST_F(StreamingTest, SpdyExecBackendErrorIsInternalError) {
  auto url = server_->GetExec({"missing", {"ls"}, false, false, true, false});
  ASSERT_TRUE(url.ok());
  auto s = OpenSpdyExec(*url, "v4.channel.k8s.io", false, true, false, false);
  ASSERT_TRUE(s.c);
  auto status = boost::json::parse(s.c->ReadAll(s.error)).as_object();
  EXPECT_EQ(status["status"], "Failure");
  EXPECT_EQ(status["reason"], "InternalError");
  EXPECT_EQ(status["code"], 500);
  EXPECT_NE(status["message"].as_string().find("error executing command in container: "),
            std::string::npos);
}

TEST_F(StreamingTest, SpdyTtyResizeReachesTheProcess) {
  auto s =
      OpenSpdyExec(ExecUrl(Sh("read a; stty size; read b; stty size"), true, true, false, true),
                   "v4.channel.k8s.io", true, true, false, true);
  ASSERT_TRUE(s.c);
  s.c->Send(s.resize, "{\"Width\":80,\"Height\":24}\n");
  s.c->Send(s.in, "x\n");
  ASSERT_TRUE(s.c->WaitContains(s.out, "24 80")) << s.c->Stream(s.out).data;
  s.c->Send(s.resize, "{\"Width\":100,");  // split across frames
  s.c->Send(s.resize, "\"Height\":30}\n");
  s.c->Send(s.in, "y\n");
  ASSERT_TRUE(s.c->WaitContains(s.out, "30 100")) << s.c->Stream(s.out).data;
  EXPECT_EQ(s.c->ReadAll(s.error), kSuccess);
  EXPECT_EQ(backend_->resizes(), (std::vector<TerminalSize>{{80, 24}, {100, 30}}));
}

TEST_F(StreamingTest, SpdyAttachReportsSuccessWhateverTheExitCode) {
  ASSERT_TRUE(
      backend_->StartContainer("ctr", Sh("while read l; do echo got:$l; done; exit 3"), false)
          .ok());
  auto url = server_->GetAttach({"ctr", true, false, true, false});
  ASSERT_TRUE(url.ok());
  auto s = OpenSpdyExec(*url, "v4.channel.k8s.io", true, true, false, false);
  ASSERT_TRUE(s.c);
  s.c->Send(s.in, "x\n");
  ASSERT_TRUE(s.c->WaitContains(s.out, "got:x\n"));
  s.c->Fin(s.in);
  EXPECT_EQ(s.c->ReadAll(s.error), kSuccess);
}

TEST_F(StreamingTest, SpdyClientGoneCancelsTheProcess) {
  auto s = OpenSpdyExec(ExecUrl({"/bin/sleep", "30"}, false, true, false, false),
                        "v4.channel.k8s.io", false, true, false, false);
  ASSERT_TRUE(s.c);
  std::this_thread::sleep_for(100ms);
  s.c.reset();
  for (int i = 0; i < 100 && backend_->cancels() == 0; ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(backend_->cancels(), 1);
}

TEST_F(StreamingTest, SpdyMissingStreamsTimeOut) {
  Config config;
  config.stream_creation_timeout = 200ms;
  StartServer(config);
  auto c =
      SpdyClient::Connect(ExecUrl({"/bin/true"}, false, true, false, false), {"v4.channel.k8s.io"});
  ASSERT_TRUE(c.ok() && *c);
  (*c)->OpenStream({{"streamType", "error"}});  // stdout never comes
  EXPECT_TRUE((*c)->WaitClosed(5s));
}

TEST_F(StreamingTest, SpdyPingIsEchoed) {
  auto s = OpenSpdyExec(ExecUrl({"/bin/sleep", "1"}, false, true, false, false),
                        "v4.channel.k8s.io", false, true, false, false);
  ASSERT_TRUE(s.c);
  s.c->SendRaw(spdy::EncodePing(1));
  for (int i = 0; i < 100 && s.c->Frames(spdy::FrameType::kPing).empty(); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  auto pings = s.c->Frames(spdy::FrameType::kPing);
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].ping_id, 1u);
}

TEST_F(StreamingTest, SpdyFlowControlHonouredOncePeerUsesIt) {
  // The peer announces a 1000-byte initial window: the server may send no
  // more until a WINDOW_UPDATE.
  std::string settings = spdy::EncodeSettings(0, {{0, spdy::kSettingsInitialWindowSize, 1000}});
  auto s =
      OpenSpdyExec(ExecUrl(Sh("head -c 5000 /dev/zero | tr '\\0' a"), false, true, false, false),
                   "v4.channel.k8s.io", false, true, false, false, settings);
  ASSERT_TRUE(s.c);
  ASSERT_TRUE(s.c->WaitStream(s.out, [](const auto& st) { return st.data.size() >= 1000; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(s.c->Stream(s.out).data.size(), 1000u);
  s.c->SendRaw(spdy::EncodeWindowUpdate(s.out, 10000));
  EXPECT_EQ(s.c->ReadAll(s.out), std::string(5000, 'a'));
  EXPECT_EQ(s.c->ReadAll(s.error), kSuccess);
}

TEST_F(StreamingTest, SpdyGrantsCreditAsStdinIsConsumed) {
  auto s = OpenSpdyExec(ExecUrl(Sh("cat >/dev/null"), true, true, false, false),
                        "v4.channel.k8s.io", true, true, false, false);
  ASSERT_TRUE(s.c);
  std::string chunk(4096, 'x');
  for (int i = 0; i < 40; ++i)
    s.c->Send(s.in, chunk);
  auto credit = [&](bool session) {
    uint64_t sum = 0;
    for (const auto& f : s.c->Frames(spdy::FrameType::kWindowUpdate)) {
      if ((f.stream_id == 0) == session) sum += f.delta;
      if (f.stream_id != 0) {
        EXPECT_EQ(f.stream_id, s.in);
      }
    }
    return sum;
  };
  // cat consumes the 160 KiB, so credit comes back for the stream and the
  // session (no credit is due after our FIN, so wait before sending it).
  for (int i = 0; i < 250 && (credit(false) < 64 * 1024 || credit(true) < 64 * 1024); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_GE(credit(false), 64u * 1024);
  EXPECT_GE(credit(true), 64u * 1024);
  s.c->Fin(s.in);
  EXPECT_EQ(s.c->ReadAll(s.error), kSuccess);
}

// ---------------------------------------------------------------------------
// Exec over WebSocket

struct WsTranscript {
  std::map<int, std::string> channels;
  std::vector<WsMessage> messages;
};

WsTranscript ReadUntilClosed(WsClient& c, bool base64) {
  WsTranscript t;
  while (auto m = c.Read()) {
    t.messages.push_back(*m);
    if (m->data.empty()) continue;
    int ch = base64 ? m->data[0] - '0' : static_cast<unsigned char>(m->data[0]);
    std::string payload = m->data.substr(1);
    t.channels[ch] += base64 ? B64Decode(payload) : payload;
  }
  return t;
}

TEST_F(StreamingTest, WebSocketV4Exec) {
  WsClient::Handshake hs;
  auto c =
      WsClient::Connect(ExecUrl(Sh("echo out; echo err >&2; exit 2"), false, true, true, false),
                        {"v4.channel.k8s.io", "channel.k8s.io"}, &hs);
  ASSERT_TRUE(c.ok() && *c);
  EXPECT_EQ(hs.protocol, "v4.channel.k8s.io");
  auto t = ReadUntilClosed(**c, false);
  ASSERT_FALSE(t.messages.empty());
  EXPECT_EQ(t.messages[0].data, std::string(1, '\x01'));  // "connected", on stdout
  EXPECT_FALSE(t.messages[0].text);
  EXPECT_EQ(t.channels[1], "out\n");
  EXPECT_EQ(t.channels[2], "err\n");
  auto status = boost::json::parse(t.channels[3]).as_object();
  EXPECT_EQ(status["reason"], "NonZeroExitCode");
}

TEST_F(StreamingTest, WebSocketV5CloseSignalEndsStdin) {
  WsClient::Handshake hs;
  auto c = WsClient::Connect(ExecUrl({"/bin/cat"}, true, true, false, false),
                             {"v5.channel.k8s.io", "v4.channel.k8s.io"}, &hs);
  ASSERT_TRUE(c.ok() && *c);
  EXPECT_EQ(hs.protocol, "v5.channel.k8s.io");
  (*c)->Send(
      std::string("\x00"
                  "abc",
                  4));
  (*c)->Send(std::string("\xff\x00", 2));  // CLOSE stdin
  auto t = ReadUntilClosed(**c, false);
  EXPECT_EQ(t.channels[1], "abc");
  EXPECT_EQ(t.channels[3], kSuccess);
}

TEST_F(StreamingTest, WebSocketBase64Protocol) {
  WsClient::Handshake hs;
  auto c = WsClient::Connect(ExecUrl(Sh("read l; echo got:$l"), true, true, false, false),
                             {"v4.base64.channel.k8s.io"}, &hs);
  ASSERT_TRUE(c.ok() && *c);
  EXPECT_EQ(hs.protocol, "v4.base64.channel.k8s.io");
  (*c)->Send("0" + std::string("aGkK"), true);  // base64("hi\n") on stdin
  auto t = ReadUntilClosed(**c, true);
  ASSERT_FALSE(t.messages.empty());
  EXPECT_EQ(t.messages[0].data, "1");
  EXPECT_TRUE(t.messages[0].text);
  EXPECT_EQ(t.channels[1], "got:hi\n");
  EXPECT_EQ(t.channels[3], kSuccess);
}

TEST_F(StreamingTest, WebSocketV1WithoutSubprotocol) {
  auto c = WsClient::Connect(ExecUrl(Sh("echo x; exit 1"), false, true, false, false), {});
  ASSERT_TRUE(c.ok() && *c);
  auto t = ReadUntilClosed(**c, false);
  EXPECT_EQ(t.channels[1], "x\n");
  // Pre-v4 error channel: the message text only.
  EXPECT_EQ(t.channels[3],
            "command terminated with non-zero exit code: error executing command "
            "[/bin/sh -c echo x; exit 1], exit code 1");
}

TEST_F(StreamingTest, WebSocketTtyResize) {
  auto c = WsClient::Connect(ExecUrl(Sh("read a; stty size"), true, true, false, true),
                             {"v4.channel.k8s.io"});
  ASSERT_TRUE(c.ok() && *c);
  (*c)->Send(std::string("\x04") + R"({"Width":120,"Height":40})");
  (*c)->Send(
      std::string("\x00"
                  "go\n",
                  4));
  auto t = ReadUntilClosed(**c, false);
  EXPECT_NE(t.channels[1].find("40 120"), std::string::npos) << t.channels[1];
  EXPECT_EQ(t.channels[3], kSuccess);
}

// ---------------------------------------------------------------------------
// Port forward

TEST_F(StreamingTest, SpdyPortForwardEchoesOverConcurrentRequests) {
  EchoServer echo;
  std::string port = std::to_string(echo.port());
  auto c = SpdyClient::Connect(PortForwardUrl(), {"portforward.k8s.io"});
  ASSERT_TRUE(c.ok() && *c);
  auto& cl = **c;
  auto pair = [&](const std::string& request_id) {
    uint32_t err =
        cl.OpenStream({{"streamType", "error"}, {"port", port}, {"requestID", request_id}});
    EXPECT_TRUE(cl.WaitReply(err));
    cl.Fin(err);  // client-go closes its side of the error stream at once
    uint32_t data =
        cl.OpenStream({{"streamType", "data"}, {"port", port}, {"requestID", request_id}});
    EXPECT_TRUE(cl.WaitReply(data));
    return std::make_pair(err, data);
  };
  auto [err0, data0] = pair("0");
  auto [err1, data1] = pair("1");
  cl.Send(data0, "ping");
  cl.Send(data1, "pong");
  EXPECT_TRUE(cl.WaitContains(data0, "ping"));
  EXPECT_TRUE(cl.WaitContains(data1, "pong"));
  cl.Fin(data0);  // -> shutdown(SHUT_WR) -> the echo server closes -> FIN back
  EXPECT_EQ(cl.ReadAll(data0), "ping");
  EXPECT_TRUE(cl.Stream(data0).fin);
  EXPECT_EQ(cl.ReadAll(err0), "");
  EXPECT_TRUE(cl.Stream(err0).fin);
  // The other forwarded connection is unaffected.
  cl.Send(data1, "again");
  EXPECT_TRUE(cl.WaitContains(data1, "pongagain"));
  cl.Reset(data1);  // client-go resets the data stream when done
  EXPECT_EQ(cl.ReadAll(err1), "");
  EXPECT_TRUE(cl.Stream(err1).fin);
  EXPECT_EQ(backend_->forwards().size(), 2u);
  EXPECT_EQ(backend_->forwards()[0], std::make_pair(std::string("sb1"), int32_t(echo.port())));
}

TEST_F(StreamingTest, SpdyPortForwardReportsConnectErrors) {
  uint16_t port = testing::UnusedPort();
  auto c = SpdyClient::Connect(PortForwardUrl(), {"portforward.k8s.io"});
  ASSERT_TRUE(c.ok() && *c);
  auto& cl = **c;
  std::string p = std::to_string(port);
  uint32_t err = cl.OpenStream({{"streamType", "error"}, {"port", p}, {"requestID", "0"}});
  uint32_t data = cl.OpenStream({{"streamType", "data"}, {"port", p}, {"requestID", "0"}});
  std::string msg = cl.ReadAll(err);
  EXPECT_EQ(msg.rfind("error forwarding port " + p + " to pod sb1, uid : ", 0), 0u) << msg;
  EXPECT_TRUE(cl.Stream(data).fin);
}

TEST_F(StreamingTest, SpdyPortForwardRejectsStreamsWithoutPort) {
  auto c = SpdyClient::Connect(PortForwardUrl(), {"portforward.k8s.io"});
  ASSERT_TRUE(c.ok() && *c);
  uint32_t id = (*c)->OpenStream({{"streamType", "data"}});
  ASSERT_TRUE((*c)->WaitReply(id));
  EXPECT_TRUE((*c)->Stream(id).reset);
  EXPECT_FALSE((*c)->Stream(id).replied);
  EXPECT_EQ((*c)->Stream(id).reset_status, spdy::kCancel);
}

TEST_F(StreamingTest, WebSocketPortForward) {
  EchoServer echo;
  uint16_t port = echo.port();
  WsClient::Handshake hs;
  auto c = WsClient::Connect(PortForwardUrl({port}), {"v4.channel.k8s.io"}, &hs);
  ASSERT_TRUE(c.ok() && *c);
  EXPECT_EQ(hs.protocol, "v4.channel.k8s.io");
  std::string port_le{static_cast<char>(port & 0xff), static_cast<char>(port >> 8)};
  auto m = (*c)->Read();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, std::string(1, '\0') + port_le);  // data channel 0
  m = (*c)->Read();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, std::string(1, '\1') + port_le);  // error channel 1
  (*c)->Send(std::string(1, '\0') + "hello");
  m = (*c)->Read();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, std::string(1, '\0') + "hello");
  (*c)->Close();
  EXPECT_TRUE((*c)->WaitClosed());
}

TEST_F(StreamingTest, WebSocketPortForwardTakesPortsFromQuery) {
  uint16_t port = testing::UnusedPort();
  auto c =
      WsClient::Connect(PortForwardUrl() + "?port=" + std::to_string(port), {"v4.channel.k8s.io"});
  ASSERT_TRUE(c.ok() && *c);
  auto t = ReadUntilClosed(**c, false);
  // Port bytes, then the error on channel 1, then the server closes.
  EXPECT_NE(t.channels[1].find("error forwarding port " + std::to_string(port)), std::string::npos)
      << t.channels[1];
}

}  // namespace
}  // namespace berth::cri::streaming
