// The kubelet API end to end against the test bed (kubelet_fixture.h):
// authentication and authorization, the node and pod endpoints, and the
// exec/attach streams proxied to the runtime, reached as the apiserver
// reaches them (a client-certificate TLS hop).

#include <thread>

#include "agent/server/tests/kubelet_fixture.h"
#include "agent/server/tests/tls_forwarder.h"
#include "runtime/cri/streaming/tests/spdy_client.h"
#include "runtime/cri/streaming/tests/ws_client.h"

namespace berth::agent::testing {
namespace {

TEST_F(KubeletServerTest, AnonymousGets401) {
  Reply r = Kubelet(verb::get, "/pods", nullptr);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "Unauthorized");
  EXPECT_EQ(Kubelet(verb::get, "/nope", nullptr).status, 401);  // before routing
  EXPECT_EQ(Kubelet(verb::get, "/pods", nullptr, "not-a-token").status, 401);
  // A certificate from another CA does not count.
  pki::Credential other_ca = pki::SelfSignedCa("other").value();
  pki::Credential stranger = Credential(other_ca, "kubernetes-admin", {"system:masters"});
  EXPECT_EQ(Kubelet(verb::get, "/pods", &stranger).status, 401);
}

TEST_F(KubeletServerTest, UserWithoutRightsGets403) {
  Reply r = Kubelet(verb::get, "/pods", &alice_);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body,
            "Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[pods proxy])\n");
  r = Kubelet(verb::get, "/containerLogs/default/p/c", &alice_);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[proxy])\n");
  r = Kubelet(verb::post, "/exec/default/p/c?command=id&stdout=1", &alice_);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("verb=create"), std::string::npos) << r.body;
  EXPECT_EQ(Kubelet(verb::get, "/stats/summary", &alice_).body,
            "Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[stats])\n");
}

TEST_F(KubeletServerTest, SystemMastersGet200) {
  Reply pods = AsAdmin("/pods");
  ASSERT_EQ(pods.status, 200) << pods.body;
  bj::object list = bj::parse(pods.body).as_object();
  EXPECT_EQ(list.at("kind"), "PodList");
  EXPECT_EQ(list.at("items").at(0).at("metadata").at("uid"), bj::value(uid_));
  // The apiserver's own kubelet client identity.
  pki::Credential apiserver{ReadFile(dir_ / "pki/apiserver-kubelet-client.crt").value(),
                            ReadFile(dir_ / "pki/apiserver-kubelet-client.key").value()};
  EXPECT_EQ(Kubelet(verb::get, "/pods", &apiserver).status, 200);

  EXPECT_EQ(AsAdmin("/healthz").body, "ok");
  EXPECT_EQ(AsAdmin("/healthz/ping").body, "ok");
  EXPECT_EQ(AsAdmin("/healthz?verbose").body,
            "[+]ping ok\n[+]log ok\n[+]syncloop ok\nhealthz check passed\n");
  {
    std::lock_guard lock(mu_);
    syncloop_ok_ = false;
  }
  Reply sick = AsAdmin("/healthz");
  EXPECT_EQ(sick.status, 500);
  EXPECT_EQ(sick.body,
            "[+]ping ok\n[+]log ok\n[-]syncloop failed: reason withheld\nhealthz check failed\n");
  EXPECT_EQ(AsAdmin("/healthz/syncloop").body, "internal server error: sync loop stuck\n");
  EXPECT_EQ(AsAdmin("/nope").status, 404);
  EXPECT_EQ(AsAdmin("/pods", verb::delete_).status, 405);

  Reply running = AsAdmin("/runningpods/");
  ASSERT_EQ(running.status, 200);
  bj::object rp = bj::parse(running.body).as_object();
  EXPECT_EQ(rp.at("items").at(0).at("metadata").at("name"), "p");
  EXPECT_EQ(rp.at("items").at(0).at("spec").at("containers").as_array().size(), 2u);
}

