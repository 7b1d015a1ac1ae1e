// The REST machinery end to end over HTTPS with the admin certificate:
// create/get/list/update/delete semantics, bad input, optimistic
// concurrency, paging, watch (replay, 410, selectors, 100 watchers).

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "controlplane/controllers/tests/test_controllers.h"
#include "controlplane/server/apiserver.h"
#include "controlplane/server/compactor.h"
#include "controlplane/server/tests/test_server.h"
#include "controlplane/server/tests/tls_client.h"

namespace berth::controlplane {
namespace {

namespace bj = boost::json;
using http::bhttp::verb;

struct Reply {
  int code = 0;
  bj::value body;
};

class RestTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    client_ = std::make_unique<http::TlsClient>(server_->port(), ca_, &admin_);
  }

  Reply Do(verb v, const std::string& target, const std::string& body = "",
           const std::string& content_type = "application/json") {
    auto res = client_->Do(v, target, body, content_type);
    Reply r;
    r.code = res.result_int();
    boost::system::error_code ec;
    r.body = bj::parse(res.body(), ec);
    if (ec) r.body = bj::string(res.body());
    return r;
  }

  Reply CreateConfigMap(const std::string& ns, const std::string& name,
                        const std::string& labels = "{}") {
    return Do(verb::post, "/api/v1/namespaces/" + ns + "/configmaps",
              R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
                  R"(","labels":)" + labels + R"(},"data":{"k":"v"}})");
  }

  size_t CountConfigMaps(const std::string& ns) {
    Reply r = Do(verb::get, "/api/v1/namespaces/" + ns + "/configmaps");
    return r.body.at("items").as_array().size();
  }

  std::unique_ptr<http::TlsClient> NewClient() {
    return std::make_unique<http::TlsClient>(server_->port(), ca_, &admin_);
  }

  std::unique_ptr<http::TlsClient> client_;
};

int64_t Rv(const bj::value& obj) {
  return std::stoll(std::string(obj.at("metadata").at("resourceVersion").as_string()));
}

TEST_F(RestTest, CreateFillsSystemFieldsAndResourceVersionsIncrease) {
  Reply a = CreateConfigMap("default", "a");
  ASSERT_EQ(a.code, 201) << bj::serialize(a.body);
  const bj::object& meta = a.body.at("metadata").as_object();
  EXPECT_EQ(meta.at("namespace"), "default");
  EXPECT_EQ(meta.at("uid").as_string().size(), 36u);
  EXPECT_TRUE(meta.contains("creationTimestamp"));
  Reply gen = Do(verb::post, "/api/v1/namespaces/default/configmaps",
                 R"({"metadata":{"generateName":"web-"}})");
  ASSERT_EQ(gen.code, 201) << bj::serialize(gen.body);
  std::string name(gen.body.at("metadata").at("name").as_string());
  EXPECT_TRUE(name.starts_with("web-") && name.size() == 9) << name;
  EXPECT_GT(Rv(gen.body), Rv(a.body));
  Reply again = CreateConfigMap("default", "a");
  EXPECT_EQ(again.code, 409);
  EXPECT_EQ(again.body.at("reason"), "AlreadyExists");
  Reply got = Do(verb::get, "/api/v1/namespaces/default/configmaps/a");
  ASSERT_EQ(got.code, 200);
  EXPECT_EQ(got.body.at("data").at("k"), "v");
  Reply missing = Do(verb::get, "/api/v1/namespaces/default/configmaps/nope");
  EXPECT_EQ(missing.code, 404);
  EXPECT_EQ(missing.body.at("kind"), "Status");
  EXPECT_EQ(missing.body.at("message"), "configmaps \"nope\" not found");
  Reply no_ns = CreateConfigMap("ghost", "a");
  EXPECT_EQ(no_ns.code, 404);
  EXPECT_EQ(no_ns.body.at("message"), "namespaces \"ghost\" not found");
}

