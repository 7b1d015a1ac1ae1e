// The ReplicaSet and Deployment controllers against a berth server in this
// process, with the scheduler binding pods to three API-only nodes and a
// fake kubelet making bound pods Ready (workloads_kit.h), driven by the
// real kubectl 1.33 as a user would: apply, rollout status/undo/pause/
// resume, scale, set image. Watches of the pods and ReplicaSets check the
// rollout bounds at every event.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "controlplane/controllers/controller_ref.h"
#include "controlplane/controllers/deployment_revisions.h"
#include "controlplane/controllers/pod_state.h"
#include "controlplane/controllers/pod_template_hash.h"
#include "controlplane/controllers/replicaset_status.h"
#include "controlplane/controllers/tests/test_controllers.h"
#include "controlplane/controllers/tests/workloads_kit.h"
#include "controlplane/scheduler/scheduler.h"
#include "controlplane/server/api/kinds.h"
#include "controlplane/server/tests/test_server.h"

namespace berth::controlplane {
namespace {

namespace bj = boost::json;
using client::ApiClient;
using client::ClientConfig;
using controllers::StringAt;
using namespace std::chrono_literals;

constexpr char kKubectl[] = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";

// A pod as the watches see it.
struct PodView {
  std::string hash;  // pod-template-hash
  std::string image;
  bool terminating = false;
  bool finished = false;  // Succeeded or Failed
  bool ready = false;
};

// Watches the pods and ReplicaSets labelled app=<app> and runs `check`
// over what it has seen after every event, keeping what it reports.
class RolloutWatch {
 public:
  // Pods by key, spec.replicas of the ReplicaSets by key.
  using Check = std::function<std::optional<std::string>(const std::map<std::string, PodView>&,
                                                         const std::map<std::string, int64_t>&)>;

  RolloutWatch(const ClientConfig& config, const std::string& app, Check check)
      : client_(config),
        check_(std::move(check)),
        pods_(client_, "/api/v1/namespaces/default/pods?labelSelector=app%3D" + app, PodHandlers()),
        replica_sets_(client_,
                      "/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3D" + app,
                      ReplicaSetHandlers()) {}
  ~RolloutWatch() {
    pods_.Stop();
    replica_sets_.Stop();
  }

