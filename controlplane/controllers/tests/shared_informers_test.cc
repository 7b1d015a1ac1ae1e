// Shared informers against a berth server in this process: one informer
// per collection whatever the number of handlers, every handler told of
// every event, and a handler registered late told of what is cached.

#include "controlplane/controllers/shared_informers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "controlplane/server/tests/test_server.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

class SharedInformersTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    config_ = AdminConfig();
    api_ = std::make_unique<client::ApiClient>(config_);
  }

  void Create(const std::string& name) {
    Result<client::ApiResponse> r = api_->Do("POST", "/api/v1/namespaces/default/configmaps",
                                             R"({"metadata":{"name":")" + name + R"("}})");
    ASSERT_TRUE(r.ok()) << r.error().str();
    ASSERT_EQ(r->status, 201) << r->body;
  }

  template <class Pred>
  static bool Eventually(Pred pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
  }

  // Handlers that note "<what> <name>" in `log`.
  client::InformerHandlers Recorder(std::vector<std::string>& log) {
    auto note = [this, &log](const std::string& what, const bj::object& obj) {
      std::lock_guard lock(mu_);
      log.push_back(what + " " + client::ObjectKey(obj));
    };
    return {.added = [note](const bj::object& o) { note("added", o); },
            .updated = [note](const bj::object&, const bj::object& o) { note("updated", o); },
            .deleted = [note](const bj::object& o) { note("deleted", o); }};
  }
  bool Has(const std::vector<std::string>& log, const std::string& entry) {
    std::lock_guard lock(mu_);
    return std::find(log.begin(), log.end(), entry) != log.end();
  }

  client::ClientConfig config_;
  std::unique_ptr<client::ApiClient> api_;
  std::mutex mu_;
};

TEST_F(SharedInformersTest, OneInformerPerCollectionTellsEveryHandler) {
  const std::string configmaps = "/api/v1/namespaces/default/configmaps";
  Create("before");
  std::vector<std::string> first_log, second_log, late_log;
  SharedInformers informers(config_, std::chrono::seconds(5));
  const client::Informer& first = informers.Register(configmaps, Recorder(first_log));
  const client::Informer& second = informers.Register(configmaps, Recorder(second_log));
  const client::Informer& other = informers.Register("/api/v1/namespaces", {});
  EXPECT_EQ(&first, &second);
  EXPECT_NE(&first, &other);
  EXPECT_FALSE(informers.Synced());
  informers.Start();
  ASSERT_TRUE(Eventually([&] { return informers.Synced(); }));
  Create("after");
  ASSERT_EQ(api_->Do("DELETE", configmaps + "/before")->status, 200);
  for (const std::vector<std::string>* log : {&first_log, &second_log}) {
    EXPECT_TRUE(Eventually([&] { return Has(*log, "deleted default/before"); }));
    EXPECT_TRUE(Has(*log, "added default/before"));
    EXPECT_TRUE(Has(*log, "added default/after"));
  }
  EXPECT_EQ(first.lists(), 1);

  // Registered after the start: told of the cache, then of new events.
  const client::Informer& late = informers.Register(configmaps, Recorder(late_log));
  EXPECT_EQ(&late, &first);
  EXPECT_TRUE(Has(late_log, "added default/after"));
  EXPECT_FALSE(Has(late_log, "added default/before"));
  Create("later");
  EXPECT_TRUE(Eventually([&] { return Has(late_log, "added default/later"); }));
  EXPECT_TRUE(Eventually([&] { return Has(first_log, "added default/later"); }));

  // A collection first registered after the start is listed and watched too.
  std::vector<std::string> pods_log;
  const client::Informer& pods =
      informers.Register("/api/v1/namespaces/default/pods", Recorder(pods_log));
  EXPECT_TRUE(Eventually([&] { return pods.Synced(); }));
  informers.Stop();
}

}  // namespace
}  // namespace berth::controlplane::controllers