TEST_F(RestTest, BadInputIsRefusedWithFieldPathsAndNothingIsStored) {
  size_t before = CountConfigMaps("default");
  Reply json = Do(verb::post, "/api/v1/namespaces/default/configmaps", "{not json");
  EXPECT_EQ(json.code, 400);
  EXPECT_EQ(json.body.at("kind"), "Status");
  Reply yaml =
      Do(verb::post, "/api/v1/namespaces/default/configmaps", "a: [1,\n", "application/yaml");
  EXPECT_EQ(yaml.code, 400);
  Reply name = CreateConfigMap("default", "Bad_Name");
  ASSERT_EQ(name.code, 422);
  EXPECT_EQ(name.body.at("reason"), "Invalid");
  EXPECT_EQ(name.body.at("details").at("causes").at(0).at("field"), "metadata.name");
  EXPECT_EQ(CountConfigMaps("default"), before);

  Reply pod = Do(verb::post, "/api/v1/namespaces/default/pods",
                 R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]}})");
  ASSERT_EQ(pod.code, 422);
  EXPECT_EQ(pod.body.at("details").at("causes").at(0).at("field"), "spec.containers[0].image");
  Reply empty = Do(verb::post, "/api/v1/namespaces/default/pods", R"({"metadata":{"name":"p"}})");
  ASSERT_EQ(empty.code, 422);
  EXPECT_EQ(Do(verb::get, "/api/v1/namespaces/default/pods/p").code, 404);

  // YAML bodies are read as kube-apiserver reads them.
  Reply from_yaml = Do(verb::post, "/apis/apps/v1/namespaces/default/deployments",
                       "metadata: {name: d}\n"
                       "spec:\n  selector: {matchLabels: {app: d}}\n"
                       "  template:\n    metadata: {labels: {app: d}}\n"
                       "    spec: {containers: [{name: c, image: busybox}]}\n",
                       "application/yaml");
  ASSERT_EQ(from_yaml.code, 201) << bj::serialize(from_yaml.body);
  EXPECT_EQ(from_yaml.body.at("spec").at("replicas"), 1);
  EXPECT_EQ(from_yaml.body.at("metadata").at("generation"), 1);
  // The selector is immutable; the update is refused and nothing changes.
  bj::value changed = from_yaml.body;
  changed.at("spec").at("selector").at("matchLabels").as_object()["app"] = "e";
  changed.at("spec").at("template").at("metadata").at("labels").as_object()["app"] = "e";
  Reply immutable =
      Do(verb::put, "/apis/apps/v1/namespaces/default/deployments/d", bj::serialize(changed));
  ASSERT_EQ(immutable.code, 422) << bj::serialize(immutable.body);
  EXPECT_EQ(immutable.body.at("details").at("causes").at(0).at("field"), "spec.selector");
  Reply after = Do(verb::get, "/apis/apps/v1/namespaces/default/deployments/d");
  EXPECT_EQ(Rv(after.body), Rv(from_yaml.body));
  // A JSON Patch index past any integer is a 400, not a crash.
  Reply huge = Do(verb::patch, "/apis/apps/v1/namespaces/default/deployments/d",
                  R"([{"op":"add","path":"/spec/template/spec/containers/99999999999999999999999",
                      "value":{}}])",
                  "application/json-patch+json");
  EXPECT_EQ(huge.code, 400) << bj::serialize(huge.body);
  Reply external = Do(verb::post, "/api/v1/namespaces/default/services",
                      R"({"metadata":{"name":"ext"},"spec":{"type":"ExternalName",
                          "externalName":"example.com","clusterIP":"10.96.0.1"}})");
  EXPECT_EQ(external.code, 422) << bj::serialize(external.body);
  Reply mismatch = Do(verb::post, "/api/v1/namespaces/default/configmaps",
                      R"({"metadata":{"name":"x","namespace":"kube-system"}})");
  EXPECT_EQ(mismatch.code, 400);
}