  // Starts watching and waits for both lists.
  void Start() {
    pods_.Start();
    replica_sets_.Start();
    for (int i = 0; i < 500 && !(pods_.Synced() && replica_sets_.Synced()); ++i)
      std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(pods_.Synced() && replica_sets_.Synced());
    // Checked from the complete lists on, not while they arrive.
    std::lock_guard lock(mu_);
    armed_ = true;
    CheckLocked();
  }
  std::vector<std::string> violations() const {
    std::lock_guard lock(mu_);
    return violations_;
  }
  int events() const {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  client::InformerHandlers PodHandlers() {
    client::InformerHandlers h;
    h.added = [this](const bj::object& pod) { Pod(pod); };
    h.updated = [this](const bj::object&, const bj::object& pod) { Pod(pod); };
    h.deleted = [this](const bj::object& pod) {
      std::lock_guard lock(mu_);
      pods_seen_.erase(client::ObjectKey(pod));
      CheckLocked();
    };
    return h;
  }
  client::InformerHandlers ReplicaSetHandlers() {
    client::InformerHandlers h;
    h.added = [this](const bj::object& rs) { ReplicaSet(rs); };
    h.updated = [this](const bj::object&, const bj::object& rs) { ReplicaSet(rs); };
    h.deleted = [this](const bj::object& rs) {
      std::lock_guard lock(mu_);
      replicas_.erase(client::ObjectKey(rs));
      CheckLocked();
    };
    return h;
  }
  void Pod(const bj::object& pod) {
    PodView v;
    v.hash = StringAt(pod, {"metadata", "labels", controllers::kPodTemplateHashLabel});
    const bj::value* containers = pod.at("spec").as_object().if_contains("containers");
    if (containers != nullptr && containers->is_array() && !containers->as_array().empty()) {
      v.image = StringAt(containers->as_array()[0].as_object(), {"image"});
    }
    v.terminating = controllers::BeingDeleted(pod);
    std::string phase = StringAt(pod, {"status", "phase"});
    v.finished = phase == "Succeeded" || phase == "Failed";
    v.ready = controllers::IsPodReady(pod);
    std::lock_guard lock(mu_);
    pods_seen_[client::ObjectKey(pod)] = v;
    CheckLocked();
  }
  void ReplicaSet(const bj::object& rs) {
    std::lock_guard lock(mu_);
    replicas_[client::ObjectKey(rs)] = controllers::SpecReplicas(rs);
    CheckLocked();
  }
  void CheckLocked() {
    if (!armed_) return;
    ++events_;
    if (std::optional<std::string> bad = check_(pods_seen_, replicas_)) {
      violations_.push_back(*bad);
    }
  }

  ApiClient client_;
  Check check_;
  mutable std::mutex mu_;
  std::map<std::string, PodView> pods_seen_;
  std::map<std::string, int64_t> replicas_;
  std::vector<std::string> violations_;
  bool armed_ = false;
  int events_ = 0;
  client::Informer pods_;
  client::Informer replica_sets_;
};

// A rolling update's bounds: pods that are neither terminating nor
// finished at most replicas + maxSurge (and so the ReplicaSets' specs),
// Ready ones at least replicas - maxUnavailable.
RolloutWatch::Check RollingBounds(int64_t max_pods, int64_t min_available) {
  return [=](const std::map<std::string, PodView>& pods,
             const std::map<std::string, int64_t>& replicas) -> std::optional<std::string> {
    int64_t running = 0, available = 0, specs = 0;
    for (const auto& [key, p] : pods) {
      if (p.terminating || p.finished) continue;
      ++running;
      if (p.ready) ++available;
    }
    for (const auto& [key, n] : replicas)
      specs += n;
    if (running > max_pods) {
      return std::to_string(running) + " pods, more than " + std::to_string(max_pods);
    }
    if (available < min_available) {
      return std::to_string(available) + " available pods, fewer than " +
             std::to_string(min_available);
    }
    if (specs > max_pods) {
      return "ReplicaSets want " + std::to_string(specs) + " pods, more than " +
             std::to_string(max_pods);
    }
    return std::nullopt;
  };
}

// Recreate: never pods of two templates at once (terminating ones count).
RolloutWatch::Check OneTemplateAtATime() {
  return [](const std::map<std::string, PodView>& pods,
            const std::map<std::string, int64_t>&) -> std::optional<std::string> {
    std::set<std::string> hashes;
    for (const auto& [key, p] : pods)
      if (!p.finished) hashes.insert(p.hash);
    if (hashes.size() <= 1) return std::nullopt;
    return "pods of " + std::to_string(hashes.size()) + " templates at once";
  };
}

struct DeploymentSpec {
  std::string name = "web";
  std::string image = "registry.example/web:v1";
  int replicas = 3;
  std::string strategy = "type: RollingUpdate";  // YAML under spec.strategy
  std::string extra_spec;                        // more YAML lines under spec
  std::string extra_labels;                      // more template labels ("k: v")
};

std::string DeploymentYaml(const DeploymentSpec& d) {
  std::string labels = "        app: " + d.name + "\n";
  if (!d.extra_labels.empty()) labels += "        " + d.extra_labels + "\n";
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + d.name +
         "\n  namespace: default\nspec:\n  replicas: " + std::to_string(d.replicas) +
         "\n  selector:\n    matchLabels:\n      app: " + d.name + "\n  strategy:\n    " +
         d.strategy + "\n" + d.extra_spec + "  template:\n    metadata:\n      labels:\n" + labels +
         "    spec:\n      containers:\n      - name: web\n        image: " + d.image + "\n";
}

class DeploymentTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    BERTH_REQUIRE(PathExists(kKubectl), std::string(kKubectl) + " (preinstalled on this machine)");
    api_ = std::make_unique<ApiClient>(Admin());
    for (const char* node : {"node-a", "node-b", "node-c"}) {
      testing::AddTestNode(*api_, {node});
      if (HasFatalFailure()) return;
    }
    ClientConfig scheduler = Admin();
    scheduler.certificate = server_->pki().scheduler;
    scheduler::SchedulerOptions options;
    options.queue.initial_backoff = 50ms;
    options.queue.max_backoff = 200ms;
    scheduler_ = std::make_unique<scheduler::Scheduler>(scheduler, options);
    scheduler_->Start();
    kubelet_ = std::make_unique<testing::ScriptedKubelet>(Admin());
    kubelet_->Start();
    controllers::ControllerManagerOptions o;
    o.controllers = {"replicaset", "deployment"};
    StartTestControllers(*server_, controllers_, o);
    ASSERT_TRUE(WaitFor([&] { return scheduler_->Synced() && kubelet_->Synced(); }));
  }
  void TearDown() override {
    controllers_.reset();
    kubelet_.reset();
    if (scheduler_) scheduler_->Stop();
  }

