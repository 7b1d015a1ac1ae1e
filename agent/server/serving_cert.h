#pragma once
// The kubelet's serving certificate when none is configured
// (tlsCertFile/tlsPrivateKeyFile unset): like kubelet, a self-signed pair
// kept in <root-dir>/pki/kubelet.crt (the certificate, then the CA that
// signed it) and kubelet.key, reused across restarts. A kept one is
// replaced when it expires or no longer names the node's name and IPs.

#include <string>
#include <vector>

#include "common/error.h"
#include "common/pki/pki.h"

namespace berth::agent::kubelet {

Result<pki::Credential> EnsureSelfSignedServingCert(const std::string& root_dir,
                                                    const std::string& node_name,
                                                    const std::vector<std::string>& node_ips);

}  // namespace berth::agent::kubelet
