// Acceptance 1: the README's demo (examples/demo.yaml) on a fresh
// `berth up`: every pod Ready and answering HTTP within 60 s.

#include "common/file.h"
#include "integration/e2e/e2e_fixture.h"
#include "integration/e2e/http_get.h"

namespace berth::e2e {
namespace {

class DemoTest : public E2eTest {};

TEST_F(DemoTest, DeploymentServesHttpWithin60Seconds) {
  Result<std::string> demo = ReadFile(testing::SourceDir() + "/examples/demo.yaml");
  ASSERT_TRUE(demo.ok()) << demo.error().str();
  ASSERT_TRUE(Apply(*demo));
  auto deadline = up().started_at() + std::chrono::seconds(60);
  std::vector<std::string> ips;
  bool all_ready = Eventually(std::chrono::seconds(60), [&] {
    bj::value pods = Get("/api/v1/namespaces/" + ns() + "/pods?labelSelector=app%3Ddemo");
    const bj::value* items = Field(pods, "/items");
    if (items == nullptr || items->as_array().size() != 2) return false;
    ips.clear();
    for (const bj::value& pod : items->as_array()) {
      if (!IsReady(pod) || StringAt(pod, "/status/podIP").empty()) return false;
      ips.push_back(StringAt(pod, "/status/podIP"));
    }
    return true;
  });
  ASSERT_TRUE(all_ready) << Kubectl({"get", "pods", "-o", "wide"}).out
                         << Kubectl({"describe", "pods"}).out;
  for (const std::string& ip : ips) {
    Result<HttpAnswer> answer = HttpGet(ip, 8080, "/");
    ASSERT_TRUE(answer.ok()) << answer.error().str();
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->body, "hello from berth\n");
  }
  EXPECT_LT(std::chrono::steady_clock::now(), deadline)
      << "the demo answered, but more than 60 s after berth up started";
  // The Service selects both pods: its EndpointSlice lists them ready.
  EXPECT_TRUE(Eventually(std::chrono::seconds(10), [&] {
    bj::value slices = Get("/apis/discovery.k8s.io/v1/namespaces/" + ns() +
                           "/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Ddemo");
    const bj::value* items = Field(slices, "/items");
    if (items == nullptr || items->as_array().empty()) return false;
    size_t ready = 0;
    for (const bj::value& slice : items->as_array()) {
      const bj::value* endpoints = Field(slice, "/endpoints");
      if (endpoints == nullptr || !endpoints->is_array()) continue;
      for (const bj::value& e : endpoints->as_array()) {
        if (Field(e, "/conditions/ready") != nullptr && e.at_pointer("/conditions/ready") == true)
          ++ready;
      }
    }
    return ready == ips.size();
  })) << Kubectl({"get", "endpointslices", "-o", "yaml"}).out;
}

}  // namespace
}  // namespace berth::e2e