TEST_F(KubeletServerTest, BearerTokensAreReviewedAndAuthorized) {
  ASSERT_EQ(
      Api("POST", "/api/v1/namespaces/default/serviceaccounts", R"({"metadata":{"name":"nobody"}})")
          .status,
      201);
  ASSERT_EQ(Api("POST", "/api/v1/namespaces/default/serviceaccounts",
                R"({"metadata":{"name":"scraper"}})")
                .status,
            201);
  ASSERT_EQ(Api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                R"({"metadata":{"name":"kubelet-stats"},"rules":[{"apiGroups":[""],
                    "resources":["nodes/stats","nodes/metrics"],"verbs":["get"]}]})")
                .status,
            201);
  ASSERT_EQ(Api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                R"({"metadata":{"name":"scraper"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io",
                    "kind":"ClusterRole","name":"kubelet-stats"},"subjects":[{"kind":"ServiceAccount",
                    "name":"scraper","namespace":"default"}]})")
                .status,
            201);
  auto token = [&](const std::string& sa) {
    Reply r = Api("POST", "/api/v1/namespaces/default/serviceaccounts/" + sa + "/token",
                  R"({"spec":{}})");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(bj::parse(r.body).at("status").at("token").as_string());
  };
  std::string nobody = token("nobody");
  std::string scraper = token("scraper");
  Reply denied = Kubelet(verb::get, "/metrics", nullptr, nobody);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.body,
            "Forbidden (user=system:serviceaccount:default:nobody, verb=get, resource=nodes, "
            "subresource(s)=[metrics])\n");
  Reply metrics = Kubelet(verb::get, "/metrics", nullptr, scraper);
  EXPECT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_EQ(Kubelet(verb::get, "/stats/summary", nullptr, scraper).status, 200);
  // Its role does not reach nodes/proxy.
  EXPECT_EQ(Kubelet(verb::get, "/pods", nullptr, scraper).status, 403);
}

TEST_F(KubeletServerTest, ContainerLogsWithOptions) {
  EXPECT_EQ(AsAdmin("/containerLogs/default/p/c").body, "new 1\nnew 2\nnew 3\n");
  EXPECT_EQ(AsAdmin("/containerLogs/default/p/c?tailLines=1").body, "new 3\n");
  EXPECT_EQ(AsAdmin("/containerLogs/default/p/c?tailLines=2&timestamps=true").body,
            "2023-11-14T22:14:02.000000000Z new 2\n2023-11-14T22:14:03.500000000Z new 3\n");
  EXPECT_EQ(AsAdmin("/containerLogs/default/p/c?limitBytes=8").body, "new 1\nne");
  EXPECT_EQ(AsAdmin("/containerLogs/default/p/c?sinceTime=2023-11-14T22:14:02Z").body,
            "new 2\nnew 3\n");
  EXPECT_EQ(AsAdmin("/containerLogs/default/p/c?previous=true").body, "old line 1\nold line 2\n");

  Reply r = AsAdmin("/containerLogs/default/p/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "container \"nope\" not found in pod \"p\"");
  r = AsAdmin("/containerLogs/default/q/c");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "pod \"q\" does not exist");
  r = AsAdmin("/containerLogs/default/p/c?tailLines=x");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"message": "Unable to decode query."})");
  EXPECT_EQ(AsAdmin("/containerLogs/default/p/c?limitBytes=0").status, 422);
  // d has no log file and e no container yet.
  r = AsAdmin("/containerLogs/default/p/d?previous=true");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "previous terminated container \"d\" in pod \"p\" not found");
  r = AsAdmin("/containerLogs/default/p/e");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "container \"e\" in pod \"p\" is waiting to start - no logs yet");

  // The old container exited, the new one is about to start: both read the
  // exited one, since it is the last state of a container that restarts.
  runtime_->SetState("c-new", v1::CONTAINER_EXITED, 1);
  runtime_->AddContainer({"c-next", "s1", "c", v1::CONTAINER_CREATED, kT0 + 10, 2, 0,
                          logs_dir_.path() + "/none.log", 0, 0});
  EXPECT_EQ(AsAdmin("/containerLogs/default/p/c").body, "new 1\nnew 2\nnew 3\n");
  EXPECT_EQ(AsAdmin("/containerLogs/default/p/c?previous=1").body, "new 1\nnew 2\nnew 3\n");
}