  ClientConfig Admin() const {
    ClientConfig c = AdminConfig();
    return c;
  }

  static bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }

  bj::value Call(const std::string& method, const std::string& url, const bj::value& body, int want,
                 std::string_view type = "application/json") {
    Result<client::ApiResponse> r =
        api_->Do(method, url, body.is_null() ? "" : bj::serialize(body), type);
    EXPECT_TRUE(r.ok()) << r.error().str();
    if (!r.ok()) return nullptr;
    EXPECT_EQ(r->status, want) << method << " " << url << ": " << r->body;
    return r->Json();
  }

  // The items of a list (empty when the request failed).
  std::vector<bj::object> List(const std::string& url) {
    std::vector<bj::object> out;
    bj::value list = Call("GET", url, nullptr, 200);
    if (!list.is_object()) return out;
    for (const bj::value& item : list.at("items").as_array())
      out.push_back(item.as_object());
    return out;
  }
  std::vector<bj::object> Pods(const std::string& app) {
    return List("/api/v1/namespaces/default/pods?labelSelector=app%3D" + app);
  }
  // Pods neither terminating nor finished.
  std::vector<bj::object> ActivePods(const std::string& app) {
    std::vector<bj::object> active;
    for (bj::object& p : Pods(app))
      if (controllers::IsPodActive(p)) active.push_back(std::move(p));
    return active;
  }
  std::vector<bj::object> ReplicaSets(const std::string& app) {
    return List("/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3D" + app);
  }
  bj::object Deployment(const std::string& name) {
    bj::value d = Call("GET", "/apis/apps/v1/namespaces/default/deployments/" + name, nullptr, 200);
    return d.is_object() ? d.as_object() : bj::object();
  }
  std::vector<std::string> EventMessages(const std::string& object, const std::string& reason) {
    std::vector<std::string> out;
    for (const bj::object& e :
         List("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D" + object)) {
      if (StringAt(e, {"reason"}) == reason) out.push_back(StringAt(e, {"message"}));
    }
    return out;
  }

  Result<CommandResult> RunKubectl(std::vector<std::string> args) {
    args.insert(args.begin(), {kKubectl, "--kubeconfig", server_->admin_kubeconfig()});
    Command cmd;
    cmd.argv = std::move(args);
    cmd.env = std::vector<std::string>{"HOME=" + dir_.path(), "PATH=/usr/bin:/bin"};
    cmd.timeout = 60s;
    return RunCommand(cmd);
  }
  // Runs kubectl, expecting success; its output.
  std::string Kubectl(std::vector<std::string> args) {
    std::string joined;
    for (const std::string& a : args)
      joined += a + " ";
    Result<CommandResult> r = RunKubectl(std::move(args));
    EXPECT_TRUE(r.ok()) << joined << (r.ok() ? "" : r.error().str());
    if (!r.ok()) return "";
    EXPECT_TRUE(r->success()) << "kubectl " << joined << ": " << r->Describe() << "\n" << r->err;
    return r->out;
  }
  void Apply(const DeploymentSpec& d) {
    std::string file = dir_.path() + "/" + d.name + ".yaml";
    ASSERT_TRUE(WriteFile(file, DeploymentYaml(d)).ok());
    Kubectl({"apply", "-f", file});
  }
  void RolloutStatus(const std::string& name) {
    std::string out =
        Kubectl({"-n", "default", "rollout", "status", "deployment/" + name, "--timeout=30s"});
    EXPECT_NE(out.find("successfully rolled out"), std::string::npos) << out;
  }
  // The images of the active pods, once there are exactly `count`.
  std::multiset<std::string> ImagesOnce(const std::string& app, size_t count) {
    std::multiset<std::string> images;
    EXPECT_TRUE(WaitFor([&] {
      images.clear();
      std::vector<bj::object> pods = Pods(app);
      for (const bj::object& p : pods) {
        if (controllers::BeingDeleted(p)) return false;  // the kubelet still has to finalize it
        images.insert(StringAt(p.at("spec").at("containers").at(0).as_object(), {"image"}));
      }
      return images.size() == count;
    })) << "pods of "
        << app << ": " << images.size() << ", want " << count;
    return images;
  }

