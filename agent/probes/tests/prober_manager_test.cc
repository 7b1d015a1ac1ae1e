// ProberManager: thresholds, timing, startup gating, holds and events, with
// exec probes against a fake CRI runtime and a short test second.

#include "agent/probes/prober_manager.h"

#include <gtest/gtest.h>

#include <condition_variable>

#include "agent/probes/lifecycle.h"
#include "agent/probes/tests/test_servers.h"
#include "controlplane/client/event_recorder.h"
#include "controlplane/server/tests/test_server.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;
using Update = ProberManager::Update;

constexpr auto kSecond = 20ms;  // one probe "second" in these tests

// Exec probes whose command's first word names a script: its exit code is
// set by the test, its runs are counted.
class ScriptedCri {
 public:
  ScriptedCri() {
    cri_.SetExec([this](const v1::ExecSyncRequest& req, v1::ExecSyncResponse* resp) {
      std::lock_guard lock(mu_);
      std::string name = req.cmd_size() > 0 ? req.cmd(0) : "";
      ++calls_[name];
      if (broken_.count(name)) return grpc::Status(grpc::StatusCode::INTERNAL, "exec broke");
      resp->set_exit_code(codes_[name]);
      resp->set_stdout(name + " says " + std::to_string(codes_[name]));
      return grpc::Status::OK;
    });
  }
  void Exit(const std::string& name, int code) {
    std::lock_guard lock(mu_);
    codes_[name] = code;
  }
  void Break(const std::string& name) {
    std::lock_guard lock(mu_);
    broken_.insert(name);
  }
  int Calls(const std::string& name) {
    std::lock_guard lock(mu_);
    return calls_[name];
  }
  CriClient& client() { return cri_.client(); }

 private:
  testing::FakeCri cri_;
  std::mutex mu_;
  std::map<std::string, int> codes_, calls_;
  std::set<std::string> broken_;
};

// The updates a manager reported, with waits.
class Updates {
 public:
  void Add(const Update& u) {
    std::lock_guard lock(mu_);
    all_.push_back(u);
    cv_.notify_all();
  }
  // Waits (bounded) for an update of `kind` to `result`; its index or -1.
  int WaitFor(ProbeKind kind, ProbeResult result, const std::string& id = "",
              std::chrono::milliseconds limit = 5s) {
    std::unique_lock lock(mu_);
    int found = -1;
    cv_.wait_for(lock, limit, [&] {
      for (size_t i = 0; i < all_.size(); ++i) {
        if (all_[i].kind == kind && all_[i].result == result &&
            (id.empty() || all_[i].container_id == id)) {
          found = static_cast<int>(i);
          return true;
        }
      }
      return false;
    });
    return found;
  }
  std::vector<Update> all() {
    std::lock_guard lock(mu_);
    return all_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Update> all_;
};

template <class Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

bj::object ExecProbe(const std::string& script, int failure_threshold = 3,
                     int success_threshold = 1, int initial_delay = 0) {
  return {{"exec", {{"command", bj::array{script}}}},
          {"periodSeconds", 1},
          {"failureThreshold", failure_threshold},
          {"successThreshold", success_threshold},
          {"initialDelaySeconds", initial_delay}};
}

bj::object Pod(bj::object container) {
  container["name"] = "app";
  container["image"] = "busybox";
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", "web"}, {"namespace", "default"}, {"uid", "pod-1"}}},
          {"spec", {{"containers", bj::array{std::move(container)}}}}};
}

class ProberManagerTest : public ::testing::Test {
 protected:
  ProberManager& Manager(controlplane::client::EventRecorder* events = nullptr) {
    manager_ = std::make_unique<ProberManager>(
        cri_.client(), [this](const Update& u) { updates_.Add(u); }, events,
        ProberOptions{.runners = 2, .second_for_test = kSecond});
    return *manager_;
  }

  ScriptedCri cri_;
  Updates updates_;
  std::unique_ptr<ProberManager> manager_;
};