TEST_F(KubeletServerTest, ContainerLogsFollowThePodStatusWhenItHasOne) {
  bj::object pod = pod_;
  pod["status"] = bj::parse(R"({"containerStatuses":[
      {"name":"c","containerID":"containerd://c-new","state":{"running":{}},
       "lastState":{"terminated":{"exitCode":1,"containerID":"containerd://c-old"}}},
      {"name":"e","state":{"waiting":{"reason":"ErrImagePull"}}},
      {"name":"d","state":{"waiting":{"reason":"CrashLoopBackOff"}},"lastState":{}}]})");
  SetPod(pod);
  EXPECT_EQ(AsAdmin("/containerLogs/default/p/c").body, "new 1\nnew 2\nnew 3\n");
  EXPECT_EQ(AsAdmin("/containerLogs/default/p/c?previous=true").body, "old line 1\nold line 2\n");
  Reply e = AsAdmin("/containerLogs/default/p/e");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.body, "container \"e\" in pod \"p\" is waiting to start: image can't be pulled");
  EXPECT_EQ(AsAdmin("/containerLogs/default/p/d").body,
            "container \"d\" in pod \"p\" is waiting to start: CrashLoopBackOff");
}

TEST_F(KubeletServerTest, RunAndStats) {
  Reply run = AsAdmin("/run/default/p/c?cmd=echo+hello+world", verb::post);
  EXPECT_EQ(run.status, 200);
  EXPECT_EQ(run.body, "hello world\n");
  Reply fail = AsAdmin("/run/default/p/" + uid_ + "/c?cmd=fail+now", verb::post);
  EXPECT_EQ(fail.status, 500);
  EXPECT_EQ(fail.body, "command 'fail now' exited with 3: it failed\n");
  Reply missing = AsAdmin("/run/default/p/e?cmd=echo", verb::post);
  EXPECT_EQ(missing.status, 500);
  EXPECT_EQ(missing.body, "container not found (\"e\")");
  EXPECT_EQ(AsAdmin("/run/default/p/wrong-uid/c?cmd=echo", verb::post).status, 500);
  EXPECT_EQ(runtime_->exec_syncs().size(), 2u);

  Reply summary = AsAdmin("/stats/summary");
  ASSERT_EQ(summary.status, 200) << summary.body;
  bj::object s = bj::parse(summary.body).as_object();
  EXPECT_EQ(s.at("node").at("nodeName"), "n1");
  EXPECT_GT(s.at("node").at("cpu").at("usageCoreNanoSeconds").to_number<uint64_t>(), 0u);
  EXPECT_GT(s.at("node").at("memory").at("workingSetBytes").to_number<uint64_t>(), 0u);
  EXPECT_TRUE(s.at("node").as_object().contains("fs"));
  const bj::object& pod = s.at("pods").at(0).as_object();
  EXPECT_EQ(pod.at("podRef").at("uid"), bj::value(uid_));
  EXPECT_EQ(pod.at("cpu").at("usageCoreNanoSeconds"), 4'001'000'000u);  // pause + c-new + d-1
  EXPECT_EQ(pod.at("memory").at("workingSetBytes"), 4096u + 5000 + 7000);
  EXPECT_EQ(pod.at("network").at("rxBytes"), 1234u);
  ASSERT_EQ(pod.at("containers").as_array().size(), 2u);  // the running ones
  EXPECT_EQ(AsAdmin("/stats/summary?only_cpu_and_memory=true").body.find("\"fs\""),
            std::string::npos);

  // A runtime without pod stats: the containers are summed.
  runtime_->pod_stats_unimplemented = true;
  bj::object summed = bj::parse(AsAdmin("/stats/summary").body).as_object();
  EXPECT_EQ(summed.at("pods").at(0).at("cpu").at("usageCoreNanoSeconds"), 4'000'000'000u);
  EXPECT_EQ(summed.at("pods").at(0).at("memory").at("workingSetBytes"), 12000u);

  Reply resource = AsAdmin("/metrics/resource");
  ASSERT_EQ(resource.status, 200);
  EXPECT_NE(resource.body.find("container_cpu_usage_seconds_total{container=\"c\",namespace="
                               "\"default\",pod=\"p\"} 3 1700000001000\n"),
            std::string::npos)
      << resource.body;
  EXPECT_NE(resource.body.find("resource_scrape_error 0"), std::string::npos);

  Reply metrics = AsAdmin("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("kubelet_running_pods 1\n"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("kubelet_running_containers{container_state=\"running\"} 2\n"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("kubelet_http_requests_total{long_running=\"false\",method=\"POST\","
                              "path=\"run\",server_type=\"readwrite\"} 4\n"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("process_resident_memory_bytes "), std::string::npos);
}

TEST_F(KubeletServerTest, ExecNeedsAnUpgradeAndARunningContainer) {
  Reply r = AsAdmin("/exec/default/p/c?command=id", verb::post);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "you must specify at least 1 of stdin, stdout, stderr");
  r = AsAdmin("/exec/default/p/c?command=id&stdout=1", verb::post);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "Upgrade request required\n");
  r = AsAdmin("/exec/default/q/c?command=id&stdout=1", verb::post);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "pod does not exist");
  r = AsAdmin("/attach/default/p/e?stdout=1", verb::post);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "container not found (\"e\")");
  r = AsAdmin("/portForward/default/p/other-uid", verb::post);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "pod not found");
}

