// The controller manager against a berth server in this process, with
// the controller manager's own certificate (so its RBAC role is what
// allows it): a deleted namespace is emptied and stays Terminating while
// anything is left (a pod in its grace period, an object a finalizer
// holds), then goes; every namespace gets a default ServiceAccount and
// the kube-root-ca.crt ConfigMap, put back when deleted or edited.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "controlplane/controllers/controller_manager.h"
#include "controlplane/controllers/tests/test_controllers.h"
#include "controlplane/server/tests/test_server.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kDescription[] =
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters.";

struct Reply {
  int code = 0;
  bj::value body;
};

class ControllersTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    client::ClientConfig admin = AdminConfig();
    api_ = std::make_unique<client::ApiClient>(admin);
  }
  void TearDown() override {
    if (manager_) manager_->Stop();
  }

  Reply Do(const std::string& method, const std::string& target, const std::string& body = "",
           std::string_view type = "application/json") {
    Result<client::ApiResponse> r = api_->Do(method, target, body, type);
    EXPECT_TRUE(r.ok()) << method << " " << target << ": " << r.error().str();
    if (!r.ok()) return {};
    return {r->status, r->Json()};
  }
  // The request must answer `want`.
  bj::value Must(const std::string& method, const std::string& target, const std::string& body,
                 int want) {
    Reply r = Do(method, target, body);
    EXPECT_EQ(r.code, want) << method << " " << target << ": " << bj::serialize(r.body);
    return r.body;
  }
  int Code(const std::string& target) { return Do("GET", target).code; }
  size_t Count(const std::string& collection) {
    Reply r = Do("GET", collection);
    if (r.code != 200) return 1000;
    return r.body.at("items").as_array().size();
  }

  template <class Pred>
  static bool Eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
  }

  // The namespace's condition of `type`; null when it has none.
  bj::value Condition(const std::string& ns, const std::string& type) {
    Reply r = Do("GET", "/api/v1/namespaces/" + ns);
    if (r.code != 200) return nullptr;
    const bj::value* conditions = r.body.as_object().if_contains("status");
    if (conditions == nullptr) return nullptr;
    conditions = conditions->as_object().if_contains("conditions");
    if (conditions == nullptr || !conditions->is_array()) return nullptr;
    for (const bj::value& c : conditions->as_array())
      if (c.at("type") == type.c_str()) return c;
    return nullptr;
  }

  std::string Uid(const bj::value& obj) {
    return std::string(obj.at("metadata").at("uid").as_string());
  }

  std::unique_ptr<client::ApiClient> api_;
  std::unique_ptr<ControllerManager> manager_;
};

const char kPod[] =
    R"({"metadata":{"name":"%s"},"spec":{"containers":[{"name":"c","image":"busybox"}]}})";

std::string Pod(const std::string& name) {
  std::string s = kPod;
  s.replace(s.find("%s"), 2, name);
  return s;
}

