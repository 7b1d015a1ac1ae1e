#pragma once
// What a kubelet's CertificateSigningRequest must look like, as upstream's
// approver (pkg/controller/certificates/approver) and signer validation
// (pkg/apis/certificates) check it:
//
//   kubernetes.io/kube-apiserver-client-kubelet: O exactly [system:nodes],
//     CN system:node:<name>, no SANs, usages digital signature + client
//     auth (key encipherment allowed);
//   kubernetes.io/kubelet-serving: the same subject, usages digital
//     signature + server auth (key encipherment allowed), at least one DNS
//     or IP SAN and no other kind.

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/pki/pki.h"

namespace berth::controlplane::controllers {

inline constexpr char kKubeletClientSigner[] = "kubernetes.io/kube-apiserver-client-kubelet";
inline constexpr char kKubeletServingSigner[] = "kubernetes.io/kubelet-serving";
inline constexpr char kApiserverClientSigner[] = "kubernetes.io/kube-apiserver-client";

// A CertificateSigningRequest's spec, read and its request decoded.
struct CsrSpec {
  std::string name;
  std::string signer_name;
  std::string username;
  std::vector<std::string> groups;
  std::string uid;
  std::vector<std::string> usages;
  int64_t expiration_seconds = 0;  // 0: the signer's default
  std::string request_pem;
  pki::CsrInfo request;
};

// kInvalidArgument naming the field (spec.request, spec.signerName...).
Result<CsrSpec> ReadCsrSpec(const boost::json::object& csr);

// Why the request is not a kubelet client (or serving) request; "" when it is.
std::string KubeletClientProblem(const CsrSpec& csr);
std::string KubeletServingProblem(const CsrSpec& csr);

// The condition of `type` (Approved, Denied, Failed) is True.
bool HasCondition(const boost::json::object& csr, const std::string& type);

}  // namespace berth::controlplane::controllers