// Straight to the kubelet API (through a client-certificate TLS hop, as
// the apiserver makes it) with the streaming clients: the upgrade, the
// streams both ways and the runtime's refusals are passed through.
TEST_F(KubeletServerTest, SpdyExecIsProxiedToTheRuntimesStreamingServer) {
  kubelet::testing::TlsForwarder hop(kubelet_->port(), admin_);
  std::string base = "http://127.0.0.1:" + std::to_string(hop.port());
  std::string url = base +
                    "/exec/default/p/c?command=%2Fbin%2Fsh&command=-c&command=echo%20out%3B%20"
                    "echo%20err%20%3E%262%3B%20exit%203&stdout=1&stderr=1";
  auto c = cri::streaming::testing::SpdyClient::Connect(url, {"v4.channel.k8s.io"});
  ASSERT_TRUE(c.ok() && *c) << (c.ok() ? "refused" : c.error().str());
  auto open = [&](const char* type) {
    uint32_t id = (*c)->OpenStream({{"streamType", type}});
    EXPECT_TRUE((*c)->WaitReply(id)) << type;
    return id;
  };
  uint32_t error = open("error");
  uint32_t out = open("stdout");
  uint32_t err = open("stderr");
  EXPECT_EQ((*c)->ReadAll(out), "out\n");
  EXPECT_EQ((*c)->ReadAll(err), "err\n");
  std::string status = (*c)->ReadAll(error);
  EXPECT_NE(status.find(R"("reason":"NonZeroExitCode")"), std::string::npos) << status;
  EXPECT_NE(status.find(R"({"reason":"ExitCode","message":"3"})"), std::string::npos) << status;

  // The runtime's answer to a protocol it does not speak comes back as is.
  cri::streaming::testing::HttpResponse refused;
  auto no = cri::streaming::testing::SpdyClient::Connect(
      base + "/exec/default/p/c?command=true&stdout=1", {"v9.channel.k8s.io"}, &refused);
  ASSERT_TRUE(no.ok());
  EXPECT_EQ(*no, nullptr);
  EXPECT_EQ(refused.status, 403);
  EXPECT_FALSE(refused.Header("X-Accepted-Stream-Protocol-Versions").empty());
}

