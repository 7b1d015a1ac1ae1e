#include "common/pki/pki.h"

#include <gtest/gtest.h>

#include <ctime>

namespace berth::pki {
namespace {

TEST(PkiTest, IssuesAClientCertificateWithUserAndGroups) {
  Result<Credential> ca = SelfSignedCa("berth-ca");
  ASSERT_TRUE(ca.ok()) << ca.error().str();
  CertSpec spec;
  spec.common_name = "system:node:n1";
  spec.organizations = {"system:nodes", "team"};
  spec.client_auth = true;
  Result<Credential> node = Issue(*ca, spec);
  ASSERT_TRUE(node.ok()) << node.error().str();
  EXPECT_NE(node->key_pem.find("PRIVATE KEY"), std::string::npos);

  Result<CertInfo> info = Inspect(node->cert_pem);
  ASSERT_TRUE(info.ok()) << info.error().str();
  EXPECT_EQ(info->common_name, "system:node:n1");
  EXPECT_EQ(info->organizations, (std::vector<std::string>{"system:nodes", "team"}));
  EXPECT_FALSE(info->is_ca);
  std::time_t now = std::time(nullptr);
  EXPECT_LE(info->not_before, now);
  EXPECT_GT(info->not_after, now + 300L * 24 * 3600);
  EXPECT_TRUE(Verify(node->cert_pem, ca->cert_pem).ok());

  Result<CertInfo> ca_info = Inspect(ca->cert_pem);
  ASSERT_TRUE(ca_info.ok());
  EXPECT_TRUE(ca_info->is_ca);
  EXPECT_EQ(ca_info->common_name, "berth-ca");
}

TEST(PkiTest, ServerCertificateCarriesItsSans) {
  Result<Credential> ca = SelfSignedCa("berth-ca");
  ASSERT_TRUE(ca.ok());
  CertSpec spec;
  spec.common_name = "kube-apiserver";
  spec.server_auth = true;
  spec.dns_names = {"localhost", "kubernetes.default.svc.cluster.local"};
  spec.ip_addresses = {"127.0.0.1", "10.96.0.1", "::1"};
  Result<Credential> server = Issue(*ca, spec);
  ASSERT_TRUE(server.ok()) << server.error().str();
  Result<CertInfo> info = Inspect(server->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->dns_names, spec.dns_names);
  EXPECT_EQ(info->ip_addresses, spec.ip_addresses);
}

TEST(PkiTest, AnotherCaDoesNotVerify) {
  Result<Credential> ca = SelfSignedCa("one");
  Result<Credential> other = SelfSignedCa("two");
  ASSERT_TRUE(ca.ok() && other.ok());
  CertSpec spec;
  spec.common_name = "admin";
  spec.client_auth = true;
  Result<Credential> cert = Issue(*ca, spec);
  ASSERT_TRUE(cert.ok());
  Status verified = Verify(cert->cert_pem, other->cert_pem);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code(), Errc::kPermissionDenied) << verified.error().str();
}

TEST(PkiTest, BadInputIsRefusedByName) {
  Result<Credential> ca = SelfSignedCa("ca");
  ASSERT_TRUE(ca.ok());
  CertSpec spec;
  spec.common_name = "x";
  spec.dns_names = {"bad,name"};
  Result<Credential> bad_dns = Issue(*ca, spec);
  ASSERT_FALSE(bad_dns.ok());
  EXPECT_NE(bad_dns.error().str().find("bad,name"), std::string::npos);
  spec.dns_names = {};
  spec.ip_addresses = {"10.0.0.300"};
  Result<Credential> bad_ip = Issue(*ca, spec);
  ASSERT_FALSE(bad_ip.ok());
  EXPECT_NE(bad_ip.error().str().find("10.0.0.300"), std::string::npos);
  Credential mismatched{ca->cert_pem, SelfSignedCa("other")->key_pem};
  spec.ip_addresses = {};
  Result<Credential> wrong_key = Issue(mismatched, spec);
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_NE(wrong_key.error().str().find("does not match"), std::string::npos);
  Result<CertInfo> garbage = Inspect("not a certificate");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace berth::pki