// Upstream holds RBAC objects and CSRs to path-segment names only: the
// bootstrap roles are system:<...> and kubelets name their CSRs
// node-csr-<base64url>; other kinds keep DNS rules.
TEST_F(RestTest, RbacAndCsrNamesNeedOnlyBeValidPathSegments) {
  Reply role = Do(verb::post, "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                  R"({"metadata":{"name":"system:test:Reader_1"},"rules":[]})");
  EXPECT_EQ(role.code, 201) << bj::serialize(role.body);
  Reply slash = Do(verb::post, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
                   R"({"metadata":{"name":"a/b"},"rules":[]})");
  ASSERT_EQ(slash.code, 422) << bj::serialize(slash.body);
  EXPECT_EQ(slash.body.at("details").at("causes").at(0).at("field"), "metadata.name");
  Reply dots = Do(verb::post, "/apis/certificates.k8s.io/v1/certificatesigningrequests",
                  R"({"metadata":{"name":".."},"spec":{}})");
  EXPECT_EQ(dots.code, 422) << bj::serialize(dots.body);
  Reply cm = CreateConfigMap("default", "system:x");
  EXPECT_EQ(cm.code, 422) << bj::serialize(cm.body);
}

TEST_F(RestTest, StaleResourceVersionIsAConflictAndSpecChangesBumpGeneration) {
  Reply made = Do(verb::post, "/apis/apps/v1/namespaces/default/deployments",
                  R"({"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},
                      "template":{"metadata":{"labels":{"a":"b"}},
                      "spec":{"containers":[{"name":"c","image":"i"}]}}}})");
  ASSERT_EQ(made.code, 201) << bj::serialize(made.body);
  bj::value v1 = made.body;
  v1.at("spec").as_object()["replicas"] = 3;
  Reply updated =
      Do(verb::put, "/apis/apps/v1/namespaces/default/deployments/d", bj::serialize(v1));
  ASSERT_EQ(updated.code, 200) << bj::serialize(updated.body);
  EXPECT_EQ(updated.body.at("metadata").at("generation"), 2);
  Reply stale = Do(verb::put, "/apis/apps/v1/namespaces/default/deployments/d", bj::serialize(v1));
  ASSERT_EQ(stale.code, 409);
  EXPECT_EQ(stale.body.at("reason"), "Conflict");
  // A label change is not a spec change.
  Reply labeled = Do(verb::patch, "/apis/apps/v1/namespaces/default/deployments/d",
                     R"({"metadata":{"labels":{"x":"y"}}})", "application/merge-patch+json");
  ASSERT_EQ(labeled.code, 200);
  EXPECT_EQ(labeled.body.at("metadata").at("generation"), 2);
  // Status is the status subresource's: a main update keeps it.
  bj::value with_status = labeled.body;
  with_status.as_object()["status"] = bj::parse(R"({"replicas":7})");
  Reply ignored =
      Do(verb::put, "/apis/apps/v1/namespaces/default/deployments/d", bj::serialize(with_status));
  ASSERT_EQ(ignored.code, 200);
  EXPECT_FALSE(ignored.body.at("status").as_object().contains("replicas"));
  Reply status = Do(verb::put, "/apis/apps/v1/namespaces/default/deployments/d/status",
                    bj::serialize(with_status));
  ASSERT_EQ(status.code, 200) << bj::serialize(status.body);
  EXPECT_EQ(status.body.at("status").at("replicas"), 7);
  Reply scale = Do(verb::get, "/apis/apps/v1/namespaces/default/deployments/d/scale");
  ASSERT_EQ(scale.code, 200);
  EXPECT_EQ(scale.body.at("spec").at("replicas"), 3);
  EXPECT_EQ(scale.body.at("status").at("selector"), "a=b");
}