TEST_F(KubeletServerTest, WebSocketExecAndAttach) {
  kubelet::testing::TlsForwarder hop(kubelet_->port(), admin_);
  std::string base = "http://127.0.0.1:" + std::to_string(hop.port());
  auto ws = cri::streaming::testing::WsClient::Connect(
      base + "/exec/default/p/" + uid_ + "/c?command=%2Fbin%2Fcat&stdin=true&stdout=true",
      {"v5.channel.k8s.io"});
  ASSERT_TRUE(ws.ok() && *ws) << (ws.ok() ? "refused" : ws.error().str());
  (*ws)->Send(std::string("\0", 1) + "ping\n");
  (*ws)->Send(std::string("\xff\0", 2));  // v5: close stdin
  std::string out, status;
  while (auto m = (*ws)->Read()) {
    if (m->data.empty()) continue;
    if (m->data[0] == 1) out += m->data.substr(1);
    if (m->data[0] == 3) status += m->data.substr(1);
  }
  EXPECT_EQ(out, "ping\n");
  EXPECT_NE(status.find(R"("status":"Success")"), std::string::npos) << status;

  ASSERT_TRUE(backend_->StartContainer("c-new", {"/bin/echo", "attached"}, false).ok());
  auto attach = cri::streaming::testing::WsClient::Connect(base + "/attach/default/p/c?stdout=true",
                                                           {"v4.channel.k8s.io"});
  ASSERT_TRUE(attach.ok() && *attach);
  std::string attached;
  while (auto m = (*attach)->Read()) {
    if (!m->data.empty() && m->data[0] == 1) attached += m->data.substr(1);
  }
  EXPECT_EQ(attached, "attached\n");
}

// A client's burst (the upgrade request and its first frames in one TCP
// send) is read ahead by the TLS layer in one go; the frames must still
// reach the runtime.
TEST_F(KubeletServerTest, FramesReadAheadWithTheRequestAreForwarded) {
  auto frame = [](const std::string& payload) {  // a masked WebSocket binary frame
    std::string f = {static_cast<char>(0x82), static_cast<char>(0x80 | payload.size())};
    const char mask[4] = {1, 2, 3, 4};
    f.append(mask, 4);
    for (size_t i = 0; i < payload.size(); ++i)
      f += static_cast<char>(payload[i] ^ mask[i % 4]);
    return f;
  };
  kubelet::testing::BurstTlsClient client(kubelet_->port(), admin_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.SendRecords(
      {"GET /exec/default/p/c?command=%2Fbin%2Fcat&stdin=true&stdout=true HTTP/1.1\r\n"
       "Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n",
       frame(std::string("\0", 1) + "burst\n"), frame(std::string("\xff\0", 2))}));
  std::string got = client.ReadUntil(
      [](const std::string& s) { return s.find(R"("status":"Success")") != std::string::npos; },
      10'000);
  EXPECT_NE(got.find("101 Switching Protocols"), std::string::npos) << got;
  EXPECT_NE(got.find("\x01"
                     "burst\n"),
            std::string::npos)
      << got;
  EXPECT_NE(got.find(R"("status":"Success")"), std::string::npos) << got;
}

TEST_F(KubeletServerTest, StopEndsAFollowedLog) {
  std::thread follower([&] {
    TlsClient client(kubelet_->port(), kubelet_ca_, &admin_);
    try {
      (void)client.Do(verb::get, "/containerLogs/default/p/c?follow=true");
    } catch (const std::exception&) {
      // The connection ended mid-stream: expected.
    }
  });
  std::this_thread::sleep_for(300ms);
  auto start = std::chrono::steady_clock::now();
  kubelet_->Stop();
  follower.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(KubeletServerTest, ServingCertificateIsKeptAcrossRestarts) {
  std::string first = ReadFile(root_dir_ / "pki/kubelet.crt").value();
  Result<pki::CertInfo> info = pki::Inspect(first);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->dns_names, std::vector<std::string>{"n1"});
  EXPECT_EQ(info->ip_addresses, std::vector<std::string>{"127.0.0.1"});
  kubelet_->Stop();
  KubeletServerOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.root_dir = root_dir_.path();
  o.node_name = "n1";
  o.node_ips = {"127.0.0.1"};
  o.authz = KubeletServerOptions::Authz::kAlwaysAllow;
  KubeletServerDeps d;
  d.cri = &cri_->client();
  auto again = KubeletServer::Start(o, d);
  ASSERT_TRUE(again.ok()) << again.error().str();
  EXPECT_EQ(ReadFile(root_dir_ / "pki/kubelet.crt").value(), first);
  // A new address is a new certificate.
  (*again)->Stop();
  o.node_ips = {"127.0.0.1", "10.1.2.3"};
  again = KubeletServer::Start(o, d);
  ASSERT_TRUE(again.ok()) << again.error().str();
  EXPECT_NE(ReadFile(root_dir_ / "pki/kubelet.crt").value(), first);
}

}  // namespace
}  // namespace berth::agent::testing
