#include "runtime/image/reference.h"

#include <gtest/gtest.h>

namespace berth::image {
namespace {

constexpr char kDigest[] =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string Normalized(const std::string& text) {
  auto r = Reference::Parse(text);
  return r.ok() ? r->String() : "error: " + r.error().str();
}

TEST(ReferenceTest, DockerNormalization) {
  EXPECT_EQ(Normalized("busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(Normalized("busybox:1.36"), "docker.io/library/busybox:1.36");
  EXPECT_EQ(Normalized("user/app"), "docker.io/user/app:latest");
  EXPECT_EQ(Normalized("docker.io/busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(Normalized("index.docker.io/library/busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(Normalized("registry.k8s.io/pause:3.9"), "registry.k8s.io/pause:3.9");
  EXPECT_EQ(Normalized("localhost/app"), "localhost/app:latest");
  EXPECT_EQ(Normalized("localhost:5000/a/b/c:v1"), "localhost:5000/a/b/c:v1");
  EXPECT_EQ(Normalized("127.0.0.1:5000/app"), "127.0.0.1:5000/app:latest");
  EXPECT_EQ(Normalized("[::1]:5000/app"), "[::1]:5000/app:latest");
  EXPECT_EQ(Normalized("my-registry/app"), "docker.io/my-registry/app:latest");
  EXPECT_EQ(Normalized("a__b/c.d-e--f"), "docker.io/a__b/c.d-e--f:latest");
}

TEST(ReferenceTest, Digests) {
  auto r = Reference::Parse(std::string("busybox@") + kDigest);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tag, "");
  EXPECT_EQ(r->Object(), kDigest);
  EXPECT_EQ(r->String(), std::string("docker.io/library/busybox@") + kDigest);
  auto both = Reference::Parse(std::string("localhost:5000/app:v1@") + kDigest);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->tag, "v1");
  EXPECT_EQ(both->Object(), kDigest);
}

TEST(ReferenceTest, Familiar) {
  EXPECT_EQ(Reference::Parse("busybox")->Familiar(), "busybox:latest");
  EXPECT_EQ(Reference::Parse("user/app:1")->Familiar(), "user/app:1");
  EXPECT_EQ(Reference::Parse("docker.io/library/a/b")->Familiar(), "library/a/b:latest");
  EXPECT_EQ(Reference::Parse("quay.io/x/y:z")->Familiar(), "quay.io/x/y:z");
}

TEST(ReferenceTest, ErrorsSayWhy) {
  EXPECT_NE(Normalized("Busybox").find("must be lowercase"), std::string::npos);
  EXPECT_NE(Normalized("busybox:").find("invalid tag"), std::string::npos);
  EXPECT_NE(Normalized("busybox:.x").find("invalid tag"), std::string::npos);
  EXPECT_NE(Normalized("a//b").find("empty path component"), std::string::npos);
  EXPECT_NE(Normalized("a/-b").find("invalid path component"), std::string::npos);
  EXPECT_NE(Normalized("busybox@sha256:123").find("digest"), std::string::npos);
  EXPECT_NE(Normalized("").find("empty"), std::string::npos);
  EXPECT_NE(Normalized("host:x/app").find("invalid registry host"), std::string::npos);
  EXPECT_NE(Normalized(std::string(300, 'a')).find("longer than"), std::string::npos);
}

}  // namespace
}  // namespace berth::image
