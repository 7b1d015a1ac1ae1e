#pragma once
// Where the kubelet keeps its client certificate, laid out as upstream's
// certificate file store (client-go util/certificate, prefix
// "kubelet-client"): <dir>/kubelet-client-<YYYY-MM-DD-HH-MM-SS>.pem holds
// the certificate and its key, and kubelet-client-current.pem is a symlink
// to the newest one, which the kubeconfig names for both.

#include <string>

#include "common/error.h"
#include "common/pki/pki.h"

namespace berth::agent {

// <dir>/kubelet-client-current.pem
std::string CurrentClientCertPath(const std::string& cert_dir);

// Writes a new pair file (mode 0600) and points the current symlink at it
// (atomically: a new symlink renamed over the old). The current path.
Result<std::string> StoreClientCert(const std::string& cert_dir, const pki::Credential& pair);

}  // namespace berth::agent
