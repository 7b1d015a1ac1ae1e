// The garbage collector against a berth server in this process, run by a
// controller manager with its own certificate (so RBAC applies) and no
// other controller. Owner chains are made by hand (a Deployment owning
// ReplicaSets owning Pods, nothing else acting on them; pods without a
// node, so that they go at once) and deleted with each propagation
// policy, through the API and through kubectl.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller_manager.h"
#include "controlplane/controllers/tests/test_controllers.h"
#include "controlplane/server/tests/test_server.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kPods[] = "/api/v1/namespaces/default/pods";
constexpr char kReplicaSets[] = "/apis/apps/v1/namespaces/default/replicasets";
constexpr char kDeployments[] = "/apis/apps/v1/namespaces/default/deployments";
constexpr char kConfigMaps[] = "/api/v1/namespaces/default/configmaps";
constexpr char kHold[] = "test.berth.dev/hold";

bj::object Template(const std::string& app) {
  return {{"metadata", {{"labels", {{"app", app}}}}},
          {"spec", {{"containers", bj::array{bj::object{{"name", "c"}, {"image", "busybox"}}}}}}};
}

bj::object Deployment(const std::string& name) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"replicas", 1},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template", Template(name)}}}};
}

bj::object ReplicaSet(const std::string& name, const std::string& app, bj::array owners) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "ReplicaSet"},
          {"metadata", {{"name", name}, {"ownerReferences", std::move(owners)}}},
          {"spec",
           {{"replicas", 1},
            {"selector", {{"matchLabels", {{"app", app}}}}},
            {"template", Template(app)}}}};
}

bj::object Pod(const std::string& name, bj::array owners) {
  bj::object pod = Template("x");
  pod["apiVersion"] = "v1";
  pod["kind"] = "Pod";
  pod["metadata"] = bj::object{{"name", name}, {"ownerReferences", std::move(owners)}};
  return pod;
}

bj::object ConfigMap(const std::string& name, bj::array owners) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"ownerReferences", std::move(owners)}}}};
}

// A reference to `owner` as a controller sets it.
bj::object RefTo(const bj::value& owner, bool block = true) {
  const bj::object& o = owner.as_object();
  return {{"apiVersion", o.at("apiVersion")},
          {"kind", o.at("kind")},
          {"name", o.at("metadata").at("name")},
          {"uid", o.at("metadata").at("uid")},
          {"controller", true},
          {"blockOwnerDeletion", block}};
}

std::string Name(const bj::value& obj) {
  return std::string(obj.at("metadata").at("name").as_string());
}

// The deletions informers saw, each with the revision it happened at.
class DeletionLog {
 public:
  DeletionLog(const client::ClientConfig& config, const std::vector<std::string>& collections)
      : client_(config) {
    for (const std::string& c : collections) {
      client::InformerHandlers h;
      h.deleted = [this](const bj::object& obj) {
        std::lock_guard lock(mu_);
        const bj::object& meta = obj.at("metadata").as_object();
        deleted_[std::string(meta.at("name").as_string())] =
            std::stoll(std::string(meta.at("resourceVersion").as_string()));
      };
      informers_.push_back(std::make_unique<client::Informer>(client_, c, h));
      informers_.back()->Start();
    }
  }
  bool Synced() const {
    for (const auto& i : informers_)
      if (!i->Synced()) return false;
    return true;
  }
  // The revision `name` was deleted at; 0 when not (yet).
  int64_t At(const std::string& name) {
    std::lock_guard lock(mu_);
    auto it = deleted_.find(name);
    return it == deleted_.end() ? 0 : it->second;
  }

 private:
  client::ApiClient client_;
  std::vector<std::unique_ptr<client::Informer>> informers_;
  std::mutex mu_;
  std::map<std::string, int64_t> deleted_;
};

class GarbageCollectorTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    admin_config_ = AdminConfig();
    api_ = std::make_unique<client::ApiClient>(admin_config_);
    ControllerManagerOptions options;
    options.controllers = {"garbagecollector"};
    options.garbage_collector_workers = 4;
    StartTestControllers(*server_, manager_, options);
  }
  void TearDown() override {
    if (manager_) manager_->Stop();
  }

  // The request's answer, which must be `want`.
  bj::value Must(const std::string& method, const std::string& target, const bj::value& body,
                 int want, std::string_view type = "application/json") {
    std::string text = body.is_null() ? "" : bj::serialize(body);
    Result<client::ApiResponse> r = api_->Do(method, target, text, type);
    EXPECT_TRUE(r.ok()) << method << " " << target << ": " << r.error().str();
    if (!r.ok()) return nullptr;
    EXPECT_EQ(r->status, want) << method << " " << target << ": " << r->body;
    return r->Json();
  }
  bj::value Create(const std::string& collection, const bj::object& obj) {
    return Must("POST", collection, obj, 201);
  }
  bj::value Delete(const std::string& url, const std::string& policy) {
    bj::object options{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
    if (!policy.empty()) options["propagationPolicy"] = policy;
    return Must("DELETE", url, options, 200);
  }
  // The object, or null when there is none.
  bj::value Get(const std::string& url) {
    Result<client::ApiResponse> r = api_->Do("GET", url);
    if (!r.ok() || r->status != 200) return nullptr;
    return r->Json();
  }
  bool Gone(const std::string& url) { return Get(url).is_null(); }

  template <class Pred>
  static bool Eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  }

  static std::vector<std::string> Finalizers(const bj::value& obj) {
    std::vector<std::string> out;
    const bj::value* f = obj.as_object().at("metadata").as_object().if_contains("finalizers");
    if (f != nullptr && f->is_array())
      for (const bj::value& s : f->as_array())
        out.emplace_back(s.as_string());
    return out;
  }
  static bool BeingDeleted(const bj::value& obj) {
    return obj.as_object().at("metadata").as_object().contains("deletionTimestamp");
  }
  static size_t OwnerCount(const bj::value& obj) {
    const bj::value* r = obj.as_object().at("metadata").as_object().if_contains("ownerReferences");
    return r != nullptr && r->is_array() ? r->as_array().size() : 0;
  }

  // A Deployment owning `sets` ReplicaSets owning `pods` Pods each.
  struct Chain {
    bj::value deployment;
    std::vector<bj::value> replica_sets;
    std::vector<bj::value> pods;
  };
  Chain MakeChain(const std::string& name, int sets, int pods) {
    Chain c;
    c.deployment = Create(kDeployments, Deployment(name));
    for (int i = 0; i < sets; ++i) {
      std::string rs = name + "-rs" + std::to_string(i);
      c.replica_sets.push_back(
          Create(kReplicaSets, ReplicaSet(rs, name, bj::array{RefTo(c.deployment)})));
      for (int j = 0; j < pods; ++j) {
        c.pods.push_back(Create(
            kPods, Pod(rs + "-p" + std::to_string(j), bj::array{RefTo(c.replica_sets.back())})));
      }
    }
    return c;
  }

  client::ClientConfig admin_config_;
  std::unique_ptr<client::ApiClient> api_;
  std::unique_ptr<ControllerManager> manager_;
};