  std::unique_ptr<ApiClient> api_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  std::unique_ptr<testing::ScriptedKubelet> kubelet_;
  std::unique_ptr<controllers::ControllerManager> controllers_;
};

std::string TemplateImage(const bj::object& obj) {
  return StringAt(obj.at("spec").at("template").at("spec").at("containers").at(0).as_object(),
                  {"image"});
}

// Issue 6 acceptance line 2.
TEST_F(DeploymentTest, RollingUpdateKeepsItsBoundsAndRolloutUndoRestoresTheTemplate) {
  // 5 replicas, maxSurge 30% (1.5 rounded up: 2), maxUnavailable 30%
  // (1.5 rounded down: 1): at most 7 pods, at least 4 available.
  DeploymentSpec d;
  d.replicas = 5;
  d.strategy = "type: RollingUpdate\n    rollingUpdate: {maxSurge: 30%, maxUnavailable: 30%}";
  Apply(d);
  RolloutStatus("web");
  ImagesOnce("web", 5);
  std::vector<bj::object> first = ReplicaSets("web");
  ASSERT_EQ(first.size(), 1u);
  std::string v1_rs = StringAt(first[0], {"metadata", "name"});
  std::vector<std::string> scaled = EventMessages("web", "ScalingReplicaSet");
  EXPECT_NE(
      std::find(scaled.begin(), scaled.end(), "Scaled up replica set " + v1_rs + " from 0 to 5"),
      scaled.end());
  EXPECT_FALSE(EventMessages(v1_rs, "SuccessfulCreate").empty());

  RolloutWatch watch(Admin(), "web", RollingBounds(7, 4));
  watch.Start();
  d.image = "registry.example/web:v2";
  Apply(d);
  RolloutStatus("web");
  std::multiset<std::string> images = ImagesOnce("web", 5);
  EXPECT_EQ(images.count("registry.example/web:v2"), 5u);
  std::vector<bj::object> rss = ReplicaSets("web");
  ASSERT_EQ(rss.size(), 2u);
  std::map<std::string, std::string> revisions;  // image -> revision
  for (const bj::object& rs : rss) {
    revisions[TemplateImage(rs)] = controllers::Annotation(rs, controllers::kRevisionAnnotation);
    EXPECT_EQ(controllers::Annotation(rs, controllers::kDesiredReplicasAnnotation), "5");
    EXPECT_EQ(controllers::Annotation(rs, controllers::kMaxReplicasAnnotation), "7");
  }
  EXPECT_EQ(revisions["registry.example/web:v1"], "1");
  EXPECT_EQ(revisions["registry.example/web:v2"], "2");
  EXPECT_EQ(controllers::Annotation(Deployment("web"), controllers::kRevisionAnnotation), "2");
  std::string history = Kubectl({"-n", "default", "rollout", "history", "deployment/web"});
  EXPECT_NE(history.find("\n1         <none>"), std::string::npos) << history;
  EXPECT_NE(history.find("\n2         <none>"), std::string::npos) << history;

  std::string undone = Kubectl({"-n", "default", "rollout", "undo", "deployment/web"});
  EXPECT_NE(undone.find("rolled back"), std::string::npos) << undone;
  RolloutStatus("web");
  bj::object after = Deployment("web");
  EXPECT_EQ(TemplateImage(after), "registry.example/web:v1");
  images = ImagesOnce("web", 5);
  EXPECT_EQ(images.count("registry.example/web:v1"), 5u);
  // The v1 ReplicaSet is the new one again, with the next revision.
  EXPECT_EQ(controllers::Annotation(after, controllers::kRevisionAnnotation), "3");
  bj::value v1 = Call("GET", "/apis/apps/v1/namespaces/default/replicasets/" + v1_rs, nullptr, 200);
  ASSERT_TRUE(v1.is_object());
  EXPECT_EQ(controllers::Annotation(v1.as_object(), controllers::kRevisionAnnotation), "3");
  EXPECT_EQ(controllers::Annotation(v1.as_object(), controllers::kRevisionHistoryAnnotation), "1");
  EXPECT_EQ(ReplicaSets("web").size(), 2u) << "the rollback reused the v1 ReplicaSet";

  EXPECT_GT(watch.events(), 20) << "the watch saw the rollouts";
  std::vector<std::string> violations = watch.violations();
  EXPECT_TRUE(violations.empty()) << violations.size() << " violations, first: " << violations[0];
  bj::object status = after.at("status").as_object();
  EXPECT_EQ(api::LookupInt(status, {"updatedReplicas"}), 5);
  EXPECT_EQ(api::LookupInt(status, {"availableReplicas"}), 5);
  EXPECT_EQ(api::LookupInt(status, {"observedGeneration"}),
            api::LookupInt(after, {"metadata", "generation"}));
  std::string described = Kubectl({"-n", "default", "describe", "deployment", "web"});
  EXPECT_NE(described.find("NewReplicaSetAvailable"), std::string::npos) << described;
  EXPECT_NE(described.find("MinimumReplicasAvailable"), std::string::npos) << described;
  EXPECT_NE(described.find("Scaled down replica set"), std::string::npos) << described;
}

