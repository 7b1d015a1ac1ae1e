// ApiSources against a berth server in this process, with a node's own
// credential (so the node authorizer applies): the Service informer behind
// the link variables (what a pod sees, headless Services left out, changes
// followed by the watch) and that reading them makes no API call.

#include "agent/kubelet/api_sources.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "controlplane/client/api_util.h"
#include "controlplane/server/tests/node_client.h"
#include "controlplane/server/tests/test_server.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using controlplane::client::ApiClient;
using controlplane::client::StringAt;
using namespace std::chrono_literals;

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::vector<std::string> Names(const std::vector<bj::object>& services) {
  std::vector<std::string> out;
  out.reserve(services.size());
  for (const bj::object& s : services)
    out.push_back(StringAt(s, {"metadata", "namespace"}) + "/" + StringAt(s, {"metadata", "name"}));
  std::sort(out.begin(), out.end());
  return out;
}

class ApiSourcesTest : public controlplane::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    admin_api_ = std::make_unique<ApiClient>(AdminConfig());
    node_api_ = std::make_unique<ApiClient>(
        controlplane::NodeClientConfig(AdminConfig(), server_->pki().ca, "n1"));
    for (const char* ns : {"app", "other"}) {
      bj::object body{
          {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", bj::object{{"name", ns}}}};
      auto r = admin_api_->Do("POST", "/api/v1/namespaces", bj::serialize(body));
      ASSERT_TRUE(r.ok()) << r.error().str();
      ASSERT_EQ(r->status, 201) << r->body;
    }
  }

  void CreateService(const std::string& ns, const std::string& name, bool headless = false) {
    bj::object spec{{"ports", bj::array{bj::object{{"port", 80}}}}};
    if (headless) spec["clusterIP"] = "None";
    bj::object body{{"apiVersion", "v1"},
                    {"kind", "Service"},
                    {"metadata", bj::object{{"name", name}, {"namespace", ns}}},
                    {"spec", spec}};
    auto r = admin_api_->Do("POST", "/api/v1/namespaces/" + ns + "/services", bj::serialize(body));
    ASSERT_TRUE(r.ok()) << r.error().str();
    ASSERT_EQ(r->status, 201) << r->body;
  }

  void DeleteService(const std::string& ns, const std::string& name) {
    auto r = admin_api_->Do("DELETE", "/api/v1/namespaces/" + ns + "/services/" + name);
    ASSERT_TRUE(r.ok()) << r.error().str();
    ASSERT_EQ(r->status, 200) << r->body;
  }

  std::unique_ptr<ApiClient> admin_api_, node_api_;
};

TEST_F(ApiSourcesTest, ServicesComeFromTheInformerWithoutApiCalls) {
  CreateService("app", "web");
  CreateService("app", "db");
  CreateService("app", "peers", /*headless=*/true);
  CreateService("other", "cache");

  ApiSources sources(*node_api_);
  EXPECT_FALSE(sources.ServicesSynced());
  EXPECT_TRUE(sources.ServicesFor("app").empty());
  sources.StartServices();
  ASSERT_TRUE(Eventually([&] { return sources.ServicesSynced(); }));

  // Its own namespace's Services with a cluster IP, and default/kubernetes.
  std::vector<std::string> want = {"app/db", "app/web", "default/kubernetes"};
  EXPECT_EQ(Names(sources.ServicesFor("app")), want);
  EXPECT_EQ(Names(sources.ServicesFor("other")),
            (std::vector<std::string>{"default/kubernetes", "other/cache"}));
  EXPECT_EQ(Names(sources.ServicesFor("default")),
            (std::vector<std::string>{"default/kubernetes"}));

  // The watch follows changes.
  CreateService("app", "api");
  DeleteService("app", "db");
  std::vector<std::string> changed = {"app/api", "app/web", "default/kubernetes"};
  EXPECT_TRUE(Eventually([&] { return Names(sources.ServicesFor("app")) == changed; }))
      << ::testing::PrintToString(Names(sources.ServicesFor("app")));

  // With the server gone the answers stay: nothing was asked of it.
  server_.reset();
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(Names(sources.ServicesFor("app")), changed);
  EXPECT_TRUE(sources.ServicesSynced());
  sources.StopServices();
}

}  // namespace
}  // namespace berth::agent