TEST_F(ProberManagerTest, ReadinessStartsFalseAndFollowsThresholds) {
  cri_.Exit("ready", 1);
  ProberManager& m = Manager();
  bj::object pod = Pod({{"readinessProbe", ExecProbe("ready", /*failure_threshold=*/2)}});
  m.AddContainer(pod, "app", "c1", "10.0.0.1");
  EXPECT_EQ(m.Result("pod-1", "app", ProbeKind::kReadiness), ProbeResult::kFailure);
  EXPECT_EQ(m.Result("pod-1", "app", ProbeKind::kLiveness), std::nullopt);
  ASSERT_TRUE(Eventually([&] { return cri_.Calls("ready") >= 3; }));
  EXPECT_FALSE(m.Ready("pod-1", "app"));
  EXPECT_TRUE(m.Started("pod-1", "app"));  // no startup probe
  EXPECT_TRUE(updates_.all().empty());     // Failure was its value from the start

  cri_.Exit("ready", 0);
  ASSERT_GE(updates_.WaitFor(ProbeKind::kReadiness, ProbeResult::kSuccess), 0);
  EXPECT_TRUE(m.Ready("pod-1", "app"));
  Update u = updates_.all().back();
  EXPECT_EQ(u.pod_uid, "pod-1");
  EXPECT_EQ(u.container_name, "app");
  EXPECT_EQ(u.container_id, "c1");
  EXPECT_EQ(u.message, "ready says 0");

  cri_.Exit("ready", 1);
  int before = cri_.Calls("ready");
  ASSERT_GE(updates_.WaitFor(ProbeKind::kReadiness, ProbeResult::kFailure), 0);
  EXPECT_GE(cri_.Calls("ready") - before, 2);  // failureThreshold runs in a row
  EXPECT_FALSE(m.Ready("pod-1", "app"));
}

TEST_F(ProberManagerTest, SuccessThresholdNeedsThatManySuccesses) {
  ProberManager& m = Manager();
  m.AddContainer(Pod({{"readinessProbe", ExecProbe("ready", 3, /*success_threshold=*/3)}}), "app",
                 "c1", "10.0.0.1");
  ASSERT_GE(updates_.WaitFor(ProbeKind::kReadiness, ProbeResult::kSuccess), 0);
  EXPECT_GE(cri_.Calls("ready"), 3);
}

TEST_F(ProberManagerTest, LivenessFailureHoldsUntilANewContainer) {
  cri_.Exit("live", 1);
  ProberManager& m = Manager();
  bj::object pod = Pod({{"livenessProbe", ExecProbe("live", /*failure_threshold=*/3)}});
  m.AddContainer(pod, "app", "c1", "10.0.0.1");
  EXPECT_EQ(m.Result("pod-1", "app", ProbeKind::kLiveness), ProbeResult::kSuccess);
  ASSERT_GE(updates_.WaitFor(ProbeKind::kLiveness, ProbeResult::kFailure, "c1"), 0);
  EXPECT_EQ(cri_.Calls("live"), 3);
  std::this_thread::sleep_for(10 * kSecond);
  EXPECT_EQ(cri_.Calls("live"), 3);  // on hold
  EXPECT_EQ(m.Result("pod-1", "app", ProbeKind::kLiveness), ProbeResult::kFailure);

  // The same container again changes nothing; a restarted one probes anew.
  m.AddContainer(pod, "app", "c1", "10.0.0.1");
  EXPECT_EQ(m.Result("pod-1", "app", ProbeKind::kLiveness), ProbeResult::kFailure);
  cri_.Exit("live", 0);
  m.AddContainer(pod, "app", "c2", "10.0.0.1");
  EXPECT_EQ(m.Result("pod-1", "app", ProbeKind::kLiveness), ProbeResult::kSuccess);
  ASSERT_TRUE(Eventually([&] { return cri_.Calls("live") >= 6; }));
  EXPECT_EQ(m.Result("pod-1", "app", ProbeKind::kLiveness), ProbeResult::kSuccess);
}

TEST_F(ProberManagerTest, StartupProbeHoldsOffLivenessAndReadiness) {
  cri_.Exit("start", 1);
  ProberManager& m = Manager();
  bj::object pod = Pod({{"startupProbe", ExecProbe("start", /*failure_threshold=*/1000)},
                        {"livenessProbe", ExecProbe("live")},
                        {"readinessProbe", ExecProbe("ready")}});
  m.AddContainer(pod, "app", "c1", "10.0.0.1");
  ASSERT_TRUE(Eventually([&] { return cri_.Calls("start") >= 5; }));
  EXPECT_EQ(cri_.Calls("live"), 0);
  EXPECT_EQ(cri_.Calls("ready"), 0);
  EXPECT_EQ(m.Result("pod-1", "app", ProbeKind::kStartup), ProbeResult::kUnknown);
  EXPECT_FALSE(m.Started("pod-1", "app"));
  EXPECT_FALSE(m.Ready("pod-1", "app"));

  cri_.Exit("start", 0);
  ASSERT_GE(updates_.WaitFor(ProbeKind::kStartup, ProbeResult::kSuccess), 0);
  ASSERT_GE(updates_.WaitFor(ProbeKind::kReadiness, ProbeResult::kSuccess), 0);
  EXPECT_TRUE(m.Started("pod-1", "app"));
  EXPECT_TRUE(m.Ready("pod-1", "app"));
  ASSERT_TRUE(Eventually([&] { return cri_.Calls("live") >= 2; }));
  // Startup probing ended with its success.
  int startup_runs = cri_.Calls("start");
  std::this_thread::sleep_for(5 * kSecond);
  EXPECT_EQ(cri_.Calls("start"), startup_runs);
}