TEST_F(DeploymentTest, RecreateRemovesEveryOldPodBeforeMakingNewOnes) {
  DeploymentSpec d;
  d.strategy = "type: Recreate";
  Apply(d);
  RolloutStatus("web");
  ImagesOnce("web", 3);
  RolloutWatch watch(Admin(), "web", OneTemplateAtATime());
  watch.Start();
  d.image = "registry.example/web:v2";
  Apply(d);
  RolloutStatus("web");
  std::multiset<std::string> images = ImagesOnce("web", 3);
  EXPECT_EQ(images.count("registry.example/web:v2"), 3u);
  std::vector<std::string> violations = watch.violations();
  EXPECT_TRUE(violations.empty()) << violations.size() << " violations, first: " << violations[0];
  EXPECT_GT(watch.events(), 6);
}

TEST_F(DeploymentTest, ScalesUpAndDown) {
  // A rolling update that could never move is refused by the apiserver.
  DeploymentSpec frozen;
  frozen.name = "frozen";
  frozen.strategy = "type: RollingUpdate\n    rollingUpdate: {maxSurge: 0, maxUnavailable: 0%}";
  std::string file = dir_.path() + "/frozen.yaml";
  ASSERT_TRUE(WriteFile(file, DeploymentYaml(frozen)).ok());
  Result<CommandResult> refused = RunKubectl({"apply", "-f", file});
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->success());
  EXPECT_NE(refused->err.find("spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "
                              "\"0%\": may not be 0 when `maxSurge` is 0"),
            std::string::npos)
      << refused->err;

  DeploymentSpec d;
  d.replicas = 2;
  Apply(d);
  RolloutStatus("web");
  Kubectl({"-n", "default", "scale", "deployment/web", "--replicas=6"});
  RolloutStatus("web");
  ImagesOnce("web", 6);
  Kubectl({"-n", "default", "scale", "deployment/web", "--replicas=1"});
  RolloutStatus("web");
  ImagesOnce("web", 1);
  std::vector<bj::object> rss = ReplicaSets("web");
  ASSERT_EQ(rss.size(), 1u);
  EXPECT_EQ(controllers::SpecReplicas(rss[0]), 1);
  EXPECT_EQ(controllers::Annotation(rss[0], controllers::kDesiredReplicasAnnotation), "1");
  std::string name = StringAt(rss[0], {"metadata", "name"});
  EXPECT_FALSE(EventMessages(name, "SuccessfulDelete").empty());
  std::vector<std::string> scaled = EventMessages("web", "ScalingReplicaSet");
  EXPECT_NE(
      std::find(scaled.begin(), scaled.end(), "Scaled down replica set " + name + " to 1 from 6"),
      scaled.end());
}