TEST_F(ControllersTest, ADeletedNamespaceIsEmptiedAndGoesOnceItsLastPodHasTerminated) {
  StartTestControllers(*server_, manager_);
  ASSERT_NE(manager_, nullptr);
  const std::string ns = "/api/v1/namespaces/team";
  Must("POST", "/api/v1/namespaces", R"({"metadata":{"name":"team"}})", 201);
  ASSERT_TRUE(Eventually([&] {
    return Code(ns + "/serviceaccounts/default") == 200 &&
           Code(ns + "/configmaps/kube-root-ca.crt") == 200;
  }));
  Must("POST", ns + "/configmaps", R"({"metadata":{"name":"c1"},"data":{"k":"v"}})", 201);
  Must("POST", ns + "/secrets", R"({"metadata":{"name":"s1"},"stringData":{"k":"v"}})", 201);
  bj::value svc = Must("POST", ns + "/services",
                       R"({"metadata":{"name":"web"},"spec":{"ports":[{"port":80}]}})", 201);
  std::string ip(svc.at("spec").at("clusterIP").as_string());
  Must("POST", "/apis/apps/v1/namespaces/team/deployments", R"({"metadata":{"name":"d"},
       "spec":{"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},
       "spec":{"containers":[{"name":"c","image":"busybox"}]}}}})",
       201);
  Must("POST", ns + "/pods", Pod("loose"), 201);
  Must("POST", ns + "/pods", Pod("bound"), 201);
  Must("POST", ns + "/pods/bound/binding",
       R"({"metadata":{"name":"bound"},"target":{"kind":"Node","name":"n1"}})", 201);

  bj::value deleting = Must("DELETE", ns, "", 200);
  EXPECT_TRUE(deleting.at("metadata").as_object().contains("deletionTimestamp"));
  EXPECT_EQ(deleting.at("status").at("phase"), "Terminating");

  // Everything goes but the bound pod, which waits for its kubelet.
  ASSERT_TRUE(Eventually([&] {
    return Count(ns + "/configmaps") == 0 && Count(ns + "/secrets") == 0 &&
           Count(ns + "/services") == 0 && Count(ns + "/serviceaccounts") == 0 &&
           Count("/apis/apps/v1/namespaces/team/deployments") == 0 &&
           Code(ns + "/pods/loose") == 404;
  })) << "the namespace's content was not deleted";
  bj::value bound = Must("GET", ns + "/pods/bound", "", 200);
  EXPECT_TRUE(bound.at("metadata").as_object().contains("deletionTimestamp"));
  ASSERT_TRUE(Eventually([&] {
    bj::value c = Condition("team", "NamespaceContentRemaining");
    return c.is_object() && c.at("status") == "True";
  }));
  bj::value remaining = Condition("team", "NamespaceContentRemaining");
  EXPECT_EQ(remaining.at("reason"), "SomeResourcesRemain");
  EXPECT_EQ(remaining.at("message"),
            "Some resources are remaining: pods. has 1 resource instances");
  EXPECT_EQ(Condition("team", "NamespaceDeletionContentFailure").at("status"), "False");
  EXPECT_EQ(Condition("team", "NamespaceDeletionDiscoveryFailure").at("status"), "False");

  // Still Terminating, still finalized by "kubernetes", closed to new
  // content, and the default ServiceAccount is not made again in it.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // past a recheck
  bj::value held = Must("GET", ns, "", 200);
  EXPECT_EQ(held.at("status").at("phase"), "Terminating");
  EXPECT_EQ(held.at("spec").at("finalizers"), bj::array{"kubernetes"});
  Reply refused = Do("POST", ns + "/configmaps", R"({"metadata":{"name":"late"}})");
  EXPECT_EQ(refused.code, 403);
  EXPECT_EQ(refused.body.at("details").at("causes").at(0).at("reason"), "NamespaceTerminating");
  EXPECT_EQ(Count(ns + "/serviceaccounts"), 0u);
  Reply again = Do("DELETE", ns);
  EXPECT_EQ(again.code, 409) << bj::serialize(again.body);

  // The kubelet's final delete: then the namespace goes.
  Must("DELETE", ns + "/pods/bound?gracePeriodSeconds=0", "", 200);
  ASSERT_TRUE(Eventually([&] { return Code(ns) == 404; }))
      << "the namespace outlived its content: " << bj::serialize(Do("GET", ns).body);
  // Its Service gave its cluster IP back.
  Must(
      "POST", "/api/v1/namespaces/default/services",
      R"({"metadata":{"name":"reuse"},"spec":{"clusterIP":")" + ip + R"(","ports":[{"port":80}]}})",
      201);
  // A namespace of the same name starts empty but for what controllers add.
  Must("POST", "/api/v1/namespaces", R"({"metadata":{"name":"team"}})", 201);
  EXPECT_EQ(Code(ns + "/configmaps/c1"), 404);
}

