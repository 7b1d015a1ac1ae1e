// The API client and the informer against a berth server in this process:
// list, watch, handlers in order, resume after a watch ends, and a relist
// when the revision to resume from was compacted away.

#include "controlplane/client/informer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "controlplane/server/tests/test_server.h"

namespace berth::controlplane::client {
namespace {

namespace bj = boost::json;

class InformerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    ClientConfig config = AdminConfig();
    client_ = std::make_unique<ApiClient>(config);
  }

  void Create(const std::string& name, const std::string& labels = "{}") {
    Result<ApiResponse> r =
        client_->Do("POST", "/api/v1/namespaces/default/configmaps",
                    R"({"metadata":{"name":")" + name + R"(","labels":)" + labels + "}}");
    ASSERT_TRUE(r.ok()) << r.error().str();
    ASSERT_EQ(r->status, 201) << r->body;
  }

  template <class Pred>
  static bool Eventually(Pred pred) {
    for (int i = 0; i < 200; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::unique_ptr<ApiClient> client_;
};

TEST_F(InformerTest, ListsWatchesAndCallsHandlersInOrder) {
  Create("before");
  std::mutex mu;
  std::vector<std::string> calls;
  InformerHandlers h;
  h.added = [&](const bj::object& o) {
    std::lock_guard lock(mu);
    calls.push_back("added " + ObjectKey(o));
  };
  h.updated = [&](const bj::object&, const bj::object& o) {
    std::lock_guard lock(mu);
    calls.push_back("updated " + ObjectKey(o));
  };
  h.deleted = [&](const bj::object& o) {
    std::lock_guard lock(mu);
    calls.push_back("deleted " + ObjectKey(o));
  };
  Informer informer(*client_, "/api/v1/namespaces/default/configmaps", h, std::chrono::seconds(1));
  informer.Start();
  ASSERT_TRUE(Eventually([&] { return informer.Synced(); }));
  Create("after");
  ASSERT_EQ(client_
                ->Do("PATCH", "/api/v1/namespaces/default/configmaps/after",
                     R"({"data":{"k":"v"}})", "application/merge-patch+json")
                ->status,
            200);
  ASSERT_EQ(client_->Do("DELETE", "/api/v1/namespaces/default/configmaps/before")->status, 200);
  // Past one watch timeout too: the resumed watch neither repeats nor loses.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Create("late");
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mu);
    return calls.size() >= 5;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::lock_guard lock(mu);
  EXPECT_EQ(calls, (std::vector<std::string>{"added default/before", "added default/after",
                                             "updated default/after", "deleted default/before",
                                             "added default/late"}));
  auto snapshot = informer.Snapshot();
  EXPECT_EQ(snapshot.size(), 2u);
  EXPECT_TRUE(snapshot.contains("default/after"));
  std::optional<bj::object> after = informer.Get("default/after");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->at("data").at("k"), "v");
  EXPECT_FALSE(informer.Get("default/before").has_value());
  EXPECT_EQ(informer.lists(), 1);
}

TEST_F(InformerTest, RelistsWhenItsRevisionWasCompacted) {
  Create("x1", R"({"app":"x"})");
  std::atomic<int> deleted{0};
  InformerHandlers h;
  h.deleted = [&](const bj::object&) { ++deleted; };
  // The selector keeps the informer's revision behind the store's: the
  // other objects' events move the store on, not the informer.
  Informer informer(*client_, "/api/v1/namespaces/default/configmaps?labelSelector=app%3Dx", h,
                    std::chrono::seconds(1));
  informer.Start();
  ASSERT_TRUE(Eventually([&] { return informer.Synced(); }));
  for (int i = 0; i < 5; ++i)
    Create("other-" + std::to_string(i));
  ASSERT_TRUE(server_->store().Compact(server_->store().CurrentRevision().value()).ok());
  ASSERT_TRUE(Eventually([&] { return informer.lists() >= 2; }))
      << "the informer never relisted after its revision was compacted";
  EXPECT_EQ(informer.Snapshot().size(), 1u);
  EXPECT_EQ(deleted, 0);
}

TEST(ApiClientTest, AnUnreachableServerIsUnavailable) {
  ClientConfig config;
  config.port = berth::testing::UnusedPort();
  ApiClient client(config);
  Result<ApiResponse> r = client.Do("GET", "/version");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kUnavailable);
  EXPECT_NE(r.error().str().find("127.0.0.1"), std::string::npos);
}

}  // namespace
}  // namespace berth::controlplane::client