TEST_F(GarbageCollectorTest, ForegroundDeletesPodsAndReplicaSetsBeforeTheDeployment) {
  DeletionLog log(admin_config_, {kPods, kReplicaSets, kDeployments});
  ASSERT_TRUE(Eventually([&] { return log.Synced(); }));
  Chain c = MakeChain("web", 2, 2);
  // One more pod, held by a finalizer of the test's: its ReplicaSet and
  // the Deployment must wait for it.
  bj::object held = Pod("web-held", bj::array{RefTo(c.replica_sets[0])});
  held["metadata"].as_object()["finalizers"] = bj::array{kHold};
  Create(kPods, held);

  bj::value deleting = Delete(std::string(kDeployments) + "/web", "Foreground");
  EXPECT_TRUE(BeingDeleted(deleting));
  EXPECT_EQ(Finalizers(deleting), std::vector<std::string>{"foregroundDeletion"});

  // Everything that can go goes; the held pod's ReplicaSet waits in
  // foreground too, and so does the Deployment.
  for (const bj::value& pod : c.pods)
    EXPECT_TRUE(Eventually([&] { return log.At(Name(pod)) != 0; })) << Name(pod);
  EXPECT_TRUE(Eventually([&] { return log.At("web-rs1") != 0; }));
  ASSERT_TRUE(Eventually([&] {
    bj::value rs = Get(std::string(kReplicaSets) + "/web-rs0");
    return !rs.is_null() && BeingDeleted(rs) &&
           Finalizers(rs) == std::vector<std::string>{"foregroundDeletion"};
  }));
  ASSERT_TRUE(Eventually([&] {
    bj::value pod = Get(std::string(kPods) + "/web-held");
    return !pod.is_null() && BeingDeleted(pod);
  }));
  bj::value waiting = Get(std::string(kDeployments) + "/web");
  ASSERT_FALSE(waiting.is_null()) << "the Deployment went before its ReplicaSet";
  EXPECT_EQ(Finalizers(waiting), std::vector<std::string>{"foregroundDeletion"});

  // The test's finalizer gone, the rest follows, in order.
  Must("PATCH", std::string(kPods) + "/web-held",
       bj::object{{"metadata", bj::object{{"finalizers", nullptr}}}}, 200,
       "application/merge-patch+json");
  ASSERT_TRUE(Eventually([&] { return log.At("web") != 0; }));
  int64_t deployment_gone = log.At("web");
  int64_t held_gone = log.At("web-held");
  ASSERT_NE(held_gone, 0);
  EXPECT_LT(held_gone, log.At("web-rs0"));
  for (const bj::value& pod : c.pods)
    EXPECT_LT(log.At(Name(pod)), deployment_gone) << Name(pod);
  EXPECT_LT(log.At("web-rs0"), deployment_gone);
  EXPECT_LT(log.At("web-rs1"), deployment_gone);
}

TEST_F(GarbageCollectorTest, BackgroundDeletesTheOwnerAtOnceThenItsDependents) {
  Chain c = MakeChain("bg", 1, 2);
  Delete(std::string(kDeployments) + "/bg", "Background");
  EXPECT_TRUE(Gone(std::string(kDeployments) + "/bg"));
  EXPECT_TRUE(Eventually([&] { return Gone(std::string(kReplicaSets) + "/bg-rs0"); }));
  for (const bj::value& pod : c.pods)
    EXPECT_TRUE(Eventually([&] { return Gone(std::string(kPods) + "/" + Name(pod)); }));
  // No policy is background too.
  MakeChain("plain", 1, 1);
  Must("DELETE", std::string(kDeployments) + "/plain", nullptr, 200);
  EXPECT_TRUE(Eventually([&] { return Gone(std::string(kPods) + "/plain-rs0-p0"); }));
}

TEST_F(GarbageCollectorTest, OrphanLeavesTheDependentsWithoutTheReference) {
  Chain c = MakeChain("orph", 1, 2);
  bj::value deleting = Delete(std::string(kDeployments) + "/orph", "Orphan");
  EXPECT_EQ(Finalizers(deleting), std::vector<std::string>{"orphan"});
  ASSERT_TRUE(Eventually([&] { return Gone(std::string(kDeployments) + "/orph"); }));
  bj::value rs = Get(std::string(kReplicaSets) + "/orph-rs0");
  ASSERT_FALSE(rs.is_null());
  EXPECT_EQ(OwnerCount(rs), 0u) << bj::serialize(rs);
  for (const bj::value& pod : c.pods) {
    bj::value now = Get(std::string(kPods) + "/" + Name(pod));
    ASSERT_FALSE(now.is_null()) << Name(pod);
    EXPECT_EQ(OwnerCount(now), 1u);  // still the ReplicaSet's
  }
  // Nothing deletes them later either: the ReplicaSet is gone only when asked.
  Delete(std::string(kReplicaSets) + "/orph-rs0", "");
  for (const bj::value& pod : c.pods)
    EXPECT_TRUE(Eventually([&] { return Gone(std::string(kPods) + "/" + Name(pod)); }));
}