TEST_F(DeploymentTest, APausedDeploymentScalesButDoesNotRollOut) {
  DeploymentSpec d;
  d.replicas = 2;
  Apply(d);
  RolloutStatus("web");
  Kubectl({"-n", "default", "rollout", "pause", "deployment/web"});
  Kubectl({"-n", "default", "set", "image", "deployment/web", "web=registry.example/web:v2"});
  Kubectl({"-n", "default", "scale", "deployment/web", "--replicas=3"});
  // Once the controller saw the last change: still one ReplicaSet, v1.
  ASSERT_TRUE(WaitFor([&] {
    bj::object now = Deployment("web");
    const bj::value* progressing = nullptr;
    if (const bj::value* cs = api::Lookup(now, {"status", "conditions"}); cs && cs->is_array()) {
      for (const bj::value& c : cs->as_array())
        if (StringAt(c.as_object(), {"type"}) == "Progressing") progressing = &c;
    }
    return api::LookupInt(now, {"status", "observedGeneration"}) ==
               api::LookupInt(now, {"metadata", "generation"}) &&
           progressing != nullptr &&
           StringAt(progressing->as_object(), {"reason"}) == "DeploymentPaused";
  }));
  std::multiset<std::string> images = ImagesOnce("web", 3);
  EXPECT_EQ(images.count("registry.example/web:v1"), 3u);
  EXPECT_EQ(ReplicaSets("web").size(), 1u);

  Kubectl({"-n", "default", "rollout", "resume", "deployment/web"});
  RolloutStatus("web");
  images = ImagesOnce("web", 3);
  EXPECT_EQ(images.count("registry.example/web:v2"), 3u);
}

TEST_F(DeploymentTest, OldReplicaSetsBeyondTheHistoryLimitAreDeleted) {
  DeploymentSpec d;
  d.replicas = 1;
  d.extra_spec = "  revisionHistoryLimit: 1\n";
  for (const char* image :
       {"registry.example/web:v1", "registry.example/web:v2", "registry.example/web:v3"}) {
    d.image = image;
    Apply(d);
    RolloutStatus("web");
  }
  // The new one and one old one (v2); v1 went.
  ASSERT_TRUE(WaitFor([&] { return ReplicaSets("web").size() == 2; }))
      << ReplicaSets("web").size() << " ReplicaSets";
  std::set<std::string> kept;
  for (const bj::object& rs : ReplicaSets("web"))
    kept.insert(TemplateImage(rs));
  EXPECT_EQ(kept, (std::set<std::string>{"registry.example/web:v2", "registry.example/web:v3"}));
}

TEST_F(DeploymentTest, ProgressDeadlineExceededWhenPodsNeverBecomeReady) {
  DeploymentSpec d;
  d.extra_spec = "  progressDeadlineSeconds: 1\n";
  d.extra_labels = std::string(testing::kFakeKubeletIgnore) + ": \"yes\"";
  Apply(d);
  ASSERT_TRUE(WaitFor(
      [&] {
        bj::object now = Deployment("web");
        const bj::value* cs = api::Lookup(now, {"status", "conditions"});
        if (cs == nullptr || !cs->is_array()) return false;
        for (const bj::value& c : cs->as_array()) {
          if (StringAt(c.as_object(), {"type"}) == "Progressing") {
            return StringAt(c.as_object(), {"reason"}) == "ProgressDeadlineExceeded" &&
                   StringAt(c.as_object(), {"status"}) == "False";
          }
        }
        return false;
      },
      10s));
  Result<CommandResult> status =
      RunKubectl({"-n", "default", "rollout", "status", "deployment/web", "--timeout=10s"});
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->success());
  EXPECT_NE(status->err.find("exceeded its progress deadline"), std::string::npos) << status->err;
}

// A ReplicaSet of `replicas` pods labelled app=<name>.
bj::object ReplicaSetOf(const std::string& name, int replicas) {
  bj::object labels{{"app", name}};
  bj::array containers{bj::object{{"name", "web"}, {"image", "registry.example/web:v1"}}};
  return bj::object{
      {"metadata", bj::object{{"name", name}}},
      {"spec",
       bj::object{{"replicas", replicas},
                  {"selector", bj::object{{"matchLabels", labels}}},
                  {"template", bj::object{{"metadata", bj::object{{"labels", labels}}},
                                          {"spec", bj::object{{"containers", containers}}}}}}}};
}

