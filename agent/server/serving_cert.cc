#include "agent/server/serving_cert.h"

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include "common/file.h"
#include "common/log.h"

namespace berth::agent::kubelet {
namespace {

constexpr auto kValidity = std::chrono::hours(24 * 365);  // kubelet's: one year

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool Contains(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// Whether the kept certificate still serves: valid, and naming the node.
bool Usable(const pki::Credential& c, const std::vector<std::string>& dns,
            const std::vector<std::string>& ips) {
  Result<pki::CertInfo> info = pki::Inspect(c.cert_pem);
  if (!info.ok() || info->not_after <= std::time(nullptr) + 3600) return false;
  for (const std::string& d : dns)
    if (!Contains(info->dns_names, d)) return false;
  for (const std::string& ip : ips)
    if (!Contains(info->ip_addresses, ip)) return false;
  return true;
}

}  // namespace

Result<pki::Credential> EnsureSelfSignedServingCert(const std::string& root_dir,
                                                    const std::string& node_name,
                                                    const std::vector<std::string>& node_ips) {
  std::string dir = root_dir + "/pki";
  std::string cert_path = dir + "/kubelet.crt";
  std::string key_path = dir + "/kubelet.key";
  std::vector<std::string> dns;
  std::vector<std::string> ips = node_ips;
  if (IsIp(node_name)) {
    if (!Contains(ips, node_name)) ips.push_back(node_name);
  } else if (!node_name.empty()) {
    dns.push_back(node_name);
  }
  if (PathExists(cert_path) && PathExists(key_path)) {
    pki::Credential kept{BERTH_TRY(ReadFile(cert_path)), BERTH_TRY(ReadFile(key_path))};
    if (Usable(kept, dns, ips)) return kept;
    BLOG(kInfo) << "kubelet serving certificate " << cert_path
                << " expired or does not name the node; making a new one";
  }
  // As kubelet's certutil.GenerateSelfSignedCertKey: a CA of its own named
  // after the host and the time, and a certificate it signs.
  std::string stamp = std::to_string(std::time(nullptr));
  pki::Credential ca = BERTH_TRY(pki::SelfSignedCa(
      node_name + "-ca@" + stamp, std::chrono::duration_cast<std::chrono::seconds>(kValidity)));
  pki::CertSpec spec;
  spec.common_name = node_name + "@" + stamp;
  spec.dns_names = dns;
  spec.ip_addresses = ips;
  spec.server_auth = true;
  spec.validity = kValidity;
  pki::Credential leaf = BERTH_TRY(pki::Issue(ca, spec));
  pki::Credential out{leaf.cert_pem + ca.cert_pem, leaf.key_pem};
  BERTH_TRY(MkdirAll(dir, 0755));
  BERTH_TRY(WriteFileAtomic(key_path, out.key_pem, 0600));
  BERTH_TRY(WriteFileAtomic(cert_path, out.cert_pem, 0644));
  return out;
}

}  // namespace berth::agent::kubelet