TEST_F(RestTest, ListPagesWithContinueAndSelectors) {
  for (int i = 0; i < 25; ++i) {
    std::string labels = i % 2 == 0 ? R"({"even":"true"})" : "{}";
    ASSERT_EQ(CreateConfigMap("default", "cm-" + std::to_string(100 + i), labels).code, 201);
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  std::string list_rv;
  do {
    std::string target = "/api/v1/namespaces/default/configmaps?limit=10&labelSelector=even%3Dtrue";
    if (!token.empty()) target += "&continue=" + token;
    Reply page = Do(verb::get, target);
    ASSERT_EQ(page.code, 200) << bj::serialize(page.body);
    for (const bj::value& item : page.body.at("items").as_array())
      seen.emplace_back(item.at("metadata").at("name").as_string());
    const bj::object& meta = page.body.at("metadata").as_object();
    if (pages == 0) list_rv = std::string(meta.at("resourceVersion").as_string());
    EXPECT_EQ(meta.at("resourceVersion").as_string(), list_rv) << "one snapshot for all pages";
    token = meta.contains("continue") ? std::string(meta.at("continue").as_string()) : "";
    ++pages;
    // Writes between pages do not show in later pages.
    if (pages == 1) {
      ASSERT_EQ(CreateConfigMap("default", "cm-999", R"({"even":"true"})").code, 201);
    }
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 2);
  ASSERT_EQ(seen.size(), 13u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  Reply bad = Do(verb::get, "/api/v1/namespaces/default/configmaps?labelSelector=a%20in%20(");
  EXPECT_EQ(bad.code, 400);
  Reply field = Do(verb::get, "/api/v1/configmaps?fieldSelector=metadata.name%3Dcm-100");
  ASSERT_EQ(field.code, 200);
  EXPECT_EQ(field.body.at("items").as_array().size(), 1u);
  Reply unsupported = Do(verb::get, "/api/v1/pods?fieldSelector=spec.nope%3D1");
  EXPECT_EQ(unsupported.code, 400);
}

// The events of a watch response: one JSON object per line.
std::vector<bj::value> Events(const std::string& body) {
  std::vector<bj::value> out;
  size_t start = 0;
  while (start < body.size()) {
    size_t nl = body.find('\n', start);
    if (nl == std::string::npos) nl = body.size();
    if (nl > start) out.push_back(bj::parse(body.substr(start, nl - start)));
    start = nl + 1;
  }
  return out;
}

TEST_F(RestTest, WatchReplaysFromAResourceVersionAndAnswers410WhenCompacted) {
  Reply first = CreateConfigMap("default", "w1", R"({"app":"x"})");
  int64_t from = Rv(first.body);
  ASSERT_EQ(CreateConfigMap("default", "w2").code, 201);
  ASSERT_EQ(Do(verb::patch, "/api/v1/namespaces/default/configmaps/w1",
               R"({"metadata":{"labels":{"app":"y"}}})", "application/merge-patch+json")
                .code,
            200);
  ASSERT_EQ(Do(verb::delete_, "/api/v1/namespaces/default/configmaps/w2").code, 200);
  auto res =
      client_->Do(verb::get, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=" +
                                 std::to_string(from) + "&timeoutSeconds=1");
  ASSERT_EQ(res.result_int(), 200);
  std::vector<bj::value> events = Events(res.body());
  ASSERT_EQ(events.size(), 3u) << res.body();
  EXPECT_EQ(events[0].at("type"), "ADDED");
  EXPECT_EQ(events[1].at("type"), "MODIFIED");
  EXPECT_EQ(events[2].at("type"), "DELETED");
  EXPECT_EQ(events[2].at("object").at("metadata").at("name"), "w2");

  // With a selector, leaving the selection reads as DELETED.
  auto selected = client_->Do(verb::get,
                              "/api/v1/namespaces/default/configmaps?watch=1&labelSelector=app%3Dx"
                              "&resourceVersion=" +
                                  std::to_string(from) + "&timeoutSeconds=1");
  std::vector<bj::value> sel = Events(selected.body());
  ASSERT_EQ(sel.size(), 1u) << selected.body();
  EXPECT_EQ(sel[0].at("type"), "DELETED");

  ASSERT_TRUE(server_->store().Compact(server_->store().CurrentRevision().value()).ok());
  auto gone =
      client_->Do(verb::get, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=" +
                                 std::to_string(from) + "&timeoutSeconds=1");
  std::vector<bj::value> error = Events(gone.body());
  ASSERT_EQ(error.size(), 1u) << gone.body();
  EXPECT_EQ(error[0].at("type"), "ERROR");
  EXPECT_EQ(error[0].at("object").at("code"), 410);
  EXPECT_EQ(error[0].at("object").at("reason"), "Expired");
  Reply list = Do(verb::get, "/api/v1/namespaces/default/configmaps?resourceVersion=" +
                                 std::to_string(from) + "&resourceVersionMatch=Exact");
  EXPECT_EQ(list.code, 410);
}

TEST_F(RestTest, AHundredWatchersEachSeeEveryEventOnceInOrder) {
  constexpr int kWatchers = 100;
  constexpr int kWrites = 30;
  int64_t start = server_->store().CurrentRevision().value();
  std::vector<std::string> bodies(kWatchers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWatchers; ++i) {
    threads.emplace_back([&, i] {
      auto client = NewClient();
      auto res = client->Do(verb::get,
                            "/api/v1/namespaces/default/configmaps?watch=1&"
                            "resourceVersion=" +
                                std::to_string(start) + "&timeoutSeconds=4");
      bodies[i] = res.body();
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (int i = 0; i < kWrites; ++i)
    ASSERT_EQ(CreateConfigMap("default", "many-" + std::to_string(i)).code, 201);
  for (std::thread& t : threads)
    t.join();
  for (int i = 0; i < kWatchers; ++i) {
    std::vector<bj::value> events = Events(bodies[i]);
    ASSERT_EQ(events.size(), static_cast<size_t>(kWrites)) << "watcher " << i;
    int64_t last = 0;
    for (int e = 0; e < kWrites; ++e) {
      EXPECT_EQ(events[e].at("object").at("metadata").at("name").as_string(),
                "many-" + std::to_string(e));
      int64_t rv = Rv(events[e].at("object"));
      EXPECT_GT(rv, last);
      last = rv;
    }
  }
}

TEST_F(RestTest, PodsDeleteGracefullyOnceBoundAndNamespacesTakeTheirObjects) {
  ASSERT_EQ(Do(verb::post, "/api/v1/namespaces", R"({"metadata":{"name":"team"}})").code, 201);
  const char* pod = R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]}})";
  ASSERT_EQ(Do(verb::post, "/api/v1/namespaces/team/pods", pod).code, 201);
  Reply bound = Do(verb::post, "/api/v1/namespaces/team/pods/p/binding",
                   R"({"metadata":{"name":"p"},"target":{"kind":"Node","name":"n1"}})");
  ASSERT_EQ(bound.code, 201) << bj::serialize(bound.body);
  Reply twice = Do(verb::post, "/api/v1/namespaces/team/pods/p/binding",
                   R"({"metadata":{"name":"p"},"target":{"kind":"Node","name":"n2"}})");
  EXPECT_EQ(twice.code, 409);
  Reply listed = Do(verb::get, "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1");
  ASSERT_EQ(listed.body.at("items").as_array().size(), 1u);
  Reply graceful = Do(verb::delete_, "/api/v1/namespaces/team/pods/p");
  ASSERT_EQ(graceful.code, 200) << bj::serialize(graceful.body);
  EXPECT_EQ(graceful.body.at("metadata").at("deletionGracePeriodSeconds"), 30);
  EXPECT_EQ(Do(verb::get, "/api/v1/namespaces/team/pods/p").code, 200);
  Reply now = Do(verb::delete_, "/api/v1/namespaces/team/pods/p?gracePeriodSeconds=0");
  EXPECT_EQ(now.code, 200);
  EXPECT_EQ(Do(verb::get, "/api/v1/namespaces/team/pods/p").code, 404);

  ASSERT_EQ(CreateConfigMap("team", "c1").code, 201);
  Reply svc = Do(verb::post, "/api/v1/namespaces/team/services",
                 R"({"metadata":{"name":"s"},"spec":{"type":"NodePort","ports":[{"port":80}]}})");
  ASSERT_EQ(svc.code, 201) << bj::serialize(svc.body);
  int64_t node_port = svc.body.at("spec").at("ports").at(0).at("nodePort").as_int64();
  EXPECT_GE(node_port, 30000);
  EXPECT_LE(node_port, 32767);
  std::string ip(svc.body.at("spec").at("clusterIP").as_string());
  EXPECT_TRUE(ip.starts_with("10.")) << ip;
  Reply taken = Do(
      verb::post, "/api/v1/namespaces/default/services",
      R"({"metadata":{"name":"s2"},"spec":{"clusterIP":")" + ip + R"(","ports":[{"port":80}]}})");
  EXPECT_EQ(taken.code, 422) << bj::serialize(taken.body);
  // The namespace stays Terminating until the namespace controller has
  // emptied it, then goes.
  std::unique_ptr<controllers::ControllerManager> controllers;
  StartTestControllers(*server_, controllers);
  ASSERT_NE(controllers, nullptr);
  Reply deleting = Do(verb::delete_, "/api/v1/namespaces/team");
  EXPECT_EQ(deleting.code, 200);
  EXPECT_EQ(deleting.body.at("status").at("phase"), "Terminating");
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = Do(verb::get, "/api/v1/namespaces/team").code == 404;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "the namespace was not finalized";
  EXPECT_EQ(Do(verb::get, "/api/v1/namespaces/team/configmaps/c1").code, 404);
  // The namespace's service gave its address back.
  Reply reuse = Do(
      verb::post, "/api/v1/namespaces/default/services",
      R"({"metadata":{"name":"s2"},"spec":{"clusterIP":")" + ip + R"(","ports":[{"port":80}]}})");
  EXPECT_EQ(reuse.code, 201) << bj::serialize(reuse.body);
}

// Upstream's namespace registry: a delete only marks the namespace
// Terminating; /finalize changes nothing but spec.finalizers, and when it
// empties them the namespace goes.
TEST_F(RestTest, ADeletedNamespaceWaitsForItsFinalizers) {
  ASSERT_EQ(Do(verb::post, "/api/v1/namespaces", R"({"metadata":{"name":"team"}})").code, 201);
  ASSERT_EQ(CreateConfigMap("team", "c1").code, 201);
  EXPECT_EQ(Do(verb::get, "/api/v1/namespaces/team/serviceaccounts/default").code, 404)
      << "default ServiceAccounts are the service account controller's";
  Reply deleting = Do(verb::delete_, "/api/v1/namespaces/team");
  ASSERT_EQ(deleting.code, 200) << bj::serialize(deleting.body);
  EXPECT_EQ(deleting.body.at("status").at("phase"), "Terminating");
  EXPECT_TRUE(deleting.body.at("metadata").as_object().contains("deletionTimestamp"));
  Reply held = Do(verb::get, "/api/v1/namespaces/team");
  ASSERT_EQ(held.code, 200);
  EXPECT_EQ(held.body.at("spec").at("finalizers"), bj::array{"kubernetes"});
  EXPECT_EQ(Do(verb::get, "/api/v1/namespaces/team/configmaps/c1").code, 200);
  Reply refused = CreateConfigMap("team", "c2");
  EXPECT_EQ(refused.code, 403);
  EXPECT_EQ(refused.body.at("details").at("causes").at(0).at("reason"), "NamespaceTerminating");
  Reply again = Do(verb::delete_, "/api/v1/namespaces/team");
  EXPECT_EQ(again.code, 409);
  EXPECT_NE(bj::serialize(again.body).find("The system is ensuring all content is removed"),
            std::string::npos)
      << bj::serialize(again.body);

  // Neither an update nor a status update drops spec.finalizers.
  bj::value ns = held.body;
  ns.at("spec").at("finalizers") = bj::array();
  ns.at("metadata").at("labels").as_object()["x"] = "y";
  ASSERT_EQ(Do(verb::put, "/api/v1/namespaces/team", bj::serialize(ns)).code, 200);
  ns = Do(verb::get, "/api/v1/namespaces/team").body;
  EXPECT_EQ(ns.at("spec").at("finalizers"), bj::array{"kubernetes"});
  ns.at("status").as_object()["conditions"] =
      bj::array{bj::object{{"type", "NamespaceContentRemaining"},
                           {"status", "True"},
                           {"reason", "SomeResourcesRemain"}}};
  ASSERT_EQ(Do(verb::put, "/api/v1/namespaces/team/status", bj::serialize(ns)).code, 200);
  ns = Do(verb::get, "/api/v1/namespaces/team").body;
  EXPECT_EQ(ns.at("status").at("conditions").at(0).at("reason"), "SomeResourcesRemain");

  // /finalize: only spec.finalizers change, and emptied, the namespace goes.
  ns.at("spec").at("finalizers") = bj::array{"kubernetes", "example.com/other"};
  ns.at("metadata").at("labels").as_object()["x"] = "changed";
  Reply kept = Do(verb::put, "/api/v1/namespaces/team/finalize", bj::serialize(ns));
  ASSERT_EQ(kept.code, 200) << bj::serialize(kept.body);
  EXPECT_EQ(kept.body.at("spec").at("finalizers"), (bj::array{"kubernetes", "example.com/other"}));
  EXPECT_EQ(kept.body.at("metadata").at("labels").at("x"), "y");
  Reply stale = Do(verb::put, "/api/v1/namespaces/team/finalize", bj::serialize(ns));
  EXPECT_EQ(stale.code, 409) << "a stale resourceVersion was accepted";
  bj::value last = kept.body;
  last.at("spec").at("finalizers") = bj::array();
  Reply finalized = Do(verb::put, "/api/v1/namespaces/team/finalize", bj::serialize(last));
  EXPECT_EQ(finalized.code, 200) << bj::serialize(finalized.body);
  EXPECT_EQ(Do(verb::get, "/api/v1/namespaces/team").code, 404);

  // With no spec.finalizers at all, a delete takes a namespace at once.
  ASSERT_EQ(Do(verb::post, "/api/v1/namespaces",
               R"({"metadata":{"name":"bare"},"spec":{"finalizers":[]}})")
                .code,
            201);
  EXPECT_EQ(Do(verb::delete_, "/api/v1/namespaces/bare").code, 200);
  EXPECT_EQ(Do(verb::get, "/api/v1/namespaces/bare").code, 404);
}

TEST_F(RestTest, TheCompactorKeepsOneIntervalOfHistory) {
  Compactor compactor(server_->store(), std::chrono::seconds(0));  // ticked by hand
  Reply first = CreateConfigMap("default", "old");
  EXPECT_EQ(compactor.Tick(), 0);  // remembers where the interval starts
  ASSERT_EQ(CreateConfigMap("default", "new").code, 201);
  int64_t compacted = compactor.Tick();
  EXPECT_EQ(compacted, Rv(first.body));  // what the first tick saw
  // Inside the kept interval a watch resumes; before it, 410.
  auto kept =
      client_->Do(verb::get, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=" +
                                 std::to_string(compacted) + "&timeoutSeconds=1");
  EXPECT_NE(kept.body().find("\"new\""), std::string::npos) << kept.body();
  auto gone =
      client_->Do(verb::get, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=" +
                                 std::to_string(Rv(first.body) - 2) + "&timeoutSeconds=1");
  EXPECT_NE(gone.body().find("\"code\":410"), std::string::npos) << gone.body();
}

TEST_F(RestTest, EventsOfBothApisShareOneStore) {
  Reply v1 = Do(verb::post, "/apis/events.k8s.io/v1/namespaces/default/events",
                R"({"metadata":{"name":"e1"},"regarding":{"kind":"Pod","name":"p"},
                    "note":"pulled","reason":"Pulled","type":"Normal","action":"Pull",
                    "reportingController":"kubelet","reportingInstance":"n1",
                    "eventTime":"2026-11-22T10:00:00.000000Z"})");
  ASSERT_EQ(v1.code, 201) << bj::serialize(v1.body);
  EXPECT_EQ(v1.body.at("note"), "pulled");
  Reply core = Do(verb::get, "/api/v1/namespaces/default/events/e1");
  ASSERT_EQ(core.code, 200);
  EXPECT_EQ(core.body.at("apiVersion"), "v1");
  EXPECT_EQ(core.body.at("message"), "pulled");
  EXPECT_EQ(core.body.at("involvedObject").at("name"), "p");
  EXPECT_EQ(core.body.at("reportingComponent"), "kubelet");
  Reply selected = Do(verb::get,
                      "/api/v1/namespaces/default/events?fieldSelector="
                      "involvedObject.name%3Dp,reason%3DPulled");
  EXPECT_EQ(selected.body.at("items").as_array().size(), 1u);
  Reply by_regarding = Do(verb::get,
                          "/apis/events.k8s.io/v1/events?fieldSelector="
                          "regarding.name%3Dp");
  ASSERT_EQ(by_regarding.code, 200) << bj::serialize(by_regarding.body);
  ASSERT_EQ(by_regarding.body.at("items").as_array().size(), 1u);
  EXPECT_EQ(by_regarding.body.at("items").at(0).at("regarding").at("kind"), "Pod");
}

