#include "runtime/image/registry/hosts.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::image::registry {
namespace {

using testing::TempDir;

std::vector<std::string> Urls(const std::vector<Endpoint>& eps) {
  std::vector<std::string> out;
  out.reserve(eps.size());
  for (const Endpoint& ep : eps)
    out.push_back(ep.BaseUrl() + (ep.http_fallback ? " (http fallback)" : ""));
  return out;
}

TEST(HostsTest, DefaultsWithoutConfiguration) {
  HostsOptions none;
  EXPECT_EQ(Urls(*ConfigureEndpoints(none, "docker.io")),
            std::vector<std::string>{"https://registry-1.docker.io/v2"});
  EXPECT_EQ(Urls(*ConfigureEndpoints(none, "registry.k8s.io")),
            std::vector<std::string>{"https://registry.k8s.io/v2"});
  EXPECT_EQ(Urls(*ConfigureEndpoints(none, "quay.io:8443")),
            std::vector<std::string>{"https://quay.io:8443/v2"});
  // Loopback: HTTPS without verification, then HTTP (containerd).
  auto local = *ConfigureEndpoints(none, "127.0.0.1:5000");
  EXPECT_EQ(Urls(local), std::vector<std::string>{"https://127.0.0.1:5000/v2 (http fallback)"});
  EXPECT_TRUE(local[0].tls.skip_verify);
  EXPECT_EQ(Urls(*ConfigureEndpoints(none, "localhost:80")),
            std::vector<std::string>{"http://localhost:80/v2"});
  auto local443 = *ConfigureEndpoints(none, "localhost");
  EXPECT_EQ(Urls(local443), std::vector<std::string>{"https://localhost/v2"});
  EXPECT_TRUE(local443[0].tls.skip_verify);

  HostsOptions plain;
  plain.plain_http = true;
  EXPECT_EQ(Urls(*ConfigureEndpoints(plain, "registry.local:5000")),
            std::vector<std::string>{"http://registry.local:5000/v2"});
  HostsOptions insecure;
  insecure.skip_verify = true;
  auto eps = *ConfigureEndpoints(insecure, "registry.local");
  EXPECT_TRUE(eps[0].tls.skip_verify);
}

TEST(HostsTest, ParsesHostsFile) {
  auto eps = ParseHostsFile(R"(
server = "https://registry-1.docker.io"
[host."http://127.0.0.1:5000"]
  capabilities = ["pull", "resolve"]
[host."https://mirror.example.com/us"]
  capabilities = ["pull"]
  ca = ["mirror.crt", "/abs/other.pem"]
  client = [["client.cert", "client.key"], "both.pem"]
  dial_timeout = "1m30s"
  [host."https://mirror.example.com/us".header]
    x-one = "1"
    x-many = ["a", "b"]
[host."https://nonstandard.example.com/v2/upstream"]
  override_path = true
)",
                            "/etc/berth/certs.d/docker.io/hosts.toml");
  ASSERT_TRUE(eps.ok()) << eps.error().str();
  ASSERT_EQ(eps->size(), 4u);
  EXPECT_EQ(Urls(*eps),
            (std::vector<std::string>{
                "http://127.0.0.1:5000/v2", "https://mirror.example.com/us/v2",
                "https://nonstandard.example.com/v2/upstream", "https://registry-1.docker.io/v2"}));
  EXPECT_EQ((*eps)[0].capabilities, kCapPull | kCapResolve);
  const Endpoint& m = (*eps)[1];
  EXPECT_EQ(m.capabilities, kCapPull);
  EXPECT_EQ(m.tls.ca_files, (std::vector<std::string>{"/etc/berth/certs.d/docker.io/mirror.crt",
                                                      "/abs/other.pem"}));
  ASSERT_EQ(m.tls.client_certs.size(), 2u);
  EXPECT_EQ(m.tls.client_certs[0].second, "/etc/berth/certs.d/docker.io/client.key");
  EXPECT_EQ(m.tls.client_certs[1].second, "");
  EXPECT_EQ(m.dial_timeout, std::chrono::milliseconds(90'000));
  EXPECT_EQ(m.headers.size(), 3u);
  EXPECT_EQ((*eps)[3].capabilities, kCapPull | kCapResolve | kCapPush);
}

TEST(HostsTest, FileErrorsNameFileAndLine) {
  auto bad =
      ParseHostsFile("[host.\"http://x\"]\ncapabilities = [\"pull\", \"fly\"]\n", "/d/hosts.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().str(), "/d/hosts.toml:2: capabilities: unknown capability \"fly\"");
  auto type = ParseHostsFile("skip_verify = \"yes\"\n", "/d/hosts.toml");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.error().str(), "/d/hosts.toml:1: skip_verify: expected a boolean, got string");
  auto timeout = ParseHostsFile("[host.\"http://x\"]\ndial_timeout = \"soon\"\n", "/d/hosts.toml");
  ASSERT_FALSE(timeout.ok());
  EXPECT_NE(timeout.error().str().find("/d/hosts.toml:2: dial_timeout:"), std::string::npos);
}

TEST(HostsTest, DirectoryLookup) {
  TempDir dir;
  ASSERT_TRUE(MkdirAll(dir / "registry.k8s.io").ok());
  ASSERT_TRUE(
      WriteFile(dir / "registry.k8s.io/hosts.toml",
                "[host.\"http://127.0.0.1:5001\"]\n  capabilities = [\"pull\", \"resolve\"]\n")
          .ok());
  HostsOptions opts;
  opts.hosts_dir = dir.path();
  // Mirrors first, then the registry itself (no server given).
  EXPECT_EQ(Urls(*ConfigureEndpoints(opts, "registry.k8s.io")),
            (std::vector<std::string>{"http://127.0.0.1:5001/v2", "https://registry.k8s.io/v2"}));

  // host:port directories: "<host>_<port>_" before "<host>:<port>".
  ASSERT_TRUE(MkdirAll(dir / "reg.local:5000").ok());
  ASSERT_TRUE(
      WriteFile(dir / "reg.local:5000/hosts.toml", "server = \"http://10.1.1.1:5000\"\n").ok());
  EXPECT_EQ(Urls(*ConfigureEndpoints(opts, "reg.local:5000")),
            std::vector<std::string>{"http://10.1.1.1:5000/v2"});
  ASSERT_TRUE(MkdirAll(dir / "reg.local_5000_").ok());
  ASSERT_TRUE(
      WriteFile(dir / "reg.local_5000_/hosts.toml", "server = \"http://10.2.2.2:5000\"\n").ok());
  EXPECT_EQ(Urls(*ConfigureEndpoints(opts, "reg.local:5000")),
            std::vector<std::string>{"http://10.2.2.2:5000/v2"});
  EXPECT_EQ(HostDirCandidates("/c", "reg.local:5000"),
            (std::vector<std::string>{"/c/reg.local_5000_", "/c/reg.local:5000", "/c/_default"}));

  // _default applies to every other registry; the registry stays the upstream.
  ASSERT_TRUE(MkdirAll(dir / "_default").ok());
  ASSERT_TRUE(WriteFile(dir / "_default/hosts.toml", "[host.\"https://cache.local\"]\n").ok());
  EXPECT_EQ(
      Urls(*ConfigureEndpoints(opts, "docker.io")),
      (std::vector<std::string>{"https://cache.local/v2", "https://registry-1.docker.io/v2"}));

  // An http host with TLS settings tries HTTPS first (containerd).
  ASSERT_TRUE(MkdirAll(dir / "tls.local").ok());
  ASSERT_TRUE(WriteFile(dir / "tls.local/hosts.toml",
                        "[host.\"http://127.0.0.1:5002\"]\nskip_verify = true\n")
                  .ok());
  auto tls = *ConfigureEndpoints(opts, "tls.local");
  EXPECT_EQ(Urls(tls), (std::vector<std::string>{"https://127.0.0.1:5002/v2 (http fallback)",
                                                 "https://tls.local/v2"}));

  // A directory without hosts.toml: Docker's certificate files.
  ASSERT_TRUE(MkdirAll(dir / "certs.local").ok());
  ASSERT_TRUE(WriteFile(dir / "certs.local/ca.crt", "x").ok());
  ASSERT_TRUE(WriteFile(dir / "certs.local/client.cert", "x").ok());
  ASSERT_TRUE(WriteFile(dir / "certs.local/client.key", "x").ok());
  auto certs = *ConfigureEndpoints(opts, "certs.local");
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_EQ(certs[0].BaseUrl(), "https://certs.local/v2");
  EXPECT_EQ(certs[0].tls.ca_files, std::vector<std::string>{dir / "certs.local/ca.crt"});
  ASSERT_EQ(certs[0].tls.client_certs.size(), 1u);
  EXPECT_EQ(certs[0].tls.client_certs[0].second, dir / "certs.local/client.key");

  // A broken file is an error naming it, not a silent default.
  ASSERT_TRUE(MkdirAll(dir / "broken.local").ok());
  ASSERT_TRUE(WriteFile(dir / "broken.local/hosts.toml", "server = \n").ok());
  auto broken = ConfigureEndpoints(opts, "broken.local");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().str(), dir / "broken.local/hosts.toml:1: expected a value");
}

TEST(HostsTest, GoDurations) {
  EXPECT_EQ(*ParseGoDuration("1s", "d"), std::chrono::milliseconds(1000));
  EXPECT_EQ(*ParseGoDuration("250ms", "d"), std::chrono::milliseconds(250));
  EXPECT_EQ(*ParseGoDuration("1.5s", "d"), std::chrono::milliseconds(1500));
  EXPECT_EQ(*ParseGoDuration("1h2m", "d"), std::chrono::milliseconds(3'720'000));
  EXPECT_FALSE(ParseGoDuration("5", "d").ok());
  EXPECT_FALSE(ParseGoDuration("s", "d").ok());
}

}  // namespace
}  // namespace berth::image::registry