// The ReplicaSet controller alone: adoption, replacement, release, status.
TEST_F(DeploymentTest, AReplicaSetAdoptsOrphansReplacesDeletedPodsAndReleasesRelabeledOnes) {
  Call("POST", "/api/v1/namespaces/default/pods",
       bj::object{
           {"metadata", bj::object{{"name", "orphan"}, {"labels", bj::object{{"app", "front"}}}}},
           {"spec", bj::object{{"containers",
                                bj::array{bj::object{{"name", "web"},
                                                     {"image", "registry.example/web:v1"}}}}}}},
       201);
  // The controllers' pod informer must know the orphan before the
  // ReplicaSet syncs, or it rightly makes three pods and deletes one later
  // (it did in CI, its watch behind the test's). A watch delivers in
  // resourceVersion order, so once the controller counts the pod of a
  // ReplicaSet made after the orphan, its informer has the orphan too.
  Call("POST", "/apis/apps/v1/namespaces/default/replicasets", ReplicaSetOf("barrier", 1), 201);
  ASSERT_TRUE(WaitFor([&] {
    bj::value rs =
        Call("GET", "/apis/apps/v1/namespaces/default/replicasets/barrier", nullptr, 200);
    return api::LookupInt(rs.as_object(), {"status", "replicas"}) == 1;
  }));
  Call("POST", "/apis/apps/v1/namespaces/default/replicasets", ReplicaSetOf("front", 3), 201);
  auto controlled_by_front = [](const bj::object& pod) {
    std::optional<controllers::OwnerRef> ref = controllers::ControllerOf(pod);
    return ref && ref->kind == "ReplicaSet" && ref->name == "front";
  };
  auto ready_and_owned = [&] {
    std::vector<bj::object> pods = ActivePods("front");
    if (pods.size() != 3) return false;
    for (const bj::object& p : pods)
      if (!controlled_by_front(p) || !controllers::IsPodReady(p)) return false;
    return true;
  };
  ASSERT_TRUE(WaitFor(ready_and_owned));
  int made = 0;
  bool orphan_adopted = false;
  for (const bj::object& p : ActivePods("front")) {
    std::string name = StringAt(p, {"metadata", "name"});
    if (name == "orphan") orphan_adopted = true;
    if (name.starts_with("front-")) ++made;
  }
  EXPECT_TRUE(orphan_adopted);
  EXPECT_EQ(made, 2) << "the adopted orphan counts";
  std::vector<std::string> created = EventMessages("front", "SuccessfulCreate");
  EXPECT_EQ(created.size(), 2u);
  for (const std::string& m : created)
    EXPECT_TRUE(m.starts_with("Created pod: front-")) << m;

  // A deleted pod is replaced.
  Kubectl({"-n", "default", "delete", "pod", "orphan", "--wait=false"});
  ASSERT_TRUE(WaitFor([&] {
    std::vector<bj::object> pods = Pods("front");
    bool gone = std::none_of(pods.begin(), pods.end(), [](const bj::object& p) {
      return StringAt(p, {"metadata", "name"}) == "orphan";
    });
    return gone && ready_and_owned();
  }));

  // A pod relabeled out of the selector is released and replaced.
  std::string relabeled = StringAt(ActivePods("front")[0], {"metadata", "name"});
  Kubectl({"-n", "default", "label", "pod", relabeled, "app=elsewhere", "--overwrite"});
  ASSERT_TRUE(WaitFor([&] {
    bj::value p = Call("GET", "/api/v1/namespaces/default/pods/" + relabeled, nullptr, 200);
    return p.is_object() && !controllers::ControllerOf(p.as_object()) && ready_and_owned();
  }));

  // Status, once settled.
  ASSERT_TRUE(WaitFor([&] {
    bj::value rs = Call("GET", "/apis/apps/v1/namespaces/default/replicasets/front", nullptr, 200);
    const bj::object& o = rs.as_object();
    return api::LookupInt(o, {"status", "replicas"}) == 3 &&
           api::LookupInt(o, {"status", "readyReplicas"}) == 3 &&
           api::LookupInt(o, {"status", "availableReplicas"}) == 3 &&
           api::LookupInt(o, {"status", "fullyLabeledReplicas"}) == 3 &&
           api::LookupInt(o, {"status", "observedGeneration"}) ==
               api::LookupInt(o, {"metadata", "generation"});
  }));

  // Scaled down: the surplus goes, with events.
  Kubectl({"-n", "default", "scale", "rs/front", "--replicas=1"});
  ASSERT_TRUE(WaitFor([&] { return Pods("front").size() == 1; }));
  EXPECT_EQ(EventMessages("front", "SuccessfulDelete").size(), 2u);
}

}  // namespace
}  // namespace berth::controlplane
