#include "runtime/image/registry/url.h"

#include <gtest/gtest.h>

namespace berth::image::registry {
namespace {

TEST(UrlTest, Parses) {
  Url u =
      *Url::Parse("https://registry-1.docker.io/v2/library/busybox/manifests/latest?ns=docker.io");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "registry-1.docker.io");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.path, "/v2/library/busybox/manifests/latest");
  EXPECT_EQ(u.query, "ns=docker.io");
  EXPECT_EQ(u.Authority(), "registry-1.docker.io");
  EXPECT_EQ(u.HostPort(), "registry-1.docker.io:443");

  Url v6 = *Url::Parse("http://[::1]:5000");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 5000);
  EXPECT_EQ(v6.Target(), "/");
  EXPECT_EQ(v6.String(), "http://[::1]:5000/");

  EXPECT_FALSE(Url::Parse("ftp://x").ok());
  EXPECT_FALSE(Url::Parse("http://").ok());
  EXPECT_FALSE(Url::Parse("http://a:99999/").ok());
  EXPECT_FALSE(Url::Parse("registry.example.com").ok());
}

TEST(UrlTest, ResolvesRedirects) {
  Url base = *Url::Parse("http://127.0.0.1:5000/v2/app/blobs/sha256:ab?ns=x");
  EXPECT_EQ(base.Resolve("https://s3.example.com/bucket/obj?sig=1")->String(),
            "https://s3.example.com/bucket/obj?sig=1");
  EXPECT_EQ(base.Resolve("/storage/x")->String(), "http://127.0.0.1:5000/storage/x");
  EXPECT_EQ(base.Resolve("other?a=b")->String(), "http://127.0.0.1:5000/v2/app/blobs/other?a=b");
  EXPECT_EQ(base.Resolve("../../x")->String(), "http://127.0.0.1:5000/v2/x");
  EXPECT_EQ(base.Resolve("//cdn.example.com/a")->String(), "http://cdn.example.com/a");
}

TEST(UrlTest, Escapes) {
  EXPECT_EQ(QueryEscape("repository:library/busybox:pull"),
            "repository%3Alibrary%2Fbusybox%3Apull");
  EXPECT_EQ(EncodeQuery({{"service", "registry.docker.io"}, {"scope", "a b"}}),
            "service=registry.docker.io&scope=a%20b");
}

TEST(UrlTest, Loopback) {
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("localhost:5000"));
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1:5000"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("[::1]:5000"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1:5000"));
  EXPECT_FALSE(IsLoopbackHost("docker.io"));
  EXPECT_EQ(SplitHostPort("[::1]:80"), std::make_pair(std::string("::1"), std::string("80")));
  EXPECT_EQ(SplitHostPort("host"), std::make_pair(std::string("host"), std::string()));
}

}  // namespace
}  // namespace berth::image::registry