TEST_F(RestTest, DiscoveryListsGroupsAndResources) {
  Reply api = Do(verb::get, "/api");
  EXPECT_EQ(api.body.at("versions").at(0), "v1");
  Reply groups = Do(verb::get, "/apis");
  bool apps = false;
  for (const bj::value& g : groups.body.at("groups").as_array())
    apps = apps || g.at("name") == "apps";
  EXPECT_TRUE(apps);
  Reply core = Do(verb::get, "/api/v1");
  bool pods_status = false;
  for (const bj::value& r : core.body.at("resources").as_array()) {
    if (r.at("name") == "pods") {
      EXPECT_EQ(r.at("shortNames").at(0), "po");
      EXPECT_EQ(r.at("categories").at(0), "all");
    }
    pods_status = pods_status || r.at("name") == "pods/status";
  }
  EXPECT_TRUE(pods_status);
  EXPECT_EQ(Do(verb::get, "/apis/nope/v1").code, 404);
}

TEST_F(RestTest, DefaultTolerationSecondsAdmissionAddsNodeFailureTolerationsToNewPods) {
  Reply made = Do(verb::post, "/api/v1/namespaces/default/pods", R"({"metadata":{"name":"tol"},
      "spec":{"containers":[{"name":"c","image":"busybox"}],
              "tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists",
                              "effect":"NoExecute","tolerationSeconds":5}]}})");
  ASSERT_EQ(made.code, 201) << bj::serialize(made.body);
  // The pod's own toleration of unreachable stays; not-ready gets 300 s.
  EXPECT_EQ(made.body.at("spec").at("tolerations"), bj::parse(R"([
      {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute",
       "tolerationSeconds":5},
      {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute",
       "tolerationSeconds":300}])"));
  // The seconds are the server's --default-*-toleration-seconds.
  berth::testing::TempDir dir{"berth-toleration-test"};
  ApiServerOptions options = TestServerOptions(dir.path());
  options.default_not_ready_toleration_seconds = 60;
  options.default_unreachable_toleration_seconds = 30;
  std::unique_ptr<ApiServer> other;
  StartTestServer(options, other);
  ASSERT_NE(other, nullptr);
  AdminAccess access = ReadAdminAccess(dir.path());
  http::TlsClient client(other->port(), access.ca_pem, &access.admin);
  auto res = client.Do(verb::post, "/api/v1/namespaces/default/pods",
                       R"({"metadata":{"name":"p"},
                           "spec":{"containers":[{"name":"c","image":"busybox"}]}})",
                       "application/json");
  ASSERT_EQ(res.result_int(), 201) << res.body();
  EXPECT_EQ(bj::parse(res.body()).at("spec").at("tolerations"), bj::parse(R"([
      {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute",
       "tolerationSeconds":60},
      {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute",
       "tolerationSeconds":30}])"));
  other->Stop();
}

}  // namespace
}  // namespace berth::controlplane
