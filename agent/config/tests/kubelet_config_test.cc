// The KubeletConfiguration file: upstream's defaults, every field berth
// applies (YAML and JSON), unknown and unsupported fields as warnings, and
// bad values as errors naming the file and the field.

#include "agent/config/kubelet_config.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::agent {
namespace {

using namespace std::chrono_literals;

constexpr char kHeader[] =
    "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

Result<LoadedKubeletConfig> Parse(const std::string& body, const std::string& path = "/etc/k/c") {
  return ParseKubeletConfig(std::string(kHeader) + body, path);
}

std::string ErrorOf(const std::string& body) {
  auto r = Parse(body);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? "" : r.error().str();
}

TEST(KubeletConfigTest, UpstreamDefaults) {
  auto r = Parse("");
  ASSERT_TRUE(r.ok()) << r.error().str();
  const KubeletConfig& c = r->config;
  EXPECT_TRUE(r->warnings.empty());
  EXPECT_EQ(c.address, "0.0.0.0");
  EXPECT_EQ(c.port, 10250);
  EXPECT_EQ(c.max_pods, 110);
  EXPECT_EQ(c.cgroup_driver, "cgroupfs");
  EXPECT_EQ(c.sync_frequency, 1min);
  EXPECT_EQ(c.node_status_update_frequency, 10s);
  EXPECT_EQ(c.node_status_report_frequency, 5min);
  EXPECT_EQ(c.node_lease_duration_seconds, 40);
  EXPECT_EQ(c.eviction_hard, DefaultEvictionHard());
  EXPECT_TRUE(c.serialize_image_pulls);
  EXPECT_TRUE(c.authentication.webhook_enabled);
  EXPECT_FALSE(c.authentication.anonymous_enabled);
  EXPECT_EQ(c.authorization.mode, "Webhook");
  EXPECT_EQ(c.kube_api_qps, 50);
  EXPECT_EQ(c.kube_api_burst, 100);
  EXPECT_EQ(c.node_status_max_images, 50);
}

TEST(KubeletConfigTest, ReadsEveryAppliedFieldFromYaml) {
  auto r = Parse(R"(
address: 127.0.0.1
port: 11250
clusterDNS: [10.96.0.10, "fd00::a"]
clusterDomain: cluster.local
maxPods: 50
podCIDR: 10.244.1.0/24
cgroupRoot: /berth
cgroupDriver: cgroupfs
staticPodPath: manifests
syncFrequency: 30s
nodeStatusUpdateFrequency: 4s
nodeLeaseDurationSeconds: 20
systemReserved: {cpu: 100m, memory: 256Mi}
kubeReserved:
  memory: 128Mi
  ephemeral-storage: 1Gi
  pid: 1000
evictionHard:
  memory.available: 200Mi
  pid.available: 10%
serializeImagePulls: false
maxParallelImagePulls: 3
authentication:
  x509: {clientCAFile: /etc/k/ca.crt}
  webhook: {enabled: false, cacheTTL: 1m}
  anonymous: {enabled: true}
authorization: {mode: AlwaysAllow}
tlsCertFile: pki/kubelet.crt
tlsPrivateKeyFile: /abs/kubelet.key
registerWithTaints:
- {key: dedicated, value: db, effect: NoSchedule}
kubeAPIQPS: 20
kubeAPIBurst: 40
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
podLogsDir: /var/log/berth-pods
)",
                 "/etc/k/config.yaml");
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_TRUE(r->warnings.empty()) << r->warnings[0];
  const KubeletConfig& c = r->config;
  EXPECT_EQ(c.address, "127.0.0.1");
  EXPECT_EQ(c.port, 11250);
  EXPECT_EQ(c.cluster_dns, (std::vector<std::string>{"10.96.0.10", "fd00::a"}));
  EXPECT_EQ(c.cluster_domain, "cluster.local");
  EXPECT_EQ(c.max_pods, 50);
  EXPECT_EQ(c.pod_cidr, "10.244.1.0/24");
  EXPECT_EQ(c.cgroup_root, "/berth");
  EXPECT_EQ(c.static_pod_path, "/etc/k/manifests");
  EXPECT_EQ(c.sync_frequency, 30s);
  EXPECT_EQ(c.node_status_update_frequency, 4s);
  EXPECT_EQ(c.node_status_report_frequency, 4s) << "follows an explicit update frequency";
  EXPECT_EQ(c.node_lease_duration_seconds, 20);
  EXPECT_EQ(c.system_reserved.at("cpu"), "100m");
  EXPECT_EQ(c.kube_reserved.at("pid"), "1000");
  ASSERT_EQ(c.eviction_hard.size(), 2U) << "an evictionHard that is set replaces the defaults";
  EXPECT_EQ(FindThreshold(c.eviction_hard, kSignalMemoryAvailable)->quantity, 200LL << 20);
  EXPECT_TRUE(FindThreshold(c.eviction_hard, kSignalPidAvailable)->is_percentage);
  EXPECT_FALSE(c.serialize_image_pulls);
  EXPECT_EQ(c.max_parallel_image_pulls, 3);
  EXPECT_EQ(c.authentication.x509_client_ca_file, "/etc/k/ca.crt");
  EXPECT_FALSE(c.authentication.webhook_enabled);
  EXPECT_EQ(c.authentication.webhook_cache_ttl, 1min);
  EXPECT_TRUE(c.authentication.anonymous_enabled);
  EXPECT_EQ(c.authorization.mode, "AlwaysAllow");
  EXPECT_EQ(c.tls_cert_file, "/etc/k/pki/kubelet.crt");
  EXPECT_EQ(c.tls_private_key_file, "/abs/kubelet.key");
  ASSERT_EQ(c.register_with_taints.size(), 1U);
  EXPECT_EQ(c.register_with_taints[0].at("key"), "dedicated");
  EXPECT_EQ(c.kube_api_qps, 20);
  EXPECT_EQ(c.kube_api_burst, 40);
  EXPECT_EQ(c.container_runtime_endpoint, "unix:///run/containerd/containerd.sock");
  EXPECT_EQ(c.pod_logs_dir, "/var/log/berth-pods");
}

