// kill -9 of `berth server` in the middle of 1,000 concurrent creates:
// after a restart every acknowledged create is there and resourceVersions
// keep increasing (issue 5, acceptance 2).

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "common/testing/testkit.h"
#include "controlplane/server/tests/server_process.h"
#include "controlplane/server/tests/tls_client.h"

namespace berth::controlplane {
namespace {

namespace bj = boost::json;
using http::bhttp::verb;

TEST(ServerCrashTest, AcknowledgedCreatesSurviveKill9) {
  berth::testing::TempDir dir("berth-crash");
  uint16_t port = berth::testing::UnusedPort();
  auto server = testing::ServerProcess::Start(dir.path(), port);
  ASSERT_TRUE(server.ok()) << server.error().str();

  constexpr int kClients = 16;
  constexpr int kPerClient = 1000 / kClients + 1;
  constexpr int kKillAfter = 400;  // acknowledged creates before the kill
  std::atomic<int> acked{0};
  std::mutex mu;
  std::set<std::string> acknowledged;
  int64_t max_rv = 0;
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      try {
        http::TlsClient client(port, (*server)->ca_pem(), &(*server)->admin());
        for (int i = 0; i < kPerClient; ++i) {
          std::string name = "c-" + std::to_string(t) + "-" + std::to_string(i);
          auto res = client.Do(verb::post, "/api/v1/namespaces/default/configmaps",
                               R"({"metadata":{"name":")" + name + R"("},"data":{"k":"v"}})");
          if (res.result_int() != 201) return;
          int64_t rv = std::stoll(
              std::string(bj::parse(res.body()).at("metadata").at("resourceVersion").as_string()));
          std::lock_guard lock(mu);
          acknowledged.insert(name);
          max_rv = std::max(max_rv, rv);
          ++acked;
        }
      } catch (const std::exception&) {
        // The connection died with the server: what was acknowledged counts.
      }
    });
  }
  while (acked < kKillAfter)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  (*server)->Kill();
  for (std::thread& c : clients)
    c.join();
  ASSERT_GE(acknowledged.size(), static_cast<size_t>(kKillAfter));
  ASSERT_LT(acknowledged.size(), static_cast<size_t>(kClients * kPerClient))
      << "the kill came after every create; nothing was tested";

  auto again = testing::ServerProcess::Start(dir.path(), port);
  ASSERT_TRUE(again.ok()) << again.error().str();
  http::TlsClient client(port, (*again)->ca_pem(), &(*again)->admin());
  auto list = client.Do(verb::get, "/api/v1/namespaces/default/configmaps");
  ASSERT_EQ(list.result_int(), 200) << list.body();
  std::set<std::string> present;
  bj::value listed = bj::parse(list.body());
  for (const bj::value& item : listed.at("items").as_array())
    present.emplace(item.at("metadata").at("name").as_string());
  for (const std::string& name : acknowledged)
    EXPECT_TRUE(present.contains(name)) << name << " was acknowledged but is gone";
  auto after = client.Do(verb::post, "/api/v1/namespaces/default/configmaps",
                         R"({"metadata":{"name":"after-restart"}})");
  ASSERT_EQ(after.result_int(), 201) << after.body();
  int64_t rv = std::stoll(
      std::string(bj::parse(after.body()).at("metadata").at("resourceVersion").as_string()));
  EXPECT_GT(rv, max_rv);
}

}  // namespace
}  // namespace berth::controlplane
