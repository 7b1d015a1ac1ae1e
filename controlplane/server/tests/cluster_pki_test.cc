#include "controlplane/server/cluster_pki.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"

namespace berth::controlplane {
namespace {

bool Has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(ClusterPkiTest, FirstStartMakesTheCredentialsAndAKubeconfig) {
  testing::TempDir dir("berth-pki");
  ClusterPkiOptions options;
  options.data_dir = dir.path();
  options.serving_ips = {"10.96.0.1", "192.0.2.7"};
  Result<ClusterPki> made = EnsureClusterPki(options);
  ASSERT_TRUE(made.ok()) << made.error().str();
  ASSERT_TRUE(WriteAdminKubeconfig(*made, "https://127.0.0.1:6443").ok());

  for (const char* f : {"ca", "apiserver", "apiserver-kubelet-client", "admin"}) {
    EXPECT_TRUE(PathExists(made->pki_dir + "/" + f + ".crt")) << f;
    struct stat st {};
    ASSERT_EQ(::stat((made->pki_dir + "/" + f + ".key").c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
  Result<pki::CertInfo> serving = pki::Inspect(made->serving.cert_pem);
  ASSERT_TRUE(serving.ok());
  for (const char* ip : {"127.0.0.1", "::1", "10.96.0.1", "192.0.2.7"})
    EXPECT_TRUE(Has(serving->ip_addresses, ip)) << ip;
  for (const char* dns : {"localhost", "kubernetes.default.svc.cluster.local"})
    EXPECT_TRUE(Has(serving->dns_names, dns)) << dns;
  Result<pki::CertInfo> admin = pki::Inspect(made->admin.cert_pem);
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->common_name, "kubernetes-admin");
  EXPECT_TRUE(Has(admin->organizations, "system:masters"));
  EXPECT_TRUE(pki::Verify(made->admin.cert_pem, made->ca.cert_pem).ok());

  // kubectl reads the kubeconfig as it reads kubeadm's.
  const std::string kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";
  BERTH_REQUIRE(PathExists(kubectl), kubectl + " (preinstalled on this machine)");
  Command view;
  view.argv = {kubectl,
               "--kubeconfig",
               made->admin_kubeconfig,
               "config",
               "view",
               "--raw",
               "-o",
               "jsonpath={.clusters[0].cluster.server} {.users[0].name}"};
  Result<CommandResult> out = RunCommand(view);
  ASSERT_TRUE(out.ok()) << out.error().str();
  EXPECT_EQ(out->out, "https://127.0.0.1:6443 kubernetes-admin") << out->err;
}

TEST(ClusterPkiTest, ARestartKeepsTheCaAndReissuesOnlyWhatChanged) {
  testing::TempDir dir("berth-pki");
  ClusterPkiOptions options;
  options.data_dir = dir.path();
  Result<ClusterPki> first = EnsureClusterPki(options);
  ASSERT_TRUE(first.ok()) << first.error().str();
  Result<ClusterPki> again = EnsureClusterPki(options);
  ASSERT_TRUE(again.ok()) << again.error().str();
  EXPECT_EQ(again->ca.cert_pem, first->ca.cert_pem);
  EXPECT_EQ(again->serving.cert_pem, first->serving.cert_pem);
  EXPECT_EQ(again->admin.cert_pem, first->admin.cert_pem);

  // A new address needs a new serving certificate, from the same CA.
  options.serving_ips = {"198.51.100.4"};
  Result<ClusterPki> moved = EnsureClusterPki(options);
  ASSERT_TRUE(moved.ok()) << moved.error().str();
  EXPECT_EQ(moved->ca.cert_pem, first->ca.cert_pem);
  EXPECT_NE(moved->serving.cert_pem, first->serving.cert_pem);
  EXPECT_EQ(moved->admin.cert_pem, first->admin.cert_pem);
  EXPECT_TRUE(Has(pki::Inspect(moved->serving.cert_pem)->ip_addresses, "198.51.100.4"));
}

TEST(ClusterPkiTest, ACorruptCaIsAnErrorNamingTheFile) {
  testing::TempDir dir("berth-pki");
  ASSERT_TRUE(MkdirAll(dir.path() + "/pki").ok());
  ASSERT_TRUE(WriteFile(dir.path() + "/pki/ca.crt", "garbage").ok());
  ASSERT_TRUE(WriteFile(dir.path() + "/pki/ca.key", "garbage").ok());
  ClusterPkiOptions options;
  options.data_dir = dir.path();
  Result<ClusterPki> made = EnsureClusterPki(options);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().str().find("pki/ca.crt"), std::string::npos) << made.error().str();
  // Nothing replaced it: the operator's CA is never overwritten.
  EXPECT_EQ(ReadFile(dir.path() + "/pki/ca.crt").value_or(""), "garbage");
}

}  // namespace
}  // namespace berth::controlplane
