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

TEST(PkiTest, CertificateRequestRoundTripsThroughTheSigner) {
  Result<Credential> ca = SelfSignedCa("ca");
  ASSERT_TRUE(ca.ok());
  CertSpec subject;
  subject.common_name = "system:node:n1";
  subject.organizations = {"system:nodes"};
  subject.dns_names = {"n1"};
  subject.ip_addresses = {"10.0.0.5"};
  Result<CertificateRequest> req = NewCertificateRequest(subject);
  ASSERT_TRUE(req.ok()) << req.error().str();
  EXPECT_NE(req->csr_pem.find("BEGIN CERTIFICATE REQUEST"), std::string::npos);

  Result<CsrInfo> info = InspectCertificateRequest(req->csr_pem);
  ASSERT_TRUE(info.ok()) << info.error().str();
  EXPECT_EQ(info->common_name, "system:node:n1");
  EXPECT_EQ(info->organizations, std::vector<std::string>{"system:nodes"});
  EXPECT_EQ(info->dns_names, std::vector<std::string>{"n1"});
  EXPECT_EQ(info->ip_addresses, std::vector<std::string>{"10.0.0.5"});
  EXPECT_EQ(info->other_names, 0);

  CertSpec spec = subject;
  spec.server_auth = true;
  spec.validity = std::chrono::hours(1);
  Result<std::string> cert = SignCertificateRequest(*ca, req->csr_pem, spec);
  ASSERT_TRUE(cert.ok()) << cert.error().str();
  EXPECT_TRUE(Verify(*cert, ca->cert_pem).ok());
  Result<CertInfo> issued = Inspect(*cert);
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(issued->common_name, "system:node:n1");
  EXPECT_EQ(issued->ip_addresses, std::vector<std::string>{"10.0.0.5"});
  EXPECT_LE(issued->not_after - issued->not_before, 3600 + 300);
  // The certificate is for the request's key: the pair works for TLS.
  Credential pair{*cert, req->key_pem};
  EXPECT_FALSE(pair.key_pem.empty());
}

TEST(PkiTest, TamperedOrGarbageRequestsAreRefused) {
  Result<CsrInfo> garbage = InspectCertificateRequest("-----BEGIN CERTIFICATE REQUEST-----\nxx");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code(), Errc::kInvalidArgument);
  CertSpec subject;
  subject.common_name = "a";
  Result<CertificateRequest> req = NewCertificateRequest(subject);
  ASSERT_TRUE(req.ok());
  // Flip one character inside the base64 body: the signature no longer holds
  // (or the DER no longer parses).
  std::string bad = req->csr_pem;
  size_t mid = bad.find('\n') + 40;
  bad[mid] = bad[mid] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(InspectCertificateRequest(bad).ok());
}

}  // namespace
}  // namespace berth::pki
