// Service account token caching and rotation.

#include "volumes/token_cache.h"

#include <gtest/gtest.h>

namespace berth::volumes {
namespace {

using Clock = std::chrono::system_clock;
using std::chrono::seconds;

class TokenCacheTest : public ::testing::Test {
 protected:
  TokenCacheTest() {
    request_ = [this](const std::string&, const std::string&, const std::string&, int64_t lifetime,
                      const std::string&,
                      const std::string&) -> Result<std::pair<std::string, Clock::time_point>> {
      ++requests_;
      if (fail_) return Error(Errc::kUnavailable, "apiserver down");
      return std::pair{"token-" + std::to_string(requests_), now_ + seconds(lifetime)};
    };
  }
  Clock::time_point now_ = Clock::time_point(seconds(1'000'000));
  TokenCache cache_{[this] { return now_; }};
  decltype(Sources::token) request_;
  int requests_ = 0;
  bool fail_ = false;
  TokenKey key_{"ns", "sa", "aud", 3600, "pod", "uid-1"};
};

TEST_F(TokenCacheTest, RefreshesPastEightyPercentOfTheLifetime) {
  EXPECT_EQ(*cache_.Get(key_, request_), "token-1");
  now_ += seconds(2879);  // 80% of 3600 is 2880
  EXPECT_EQ(*cache_.Get(key_, request_), "token-1");
  now_ += seconds(1);
  EXPECT_EQ(*cache_.Get(key_, request_), "token-2");
  EXPECT_EQ(requests_, 2);
}

TEST_F(TokenCacheTest, RefreshesADayAfterIssueWhateverTheExpiration) {
  key_.expiration_seconds = int64_t{7} * 24 * 3600;
  EXPECT_EQ(*cache_.Get(key_, request_), "token-1");
  now_ += std::chrono::hours(24);
  EXPECT_EQ(*cache_.Get(key_, request_), "token-2");
}

TEST_F(TokenCacheTest, KeysAreSeparate) {
  EXPECT_EQ(*cache_.Get(key_, request_), "token-1");
  TokenKey other = key_;
  other.audience = "other";
  EXPECT_EQ(*cache_.Get(other, request_), "token-2");
  EXPECT_EQ(*cache_.Get(key_, request_), "token-1");
}

TEST_F(TokenCacheTest, AFailedRefreshKeepsTheOldTokenUntilItExpires) {
  EXPECT_EQ(*cache_.Get(key_, request_), "token-1");
  fail_ = true;
  now_ += seconds(3000);
  EXPECT_EQ(*cache_.Get(key_, request_), "token-1");
  now_ += seconds(600);
  Result<std::string> expired = cache_.Get(key_, request_);
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.error().str().find("expired and refresh failed"), std::string::npos);

  TokenKey fresh = key_;
  fresh.pod_uid = "uid-2";
  Result<std::string> never = cache_.Get(fresh, request_);
  ASSERT_FALSE(never.ok());
  EXPECT_EQ(never.error().str(), "failed to fetch token: apiserver down");
}

TEST_F(TokenCacheTest, ForgetPodDropsItsTokens) {
  EXPECT_EQ(*cache_.Get(key_, request_), "token-1");
  cache_.ForgetPod("uid-1");
  EXPECT_EQ(*cache_.Get(key_, request_), "token-2");
}

}  // namespace
}  // namespace berth::volumes