TEST_F(GarbageCollectorTest, ADependentWithAnotherOwnerLosesOnlyTheDanglingReference) {
  bj::value a = Create(kConfigMaps, ConfigMap("owner-a", {}));
  bj::value b = Create(kConfigMaps, ConfigMap("owner-b", {}));
  Create(kConfigMaps, ConfigMap("shared", bj::array{RefTo(a, false), RefTo(b, false)}));
  Delete(std::string(kConfigMaps) + "/owner-a", "");
  ASSERT_TRUE(Eventually([&] {
    bj::value shared = Get(std::string(kConfigMaps) + "/shared");
    return !shared.is_null() && OwnerCount(shared) == 1;
  }));
  bj::value shared = Get(std::string(kConfigMaps) + "/shared");
  EXPECT_EQ(shared.at("metadata").at("ownerReferences").at(0).at("name"), "owner-b");
  EXPECT_FALSE(BeingDeleted(shared));
  Delete(std::string(kConfigMaps) + "/owner-b", "");
  EXPECT_TRUE(Eventually([&] { return Gone(std::string(kConfigMaps) + "/shared"); }));
}

TEST_F(GarbageCollectorTest, AClusterScopedOwnerOwnsNamespacedObjects) {
  const std::string roles = "/apis/rbac.authorization.k8s.io/v1/clusterroles";
  bj::value role = Create(roles, bj::object{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                                            {"kind", "ClusterRole"},
                                            {"metadata", {{"name", "gc-owner"}}},
                                            {"rules", bj::array{}}});
  Create(kConfigMaps, ConfigMap("owned", bj::array{RefTo(role)}));
  // A ClusterRole that is not there does not keep its dependent; one that
  // is does (the reference resolves without the dependent's namespace).
  bj::object missing = RefTo(role);
  missing["name"] = "gc-missing";
  missing["uid"] = "00000000-0000-0000-0000-000000000003";
  Create(kConfigMaps, ConfigMap("dangling", bj::array{missing}));
  ASSERT_TRUE(Eventually([&] { return Gone(std::string(kConfigMaps) + "/dangling"); }));
  EXPECT_FALSE(Gone(std::string(kConfigMaps) + "/owned"));

  Delete(roles + "/gc-owner", "Foreground");
  EXPECT_TRUE(Eventually([&] { return Gone(std::string(kConfigMaps) + "/owned"); }));
  EXPECT_TRUE(Eventually([&] { return Gone(roles + "/gc-owner"); }));
}

TEST_F(GarbageCollectorTest, AnObjectWhoseOwnerNeverExistedIsDeleted) {
  bj::value real = Create(kConfigMaps, ConfigMap("real", {}));
  bj::object wrong_uid = RefTo(real);
  wrong_uid["uid"] = "00000000-0000-0000-0000-000000000001";
  Create(kConfigMaps, ConfigMap("orphan-by-uid", bj::array{wrong_uid}));
  bj::object no_such = RefTo(real);
  no_such["name"] = "nowhere";
  no_such["uid"] = "00000000-0000-0000-0000-000000000002";
  Create(kConfigMaps, ConfigMap("orphan-by-name", bj::array{no_such}));
  Create(kConfigMaps, ConfigMap("kept", bj::array{RefTo(real)}));
  EXPECT_TRUE(Eventually([&] { return Gone(std::string(kConfigMaps) + "/orphan-by-uid"); }));
  EXPECT_TRUE(Eventually([&] { return Gone(std::string(kConfigMaps) + "/orphan-by-name"); }));
  EXPECT_FALSE(Gone(std::string(kConfigMaps) + "/kept"));
  EXPECT_FALSE(Gone(std::string(kConfigMaps) + "/real"));
}

