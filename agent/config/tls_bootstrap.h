#pragma once
// Kubelet TLS bootstrap (upstream pkg/kubelet/certificate/bootstrap): a
// node that has only a bootstrap credential (a bootstrap token) asks the
// cluster for a client certificate of its own through a
// CertificateSigningRequest, waits for it to be issued, and writes a
// kubeconfig that uses it.

#include <chrono>
#include <string>

#include "common/error.h"
#include "controlplane/client/api_client.h"

namespace berth::agent {

struct TlsBootstrapOptions {
  std::string kubeconfig;            // --kubeconfig: read, or written after bootstrap
  std::string bootstrap_kubeconfig;  // --bootstrap-kubeconfig; "" = none
  std::string cert_dir;              // <root-dir>/pki
  std::string node_name;
  std::chrono::seconds timeout = std::chrono::hours(1);  // for the whole request
};

// The node's client configuration:
//  - without a bootstrap kubeconfig, --kubeconfig as it is;
//  - with one, --kubeconfig if it exists and its client certificate has
//    not expired; else a fresh key and a CertificateSigningRequest
//    (certificates.k8s.io/v1, signer
//    kubernetes.io/kube-apiserver-client-kubelet, CN system:node:<node>,
//    O system:nodes, usages digital signature + client auth: the key is
//    ECDSA, so no key encipherment) made with the bootstrap credential,
//    watched until a certificate is issued; then the pair is stored in
//    cert_dir (client_cert_store.h) and --kubeconfig written to use it.
// The pending key and request are kept in cert_dir until then, so a
// restarted agent resumes the same request instead of filing another.
// Errors: kPermissionDenied when the request is denied, kAborted when the
// signer failed it, kDeadlineExceeded after `timeout`, each naming the
// request, with the condition's reason and message.
Result<controlplane::client::ClientConfig> LoadOrBootstrapClientConfig(
    const TlsBootstrapOptions& options);

// The CSR name upstream's kubelet gives a request: "node-csr-" and a
// SHA-512/256 digest of the public key, subject and usages (so that the
// same request made again finds the first one).
Result<std::string> KubeletCsrName(const std::string& key_pem, const std::string& common_name,
                                   const std::vector<std::string>& organizations,
                                   const std::vector<std::string>& usages);

}  // namespace berth::agent
