#include "controlplane/server/cluster_pki.h"

#include <algorithm>

#include "common/base64.h"
#include "common/file.h"

namespace berth::controlplane {
namespace {

// kube-apiserver's own DNS names for the kubernetes service.
constexpr const char* kServiceDnsNames[] = {"kubernetes", "kubernetes.default",
                                            "kubernetes.default.svc",
                                            "kubernetes.default.svc.cluster.local"};

Result<std::optional<pki::Credential>> Load(const std::string& base) {
  if (!PathExists(base + ".crt") || !PathExists(base + ".key")) {
    return std::optional<pki::Credential>();
  }
  pki::Credential c{BERTH_TRY(ReadFile(base + ".crt")), BERTH_TRY(ReadFile(base + ".key"))};
  return std::optional<pki::Credential>(std::move(c));
}

Status Save(const std::string& base, const pki::Credential& c) {
  BERTH_TRY(WriteFileAtomic(base + ".key", c.key_pem, 0600));
  return WriteFileAtomic(base + ".crt", c.cert_pem, 0644);
}

bool Covers(const std::vector<std::string>& have, const std::vector<std::string>& want) {
  return std::all_of(want.begin(), want.end(), [&](const std::string& w) {
    return std::find(have.begin(), have.end(), w) != have.end();
  });
}

// The credential at `base` if it verifies against `ca` and `keep` accepts
// it, else a new one issued from `spec` (and saved).
Result<pki::Credential> EnsureLeaf(const std::string& base, const pki::Credential& ca,
                                   const pki::CertSpec& spec) {
  if (std::optional<pki::Credential> have = BERTH_TRY(Load(base))) {
    Result<pki::CertInfo> info = pki::Inspect(have->cert_pem);
    if (pki::Verify(have->cert_pem, ca.cert_pem).ok() && info.ok() &&
        info->common_name == spec.common_name && Covers(info->dns_names, spec.dns_names) &&
        Covers(info->ip_addresses, spec.ip_addresses) &&
        Covers(info->organizations, spec.organizations)) {
      return *have;
    }
  }
  pki::Credential issued = BERTH_TRY_CTX(pki::Issue(ca, spec), "issue " + base + ".crt");
  BERTH_TRY(Save(base, issued));
  return issued;
}

}  // namespace

std::string Kubeconfig(const std::string& server_url, const std::string& ca_pem,
                       const pki::Credential& client, const std::string& user) {
  std::string y;
  y += "apiVersion: v1\n";
  y += "kind: Config\n";
  y += "clusters:\n";
  y += "- name: berth\n";
  y += "  cluster:\n";
  y += "    server: " + server_url + "\n";
  y += "    certificate-authority-data: " + Base64Encode(ca_pem) + "\n";
  y += "users:\n";
  y += "- name: " + user + "\n";
  y += "  user:\n";
  y += "    client-certificate-data: " + Base64Encode(client.cert_pem) + "\n";
  y += "    client-key-data: " + Base64Encode(client.key_pem) + "\n";
  y += "contexts:\n";
  y += "- name: " + user + "@berth\n";
  y += "  context:\n";
  y += "    cluster: berth\n";
  y += "    user: " + user + "\n";
  y += "current-context: " + user + "@berth\n";
  return y;
}

Result<ClusterPki> EnsureClusterPki(const ClusterPkiOptions& options) {
  if (options.data_dir.empty()) return Error(Errc::kInvalidArgument, "--data-dir is empty");
  ClusterPki out;
  out.pki_dir = options.data_dir + "/pki";
  BERTH_TRY(MkdirAll(out.pki_dir, 0700));

  std::string ca_base = out.pki_dir + "/ca";
  if (std::optional<pki::Credential> ca = BERTH_TRY(Load(ca_base))) {
    BERTH_TRY_CTX(pki::Inspect(ca->cert_pem), ca_base + ".crt");
    out.ca = std::move(*ca);
  } else {
    out.ca = BERTH_TRY(pki::SelfSignedCa("berth-ca"));
    BERTH_TRY(Save(ca_base, out.ca));
  }

  pki::CertSpec serving;
  serving.common_name = "kube-apiserver";
  serving.server_auth = true;
  serving.dns_names = {"localhost"};
  for (const char* name : kServiceDnsNames)
    serving.dns_names.emplace_back(name);
  for (const std::string& name : options.serving_dns_names)
    serving.dns_names.push_back(name);
  serving.ip_addresses = {"127.0.0.1", "::1"};
  for (const std::string& ip : options.serving_ips) {
    if (std::find(serving.ip_addresses.begin(), serving.ip_addresses.end(), ip) ==
        serving.ip_addresses.end()) {
      serving.ip_addresses.push_back(ip);
    }
  }
  out.serving = BERTH_TRY(EnsureLeaf(out.pki_dir + "/apiserver", out.ca, serving));

  pki::CertSpec kubelet_client;
  kubelet_client.common_name = "kube-apiserver-kubelet-client";
  kubelet_client.organizations = {"system:masters"};
  kubelet_client.client_auth = true;
  out.kubelet_client =
      BERTH_TRY(EnsureLeaf(out.pki_dir + "/apiserver-kubelet-client", out.ca, kubelet_client));

  pki::CertSpec admin;
  admin.common_name = "kubernetes-admin";
  admin.organizations = {"system:masters"};
  admin.client_auth = true;
  out.admin = BERTH_TRY(EnsureLeaf(out.pki_dir + "/admin", out.ca, admin));

  // The bundled scheduler and controllers, as kubeadm's scheduler.conf
  // and controller-manager.conf identities (RBAC: auth/rbac.cc).
  pki::CertSpec scheduler;
  scheduler.common_name = "system:kube-scheduler";
  scheduler.client_auth = true;
  out.scheduler = BERTH_TRY(EnsureLeaf(out.pki_dir + "/scheduler", out.ca, scheduler));
  pki::CertSpec controller_manager;
  controller_manager.common_name = "system:kube-controller-manager";
  controller_manager.client_auth = true;
  out.controller_manager =
      BERTH_TRY(EnsureLeaf(out.pki_dir + "/controller-manager", out.ca, controller_manager));

  out.admin_kubeconfig = options.data_dir + "/admin.kubeconfig";
  return out;
}

Status WriteAdminKubeconfig(const ClusterPki& pki, const std::string& server_url) {
  return WriteFileAtomic(pki.admin_kubeconfig,
                         Kubeconfig(server_url, pki.ca.cert_pem, pki.admin, "kubernetes-admin"),
                         0600);
}

}  // namespace berth::controlplane