TEST_F(ProberManagerTest, StartupFailureIsReportedAndHolds) {
  cri_.Exit("start", 1);
  ProberManager& m = Manager();
  m.AddContainer(Pod({{"startupProbe", ExecProbe("start", /*failure_threshold=*/2)},
                      {"livenessProbe", ExecProbe("live")}}),
                 "app", "c1", "10.0.0.1");
  ASSERT_GE(updates_.WaitFor(ProbeKind::kStartup, ProbeResult::kFailure), 0);
  std::this_thread::sleep_for(5 * kSecond);
  EXPECT_EQ(cri_.Calls("start"), 2);
  EXPECT_EQ(cri_.Calls("live"), 0);
  EXPECT_FALSE(m.Started("pod-1", "app"));
}

TEST_F(ProberManagerTest, InitialDelayCountsFromTheContainersStart) {
  ProberManager& m = Manager();
  bj::object pod = Pod({{"readinessProbe", ExecProbe("ready", 3, 1, /*initial_delay=*/10)}});
  auto added = std::chrono::steady_clock::now();
  m.AddContainer(pod, "app", "c1", "10.0.0.1");
  ASSERT_TRUE(Eventually([&] { return cri_.Calls("ready") >= 1; }));
  EXPECT_GE(std::chrono::steady_clock::now() - added, 10 * kSecond - 5ms);

  // A container that started long ago is probed at once.
  m.AddContainer(pod, "app", "c2", "10.0.0.1", std::chrono::system_clock::now() - 1h);
  int before = cri_.Calls("ready");
  auto readded = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually([&] { return cri_.Calls("ready") > before; }));
  EXPECT_LT(std::chrono::steady_clock::now() - readded, 5 * kSecond);
}

TEST_F(ProberManagerTest, TerminatingStopsLivenessButNotReadiness) {
  cri_.Exit("live", 1);
  ProberManager& m = Manager();
  m.AddContainer(Pod({{"livenessProbe", ExecProbe("live", /*failure_threshold=*/1000)},
                      {"readinessProbe", ExecProbe("ready")}}),
                 "app", "c1", "10.0.0.1");
  ASSERT_TRUE(Eventually([&] { return cri_.Calls("live") >= 2 && cri_.Calls("ready") >= 2; }));
  m.PodTerminating("pod-1");
  std::this_thread::sleep_for(2 * kSecond);  // a run under way may still finish
  int live = cri_.Calls("live");
  int ready = cri_.Calls("ready");
  std::this_thread::sleep_for(6 * kSecond);
  EXPECT_EQ(cri_.Calls("live"), live);
  EXPECT_GT(cri_.Calls("ready"), ready);
  EXPECT_EQ(m.Result("pod-1", "app", ProbeKind::kLiveness), ProbeResult::kSuccess);
}

TEST_F(ProberManagerTest, ErroredRunsDoNotCount) {
  cri_.Break("live");
  ProberManager& m = Manager();
  m.AddContainer(Pod({{"livenessProbe", ExecProbe("live", /*failure_threshold=*/1)}}), "app", "c1",
                 "10.0.0.1");
  ASSERT_TRUE(Eventually([&] { return cri_.Calls("live") >= 6; }));
  EXPECT_TRUE(updates_.all().empty());
  EXPECT_EQ(m.Result("pod-1", "app", ProbeKind::kLiveness), ProbeResult::kSuccess);
}

TEST_F(ProberManagerTest, RemovedContainersAndPodsStopProbing) {
  ProberManager& m = Manager();
  bj::object pod = Pod({{"readinessProbe", ExecProbe("ready")}});
  m.AddContainer(pod, "app", "c1", "10.0.0.1");
  ASSERT_TRUE(Eventually([&] { return cri_.Calls("ready") >= 2; }));
  m.RemovePod("pod-1");
  EXPECT_EQ(m.Result("pod-1", "app", ProbeKind::kReadiness), std::nullopt);
  EXPECT_FALSE(m.Started("pod-1", "app"));
  std::this_thread::sleep_for(2 * kSecond);
  int calls = cri_.Calls("ready");
  std::this_thread::sleep_for(5 * kSecond);
  EXPECT_EQ(cri_.Calls("ready"), calls);
}

