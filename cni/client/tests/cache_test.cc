#include "cni/client/cache.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::cni {
namespace {

TEST(Base64, MatchesGoStdEncoding) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  for (std::string s : {"", "f", "fo", "foo", "foob", "{\"a\":\"\xff\x00\"}"}) {
    auto d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, s);
  }
  EXPECT_FALSE(Base64Decode("Zg=").ok());
  EXPECT_FALSE(Base64Decode("Z=g=").ok());
  EXPECT_FALSE(Base64Decode("Zm9*").ok());
}

CacheEntry Sample(const std::string& net, const std::string& id) {
  CacheEntry e;
  e.network_name = net;
  e.container_id = id;
  e.ifname = "eth0";
  e.netns = "/var/run/netns/x";
  e.config = R"({"cniVersion":"1.0.0","name":")" + net + R"(","plugins":[{"type":"bridge"}]})";
  e.cni_args = {{"IgnoreUnknown", "1"}, {"K8S_POD_NAME", "web"}};
  e.capability_args = boost::json::object{{"portMappings", boost::json::array{}}};
  e.result = boost::json::object{{"cniVersion", "1.0.0"}};
  return e;
}

TEST(Cache, LibcniFormatRoundTrip) {
  CacheEntry e = Sample("pods", "abc");
  std::string text = EncodeCacheEntry(e);
  boost::json::value doc = boost::json::parse(text);
  EXPECT_EQ(doc.at("kind").as_string(), "cniCacheV1");
  EXPECT_EQ(doc.at("config").as_string(), Base64Encode(e.config));
  EXPECT_EQ(boost::json::serialize(doc.at("cniArgs")),
            R"([["IgnoreUnknown","1"],["K8S_POD_NAME","web"]])");
  auto back = DecodeCacheEntry(text, "f");
  ASSERT_TRUE(back.ok()) << back.error().str();
  EXPECT_EQ(back->config, e.config);
  EXPECT_EQ(back->cni_args, e.cni_args);
  EXPECT_EQ(back->netns, e.netns);
  EXPECT_EQ(back->capability_args, e.capability_args);
  EXPECT_EQ(back->result, e.result);
  EXPECT_FALSE(DecodeCacheEntry(R"({"kind":"other"})", "f").ok());
}

TEST(Cache, PutGetFindRemove) {
  berth::testing::TempDir tmp;
  ResultCache cache(tmp / "results");
  auto none = cache.Get("pods", "abc", "eth0");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto found = cache.Find("abc", "eth0");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty());

  ASSERT_TRUE(cache.Put(Sample("pods", "abc")).ok());
  ASSERT_TRUE(cache.Put(Sample("my-net", "abc")).ok());
  ASSERT_TRUE(cache.Put(Sample("pods", "x-abc")).ok());  // another container
  EXPECT_TRUE(PathExists(tmp / "results/pods-abc-eth0"));
  auto got = cache.Get("pods", "abc", "eth0");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->network_name, "pods");

  ASSERT_TRUE(WriteFile(tmp / "results/broken-abc-eth0", "{").ok());
  found = cache.Find("abc", "eth0");
  ASSERT_TRUE(found.ok()) << found.error().str();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].network_name, "my-net");
  EXPECT_EQ((*found)[1].network_name, "pods");

  ASSERT_TRUE(cache.Remove("pods", "abc", "eth0").ok());
  ASSERT_TRUE(cache.Remove("pods", "abc", "eth0").ok());
  EXPECT_FALSE(PathExists(tmp / "results/pods-abc-eth0"));
  EXPECT_TRUE(PathExists(tmp / "results/pods-x-abc-eth0"));
}

}  // namespace
}  // namespace berth::cni