TEST(KubeletConfigTest, ReadsJsonAndAnExplicitReportFrequency) {
  auto r = ParseKubeletConfig(R"({"kind":"KubeletConfiguration",
      "apiVersion":"kubelet.config.k8s.io/v1beta1",
      "nodeStatusUpdateFrequency":"5s","nodeStatusReportFrequency":"1m","maxPods":20})",
                              "c.json");
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->config.node_status_update_frequency, 5s);
  EXPECT_EQ(r->config.node_status_report_frequency, 1min);
  EXPECT_EQ(r->config.max_pods, 20);
}

TEST(KubeletConfigTest, UnknownAndUnsupportedFieldsAreWarnings) {
  auto r = Parse(
      "readOnlyPort: 10255\nfancyNewThing: 1\nauthentication:\n  webhook:\n    "
      "enabled: true\n    shiny: 2\nmaxPods: 30\n",
      "/etc/k/c.yaml");
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->config.max_pods, 30);
  ASSERT_EQ(r->warnings.size(), 3U);
  std::string all = r->warnings[0] + "\n" + r->warnings[1] + "\n" + r->warnings[2];
  EXPECT_NE(all.find("/etc/k/c.yaml: field \"readOnlyPort\" is not supported by berth"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("/etc/k/c.yaml: unknown field \"fancyNewThing\""), std::string::npos) << all;
  EXPECT_NE(all.find("unknown field \"authentication.webhook.shiny\""), std::string::npos) << all;
}

TEST(KubeletConfigTest, BadValuesAreErrorsNamingTheField) {
  struct Case {
    std::string body, want;
  };
  std::vector<Case> cases = {
      {"maxPods: -1\n", "/etc/k/c: maxPods: must not be a negative number"},
      {"maxPods: lots\n", "maxPods: expected integer"},
      {"port: 70000\n", "port: must be between 1 and 65535"},
      {"cgroupDriver: systemd\n", "cgroupDriver: \"systemd\" is not supported"},
      {"syncFrequency: '10'\n", "syncFrequency: missing unit in duration \"10\""},
      {"syncFrequency: 10\n", "syncFrequency: expected string"},
      {"nodeStatusUpdateFrequency: 0s\n", "nodeStatusUpdateFrequency: must be greater than 0"},
      {"nodeLeaseDurationSeconds: 0\n", "nodeLeaseDurationSeconds: must be greater than 0"},
      {"address: not-an-ip\n", "address: \"not-an-ip\" is not an IP address"},
      {"clusterDNS: [10.0.0.10, nope]\n", "clusterDNS[1]: \"nope\" is not an IP address"},
      {"podCIDR: 10.0.0.0/40\n", "podCIDR: \"10.0.0.0/40\" is not a CIDR"},
      {"systemReserved: {gpu: 1}\n", "systemReserved[gpu]: cannot reserve \"gpu\""},
      {"kubeReserved: {memory: lots}\n", "kubeReserved[memory]: invalid quantity"},
      {"evictionHard: {disk.available: 1Gi}\n", "evictionHard[disk.available]: unsupported"},
      {"authorization: {mode: RBAC}\n",
       "authorization.mode: \"RBAC\" is not an authorization mode"},
      {"registerWithTaints: [{key: a, effect: Sometimes}]\n",
       "registerWithTaints[0].effect: \"Sometimes\" is not a taint effect"},
      {"kubeAPIQPS: -5\n", "kubeAPIQPS: must not be a negative number"},
      {"podLogsDir: logs\n", "podLogsDir: must be an absolute path"},
      {"serializeImagePulls: maybe\n", "serializeImagePulls: expected boolean"},
  };
  for (const Case& c : cases) {
    std::string error = ErrorOf(c.body);
    EXPECT_NE(error.find(c.want), std::string::npos) << "want: " << c.want << "\ngot: " << error;
    EXPECT_NE(error.find("/etc/k/c"), std::string::npos) << error;
  }
}

TEST(KubeletConfigTest, RefusesOtherKindsAndBadSyntax) {
  auto other = ParseKubeletConfig("apiVersion: v1\nkind: Config\n", "/x");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().str().find("not a KubeletConfiguration"), std::string::npos);
  auto broken = ParseKubeletConfig(std::string(kHeader) + "maxPods: [1\n", "/x");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().str().find("/x: invalid YAML"), std::string::npos)
      << broken.error().str();
}

TEST(KubeletConfigTest, LoadsAFile) {
  berth::testing::TempDir dir("berth-kubelet-config");
  ASSERT_TRUE(
      WriteFile(dir / "config.yaml", std::string(kHeader) + "staticPodPath: static\n").ok());
  auto r = LoadKubeletConfig(dir / "config.yaml");
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->config.static_pod_path, dir / "static");
  auto missing = LoadKubeletConfig(dir / "nope.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().str().find(dir / "nope.yaml"), std::string::npos);
}

}  // namespace
}  // namespace berth::agent