TEST_F(ProberManagerTest, ContainerWithoutProbesIsStartedAndReady) {
  ProberManager& m = Manager();
  m.AddContainer(Pod({}), "app", "c1", "10.0.0.1");
  EXPECT_TRUE(m.Started("pod-1", "app"));
  EXPECT_TRUE(m.Ready("pod-1", "app"));
  m.RemoveContainer("pod-1", "app");
  EXPECT_FALSE(m.Ready("pod-1", "app"));
}

// Events as kubectl describe shows them, written to a berth server.
class ProberEventsTest : public controlplane::ServerTest {
 protected:
  std::vector<bj::object> Events() {
    controlplane::client::ApiClient api(AdminConfig());
    auto r = api.Do("GET", "/api/v1/namespaces/default/events");
    std::vector<bj::object> out;
    if (!r.ok() || r->status != 200) return out;
    bj::value list = r->Json();
    for (const bj::value& e : list.at("items").as_array())
      out.push_back(e.as_object());
    return out;
  }
  static const bj::object* FindReason(const std::vector<bj::object>& events,
                                      const std::string& reason) {
    for (const bj::object& e : events) {
      if (e.at("reason") == reason.c_str()) return &e;
    }
    return nullptr;
  }
};

TEST_F(ProberEventsTest, UnhealthyAndProbeWarningEvents) {
  ScriptedCri cri;
  cri.Exit("live", 1);
  testing::TestHttpServer http;
  uint16_t port = http.port();
  http.Handle("/away", [port](const testing::SeenRequest&) {
    return testing::HttpReply{302, {{"Location", "http://localhost:" + std::to_string(port)}}, ""};
  });
  controlplane::client::EventRecorder recorder(AdminConfig(), "kubelet", 1000, "node-1");
  Updates updates;
  {
    ProberManager m(
        cri.client(), [&](const Update& u) { updates.Add(u); }, &recorder,
        ProberOptions{.runners = 2, .second_for_test = kSecond});
    bj::object readiness = {{"httpGet", {{"path", "/away"}, {"port", port}}},
                            {"periodSeconds", 1000}};
    m.AddContainer(Pod({{"livenessProbe", ExecProbe("live", 1)}, {"readinessProbe", readiness}}),
                   "app", "c1", "127.0.0.1");
    ASSERT_GE(updates.WaitFor(ProbeKind::kLiveness, ProbeResult::kFailure), 0);
    ASSERT_GE(updates.WaitFor(ProbeKind::kReadiness, ProbeResult::kSuccess), 0);
  }
  recorder.Flush();
  auto events = Events();
  const bj::object* unhealthy = FindReason(events, "Unhealthy");
  ASSERT_NE(unhealthy, nullptr);
  EXPECT_EQ(unhealthy->at("type"), "Warning");
  EXPECT_EQ(unhealthy->at("message"), "Liveness probe failed: live says 1");
  EXPECT_EQ(unhealthy->at("involvedObject").at("fieldPath"), "spec.containers{app}");
  EXPECT_EQ(unhealthy->at("involvedObject").at("uid"), "pod-1");
  EXPECT_EQ(unhealthy->at("source").at("component"), "kubelet");
  const bj::object* warning = FindReason(events, "ProbeWarning");
  ASSERT_NE(warning, nullptr);
  EXPECT_EQ(warning->at("type"), "Warning");
  EXPECT_EQ(warning->at("message"),
            "Readiness probe warning: Probe terminated redirects, Response body: ");
}

TEST_F(ProberEventsTest, LifecycleHttpFallbackEvent) {
  testing::TestHttpServer http;  // plain HTTP behind an HTTPS hook
  http.Handle("/hook", [](const testing::SeenRequest&) { return testing::HttpReply{200}; });
  controlplane::client::EventRecorder recorder(AdminConfig(), "kubelet", 1000, "node-1");
  bj::object pod = Pod({});
  bj::object container = {{"name", "app"}};
  ProbeTarget target;
  target.pod_ip = "127.0.0.1";
  target.container = &container;
  target.pod = &pod;
  target.events = &recorder;
  bj::object handler = {
      {"httpGet", {{"scheme", "HTTPS"}, {"path", "/hook"}, {"port", http.port()}}}};
  Status s = RunLifecycleHandler(handler, target, std::chrono::steady_clock::now() + 5s);
  ASSERT_TRUE(s.ok()) << s.error().str();
  recorder.Flush();
  auto events = Events();
  const bj::object* e = FindReason(events, "LifecycleHTTPFallback");
  ASSERT_NE(e, nullptr);
  std::string want = "request to HTTPS lifecycle hook 127.0.0.1:" + std::to_string(http.port()) +
                     " got HTTP response, retry with HTTP succeeded";
  EXPECT_EQ(e->at("message"), want.c_str());
}

}  // namespace
}  // namespace berth::agent