TEST_F(GarbageCollectorTest, AnOwnerStopsWaitingForADependentThatStopsBlocking) {
  bj::value owner = Create(kConfigMaps, ConfigMap("waiter", {}));
  bj::object dep = ConfigMap("blocker", bj::array{RefTo(owner)});
  dep["metadata"].as_object()["finalizers"] = bj::array{kHold};
  Create(kConfigMaps, dep);
  Delete(std::string(kConfigMaps) + "/waiter", "Foreground");
  ASSERT_TRUE(Eventually([&] {
    bj::value b = Get(std::string(kConfigMaps) + "/blocker");
    return !b.is_null() && BeingDeleted(b);
  }));
  EXPECT_FALSE(Gone(std::string(kConfigMaps) + "/waiter"));
  // blockOwnerDeletion off: the owner need not wait any longer.
  bj::object unblocked = RefTo(owner, false);
  Must("PATCH", std::string(kConfigMaps) + "/blocker",
       bj::object{{"metadata", bj::object{{"ownerReferences", bj::array{unblocked}}}}}, 200,
       "application/merge-patch+json");
  EXPECT_TRUE(Eventually([&] { return Gone(std::string(kConfigMaps) + "/waiter"); }));
  EXPECT_FALSE(Gone(std::string(kConfigMaps) + "/blocker"));  // its own finalizer holds it
  Must("PATCH", std::string(kConfigMaps) + "/blocker",
       bj::object{{"metadata", bj::object{{"finalizers", nullptr}}}}, 200,
       "application/merge-patch+json");
  EXPECT_TRUE(Eventually([&] { return Gone(std::string(kConfigMaps) + "/blocker"); }));
}

TEST_F(GarbageCollectorTest, KubectlCascadeForegroundAndOrphan) {
  const std::string kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";
  BERTH_REQUIRE(PathExists(kubectl), kubectl + " (preinstalled on this machine)");
  auto run = [&](std::vector<std::string> args) {
    Command cmd;
    cmd.argv = {kubectl, "--kubeconfig", server_->admin_kubeconfig()};
    cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
    cmd.timeout = std::chrono::seconds(20);
    Result<CommandResult> out = RunCommand(cmd);
    EXPECT_TRUE(out.ok()) << out.error().str();
    if (!out.ok()) return std::string();
    EXPECT_EQ(out->exit_code, 0) << out->err;
    return out->out;
  };
  Chain fg = MakeChain("kfg", 1, 2);
  Chain orphan = MakeChain("korph", 1, 1);

  // kubectl waits for the Deployment to go: after the pods and ReplicaSet.
  EXPECT_EQ(run({"delete", "deployment", "kfg", "--cascade=foreground"}),
            "deployment.apps \"kfg\" deleted\n");
  EXPECT_TRUE(Gone(std::string(kDeployments) + "/kfg"));
  EXPECT_TRUE(Gone(std::string(kReplicaSets) + "/kfg-rs0"));
  for (const bj::value& pod : fg.pods)
    EXPECT_TRUE(Gone(std::string(kPods) + "/" + Name(pod)));

  EXPECT_EQ(run({"delete", "deployment", "korph", "--cascade=orphan"}),
            "deployment.apps \"korph\" deleted\n");
  EXPECT_TRUE(Gone(std::string(kDeployments) + "/korph"));
  bj::value rs = Get(std::string(kReplicaSets) + "/korph-rs0");
  ASSERT_FALSE(rs.is_null());
  EXPECT_EQ(OwnerCount(rs), 0u);
  EXPECT_FALSE(Gone(std::string(kPods) + "/korph-rs0-p0"));
  EXPECT_EQ(run({"get", "replicasets", "korph-rs0", "-o", "jsonpath={.metadata.ownerReferences}"}),
            "");
}

}  // namespace
}  // namespace berth::controlplane::controllers
