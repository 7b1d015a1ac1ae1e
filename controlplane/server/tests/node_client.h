#pragma once
// A test's API client configuration for node `name`: the admin's endpoint
// and CA, with a client certificate from the cluster CA as a kubelet has
// one (CN system:node:<name>, O system:nodes).

#include <string>

#include "common/pki/pki.h"
#include "controlplane/client/api_client.h"

namespace berth::controlplane {

inline client::ClientConfig NodeClientConfig(client::ClientConfig admin,
                                             const pki::Credential& cluster_ca,
                                             const std::string& name) {
  pki::CertSpec spec;
  spec.common_name = "system:node:" + name;
  spec.organizations = {"system:nodes"};
  spec.client_auth = true;
  admin.certificate = pki::Issue(cluster_ca, spec).value();
  return admin;
}

}  // namespace berth::controlplane
