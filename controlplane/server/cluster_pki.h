#pragma once
// The cluster's credentials, made on the server's first start under
// <data-dir>/pki (file names as kubeadm's /etc/kubernetes/pki) and kept
// across restarts:
//
//   ca.crt, ca.key                      the cluster CA
//   apiserver.crt, apiserver.key        serving: SANs 127.0.0.1, localhost,
//                                       the host's addresses, the kubernetes
//                                       service VIP, kubernetes.default...
//   apiserver-kubelet-client.{crt,key}  the apiserver's client certificate
//                                       for kubelets (O=system:masters)
//   admin.crt, admin.key                CN=kubernetes-admin, O=system:masters
//   scheduler.{crt,key}                 CN=system:kube-scheduler
//   controller-manager.{crt,key}        CN=system:kube-controller-manager
//
// and, once the server knows its URL, <data-dir>/admin.kubeconfig for
// kubectl (WriteAdminKubeconfig). A certificate that no longer
// verifies against the CA, or a serving certificate that lacks a SAN now
// asked for, is issued again; the CA is never replaced.

#include <string>
#include <vector>

#include "common/error.h"
#include "common/pki/pki.h"

namespace berth::controlplane {

struct ClusterPkiOptions {
  std::string data_dir;
  std::vector<std::string> serving_ips;        // besides 127.0.0.1 and ::1
  std::vector<std::string> serving_dns_names;  // besides localhost and kubernetes.*
};

struct ClusterPki {
  pki::Credential ca;
  pki::Credential serving;
  pki::Credential kubelet_client;
  pki::Credential admin;
  pki::Credential scheduler;
  pki::Credential controller_manager;
  std::string pki_dir;
  std::string admin_kubeconfig;  // <data-dir>/admin.kubeconfig
};

Result<ClusterPki> EnsureClusterPki(const ClusterPkiOptions& options);
// Writes pki.admin_kubeconfig for `server_url` (https://host:port).
Status WriteAdminKubeconfig(const ClusterPki& pki, const std::string& server_url);

// A kubeconfig (clientcmd v1) for one cluster and one client certificate.
std::string Kubeconfig(const std::string& server_url, const std::string& ca_pem,
                       const pki::Credential& client, const std::string& user);

}  // namespace berth::controlplane