TEST_F(ControllersTest, ANamespaceWaitsForTheFinalizersOfItsContent) {
  ControllerManagerOptions only;
  only.controllers = {"namespace"};
  StartTestControllers(*server_, manager_, only);
  ASSERT_NE(manager_, nullptr);
  const std::string ns = "/api/v1/namespaces/held";
  Must("POST", "/api/v1/namespaces", R"({"metadata":{"name":"held"}})", 201);
  Must("POST", ns + "/configmaps",
       R"({"metadata":{"name":"kept","finalizers":["example.com/hold"]}})", 201);
  Must("DELETE", ns, "", 200);
  ASSERT_TRUE(Eventually([&] {
    bj::value c = Condition("held", "NamespaceFinalizersRemaining");
    return c.is_object() && c.at("status") == "True";
  }));
  EXPECT_EQ(Condition("held", "NamespaceFinalizersRemaining").at("message"),
            "Some content in the namespace has finalizers remaining: example.com/hold in 1 "
            "resource instances");
  bj::value kept = Must("GET", ns + "/configmaps/kept", "", 200);
  EXPECT_TRUE(kept.at("metadata").as_object().contains("deletionTimestamp"));
  EXPECT_EQ(Code(ns), 200);

  Reply released = Do("PATCH", ns + "/configmaps/kept", R"({"metadata":{"finalizers":null}})",
                      "application/merge-patch+json");
  EXPECT_EQ(released.code, 200) << bj::serialize(released.body);
  ASSERT_TRUE(Eventually([&] { return Code(ns) == 404; })) << bj::serialize(Do("GET", ns).body);
}

TEST_F(ControllersTest, EveryNamespaceHasADefaultServiceAccountAndTheRootCa) {
  StartTestControllers(*server_, manager_);
  ASSERT_NE(manager_, nullptr);
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    std::string ns = std::string("/api/v1/namespaces/") + name;
    EXPECT_TRUE(Eventually([&] {
      return Code(ns + "/serviceaccounts/default") == 200 &&
             Code(ns + "/configmaps/kube-root-ca.crt") == 200;
    })) << name;
  }

  const std::string ns = "/api/v1/namespaces/apps";
  const std::string sa = ns + "/serviceaccounts/default";
  const std::string cm = ns + "/configmaps/kube-root-ca.crt";
  Must("POST", "/api/v1/namespaces", R"({"metadata":{"name":"apps"}})", 201);
  ASSERT_TRUE(Eventually([&] { return Code(sa) == 200 && Code(cm) == 200; }));
  bj::value published = Must("GET", cm, "", 200);
  EXPECT_EQ(published.at("data"), (bj::object{{"ca.crt", ca_}}));
  EXPECT_EQ(published.at("metadata").at("annotations").at("kubernetes.io/description"),
            kDescription);

  // Deleted: made again.
  std::string sa_uid = Uid(Must("GET", sa, "", 200));
  Must("DELETE", sa, "", 200);
  ASSERT_TRUE(Eventually([&] {
    Reply r = Do("GET", sa);
    return r.code == 200 && Uid(r.body) != sa_uid;
  })) << "the default ServiceAccount did not come back";
  std::string cm_uid = Uid(published);
  Must("DELETE", cm, "", 200);
  ASSERT_TRUE(Eventually([&] {
    Reply r = Do("GET", cm);
    return r.code == 200 && Uid(r.body) != cm_uid;
  })) << "kube-root-ca.crt did not come back";

  // Edited: put back, keeping what else the user added.
  bj::value edited = Must("GET", cm, "", 200);
  edited.at("data") = bj::object{{"ca.crt", "not a CA"}, {"extra", "x"}};
  edited.at("metadata").as_object()["annotations"] = bj::object{{"mine", "yes"}};
  Must("PUT", cm, bj::serialize(edited), 200);
  ASSERT_TRUE(Eventually([&] {
    Reply r = Do("GET", cm);
    return r.code == 200 && r.body.at("data") == bj::object{{"ca.crt", ca_}} &&
           r.body.at("metadata")
               .at("annotations")
               .as_object()
               .contains("kubernetes.io/description");
  })) << bj::serialize(Do("GET", cm).body);
  EXPECT_EQ(Must("GET", cm, "", 200).at("metadata").at("annotations").at("mine"), "yes");
}

TEST(ControllerManagerTest, StartRefusesAnUnknownControllerAndAPublisherWithoutACa) {
  ControllerManagerOptions unknown;
  unknown.controllers = {"namespace", "garbage-collector"};
  unknown.root_ca_pem = "pem";
  ControllerManager a({}, unknown);
  Status s = a.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(s.error().str().find("garbage-collector"), std::string::npos) << s.error().str();

  ControllerManager b({}, ControllerManagerOptions{});  // no CA
  Status t = b.Start();
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().str().find("root-ca-cert-publisher"), std::string::npos) << t.error().str();
}

}  // namespace
}  // namespace berth::controlplane::controllers
