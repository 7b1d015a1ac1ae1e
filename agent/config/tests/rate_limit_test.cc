// The client-side rate limit kubelet configures with kubeAPIQPS and
// kubeAPIBurst: a token bucket in front of every request.

#include <gtest/gtest.h>

#include <chrono>

#include "controlplane/client/api_client.h"
#include "controlplane/server/tests/test_server.h"

namespace berth::agent {
namespace {

using controlplane::client::ApiClient;
using controlplane::client::TokenBucket;
using Clock = std::chrono::steady_clock;

TEST(TokenBucketTest, BurstThenQps) {
  TokenBucket bucket(10, 3);
  EXPECT_EQ(bucket.Delay().count(), 0);
  for (int i = 0; i < 3; ++i)
    bucket.Wait();
  auto delay = bucket.Delay();
  EXPECT_GT(delay, std::chrono::milliseconds(50)) << "the burst is spent";
  EXPECT_LE(delay, std::chrono::milliseconds(100)) << "one token every 100 ms at 10 qps";
  auto start = Clock::now();
  for (int i = 0; i < 3; ++i)
    bucket.Wait();
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(250));
}

class RateLimitedClientTest : public controlplane::ServerTest {};

TEST_F(RateLimitedClientTest, RequestsBeyondTheBurstWait) {
  auto config = AdminConfig();
  config.qps = 20;
  config.burst = 2;
  ApiClient limited(config);
  auto start = Clock::now();
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(limited.Do("GET", "/version")->status, 200);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(190)) << "4 requests at 20 qps";

  ApiClient unlimited(AdminConfig());  // qps 0: off, as before
  start = Clock::now();
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(unlimited.Do("GET", "/version")->status, 200);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(190));
}

}  // namespace
}  // namespace berth::agent
