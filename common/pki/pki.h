#pragma once
// X.509 for the cluster: a self-signed CA, certificates it issues (server,
// client, both; names, organizations, DNS and IP SANs), and reading one
// back. Keys are ECDSA P-256, PEM-encoded (PKCS#8), as kubeadm can also
// use; every Kubernetes client and server accepts them.
//
// The API identity conventions ride on the subject: CN is the user, each O
// a group (system:masters, system:nodes).

#include <chrono>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::pki {

struct Credential {
  std::string cert_pem;
  std::string key_pem;
};

struct CertSpec {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // IPv4 or IPv6 literals
  bool server_auth = false;
  bool client_auth = false;
  std::chrono::seconds validity = std::chrono::hours(24 * 365);
};

// A CA valid for `validity`, its subject CN `common_name`.
Result<Credential> SelfSignedCa(const std::string& common_name,
                                std::chrono::seconds validity = std::chrono::hours(24 * 3650));
// A certificate for a fresh key, signed by `ca`.
Result<Credential> Issue(const Credential& ca, const CertSpec& spec);

struct CertInfo {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool is_ca = false;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
};

// The first certificate in `pem`.
Result<CertInfo> Inspect(const std::string& pem);
// Whether the first certificate in `pem` chains to `ca_pem` and is valid now.
Status Verify(const std::string& pem, const std::string& ca_pem);

// PKCS#10 certificate requests, as a kubelet sends them in a
// CertificateSigningRequest (spec.request) and the signer answers them.
struct CertificateRequest {
  std::string key_pem;  // the fresh key the request is for
  std::string csr_pem;  // "CERTIFICATE REQUEST"
};
// A request for a fresh key: `subject`'s CN, O, DNS and IP SANs (usages
// and validity are the signer's to choose).
Result<CertificateRequest> NewCertificateRequest(const CertSpec& subject);

struct CsrInfo {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  int other_names = 0;  // email, URI and other SANs
};
// What a request asks for; kInvalidArgument when it is not one or its
// signature does not verify.
Result<CsrInfo> InspectCertificateRequest(const std::string& pem);
// A certificate for the request's key, signed by `ca`, with `spec`'s
// subject, SANs, usages and validity (the caller decides them from
// InspectCertificateRequest and its own policy).
Result<std::string> SignCertificateRequest(const Credential& ca, const std::string& csr_pem,
                                           const CertSpec& spec);

// Signing keys for JSON Web Signatures (service-account tokens): ES256,
// ECDSA P-256 with SHA-256, the signature as r||s (64 bytes, RFC 7518).
Result<std::string> NewSigningKey();  // a PEM (PKCS#8) private key
Result<std::string> SignEs256(const std::string& key_pem, std::string_view data);
bool VerifyEs256(const std::string& key_pem, std::string_view data, std::string_view signature);
// The public key, DER (SubjectPublicKeyInfo): what a key id hashes.
Result<std::string> PublicKeyDer(const std::string& key_pem);

}  // namespace berth::pki
