#include "agent/pods/sandbox_config.h"

#include <unistd.h>

#include <algorithm>
#include <map>

#include "agent/pods/pod_spec.h"
#include "common/file.h"
#include "common/strings.h"
#include "controlplane/client/api_util.h"

namespace berth::agent {

using controlplane::client::StringAt;
using controlplane::client::ValueAt;

namespace {

constexpr size_t kMaxDnsNameservers = 3;
constexpr size_t kMaxDnsSearches = 32;

struct ResolvConf {
  std::vector<std::string> servers, searches, options;
};

std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  for (char c : line) {
    if (c == ' ' || c == '\t' || c == '\r') {
      if (!field.empty()) out.push_back(std::move(field));
      field.clear();
    } else {
      field += c;
    }
  }
  if (!field.empty()) out.push_back(std::move(field));
  return out;
}

// The host's DNS (upstream getHostDNSConfig / parseResolvConf). An empty
// path means the host resolves locally; an unreadable file is an error
// (the sandbox is not made without DNS).
Result<ResolvConf> ReadResolvConf(const std::string& path) {
  ResolvConf out;
  if (path.empty()) {
    out.servers = {"127.0.0.1"};
    out.searches = {"."};
    return out;
  }
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return Error(text.error().code(), "resolvConf: " + text.error().str());
  for (const std::string& line : SplitNonEmpty(*text, '\n')) {
    std::vector<std::string> f = Fields(line);
    if (f.empty() || f[0].starts_with('#') || f[0].starts_with(';')) continue;
    std::vector<std::string> rest(f.begin() + 1, f.end());
    if (f[0] == "nameserver" && !rest.empty()) out.servers.push_back(rest[0]);
    if (f[0] == "search") {
      out.searches.clear();  // the last search line wins
      for (std::string& s : rest) {
        if (s.size() > 1 && s.back() == '.') s.pop_back();
        out.searches.push_back(std::move(s));
      }
    }
    if (f[0] == "options") out.options = rest;  // so does the last options line
  }
  return out;
}

// Upstream formDNSSearchFitsLimits: no search longer than 253 characters,
// at most 32 of them, and a search line of at most 2048 characters.
void FitSearches(std::vector<std::string>& searches) {
  constexpr size_t kMaxSearchLength = 253;
  constexpr size_t kMaxSearchLine = 2048;
  std::erase_if(searches, [](const std::string& s) { return s.size() > kMaxSearchLength; });
  if (searches.size() > kMaxDnsSearches) searches.resize(kMaxDnsSearches);
  auto line_length = [&] {
    size_t n = 0;
    for (const std::string& s : searches)
      n += s.size() + (n == 0 ? 0 : 1);
    return n;
  };
  while (!searches.empty() && line_length() > kMaxSearchLine)
    searches.pop_back();
}

void AppendUnique(std::vector<std::string>& to, const std::string& value) {
  if (std::find(to.begin(), to.end(), value) == to.end()) to.push_back(value);
}

std::string OptionName(const std::string& option) {
  return option.substr(0, option.find(':'));
}

// spec.dnsConfig on top of what the policy gave (upstream appendDNSConfig).
void MergeDnsConfig(const bj::object& pod, ResolvConf& dns) {
  const bj::value* config = ValueAt(pod, {"spec", "dnsConfig"});
  if (config == nullptr || !config->is_object()) return;
  const bj::object& c = config->get_object();
  if (const bj::value* ns = c.if_contains("nameservers"); ns != nullptr && ns->is_array()) {
    for (const bj::value& v : ns->get_array())
      if (v.is_string()) AppendUnique(dns.servers, std::string(v.get_string()));
  }
  if (const bj::value* s = c.if_contains("searches"); s != nullptr && s->is_array()) {
    for (const bj::value& v : s->get_array())
      if (v.is_string()) AppendUnique(dns.searches, std::string(v.get_string()));
  }
  if (const bj::value* o = c.if_contains("options"); o != nullptr && o->is_array()) {
    for (const bj::value& v : o->get_array()) {
      if (!v.is_object()) continue;
      std::string name = StringAt(v.get_object(), {"name"});
      std::string value = StringAt(v.get_object(), {"value"});
      std::string option = value.empty() ? name : name + ":" + value;
      std::erase_if(dns.options, [&](const std::string& x) { return OptionName(x) == name; });
      dns.options.push_back(option);
    }
  }
}

}  // namespace

Result<v1::DNSConfig> PodDns(const bj::object& pod, const PodOptions& options) {
  std::string policy = StringAt(pod, {"spec", "dnsPolicy"});
  if (policy.empty()) policy = "ClusterFirst";
  bool cluster =
      (policy == "ClusterFirst" && !HostNetwork(pod)) || policy == "ClusterFirstWithHostNet";
  // Without cluster DNS configured kubelet falls back to the host's.
  if (cluster && options.cluster_dns.empty()) cluster = false;
  ResolvConf host = BERTH_TRY(ReadResolvConf(options.resolv_conf));
  ResolvConf dns;
  if (policy == "None") {
    // only spec.dnsConfig
  } else if (cluster) {
    PodId id = IdOf(pod);
    dns.servers = options.cluster_dns;
    const std::string& d = options.cluster_domain;
    dns.searches = {id.namespace_ + ".svc." + d, "svc." + d, d};
    for (const std::string& s : host.searches)
      if (s != ".") AppendUnique(dns.searches, s);
    dns.options = {"ndots:5"};
  } else if (policy == "Default" || policy == "ClusterFirst" ||
             policy == "ClusterFirstWithHostNet") {
    dns = host;
  } else {
    return Error(Errc::kInvalidArgument, "spec.dnsPolicy: unsupported value \"" + policy + "\"");
  }
  MergeDnsConfig(pod, dns);
  if (dns.servers.size() > kMaxDnsNameservers) dns.servers.resize(kMaxDnsNameservers);
  FitSearches(dns.searches);
  v1::DNSConfig out;
  for (const std::string& s : dns.servers)
    out.add_servers(s);
  for (const std::string& s : dns.searches)
    out.add_searches(s);
  for (const std::string& s : dns.options)
    out.add_options(s);
  return out;
}

std::string PodCgroupParent(const bj::object& pod, const PodOptions& options) {
  std::string root = options.cgroup_root;
  while (!root.empty() && root.back() == '/')
    root.pop_back();
  std::string qos = QosClass(pod);
  std::string parent = root + "/kubepods";
  if (qos == "Burstable") parent += "/burstable";
  if (qos == "BestEffort") parent += "/besteffort";
  return parent + "/pod" + IdOf(pod).uid;
}

std::string PodLogDirectory(const bj::object& pod, const PodOptions& options) {
  PodId id = IdOf(pod);
  return options.pod_logs_dir + "/" + id.namespace_ + "_" + id.name + "_" + id.uid;
}

Result<v1::PodSandboxConfig> BuildSandboxConfig(const bj::object& pod, const PodOptions& options,
                                                uint32_t attempt) {
  PodId id = IdOf(pod);
  v1::PodSandboxConfig c;
  c.mutable_metadata()->set_name(id.name);
  c.mutable_metadata()->set_namespace_(id.namespace_);
  c.mutable_metadata()->set_uid(id.uid);
  c.mutable_metadata()->set_attempt(attempt);
  if (HostNetwork(pod)) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    c.set_hostname(host);
  } else {
    std::string hostname = StringAt(pod, {"spec", "hostname"});
    if (hostname.empty()) hostname = id.name;
    if (hostname.size() > 63) hostname.resize(63);
    while (!hostname.empty() && (hostname.back() == '-' || hostname.back() == '.'))
      hostname.pop_back();
    // setHostnameAsFQDN: the kernel's hostname is the pod's FQDN
    // (upstream GetNodenameForKernel), at most 64 characters.
    std::string subdomain = StringAt(pod, {"spec", "subdomain"});
    const bj::value* fqdn = ValueAt(pod, {"spec", "setHostnameAsFQDN"});
    if (fqdn != nullptr && fqdn->is_bool() && fqdn->get_bool() && !subdomain.empty()) {
      hostname += "." + subdomain + "." + id.namespace_ + ".svc." + options.cluster_domain;
      if (hostname.size() > 64) {
        return Error(Errc::kInvalidArgument,
                     "failed to construct FQDN from pod hostname and cluster domain, FQDN " +
                         hostname + " is too long (64 characters is the max, " +
                         std::to_string(hostname.size()) + " characters requested)");
      }
    }
    c.set_hostname(hostname);
  }
  c.set_log_directory(PodLogDirectory(pod, options));
  *c.mutable_dns_config() = BERTH_TRY(PodDns(pod, options));

  for (const bj::value& cv : Containers(pod)) {
    const bj::value* ports = cv.is_object() ? cv.get_object().if_contains("ports") : nullptr;
    if (ports == nullptr || !ports->is_array()) continue;
    for (const bj::value& pv : ports->get_array()) {
      if (!pv.is_object()) continue;
      const bj::object& p = pv.get_object();
      const bj::value* host_port = p.if_contains("hostPort");
      if (host_port == nullptr || !host_port->is_int64() || host_port->get_int64() == 0) continue;
      v1::PortMapping* m = c.add_port_mappings();
      std::string protocol = StringAt(p, {"protocol"});
      m->set_protocol(protocol == "UDP" ? v1::UDP : protocol == "SCTP" ? v1::SCTP : v1::TCP);
      const bj::value* container_port = p.if_contains("containerPort");
      if (container_port != nullptr && container_port->is_int64())
        m->set_container_port(static_cast<int32_t>(container_port->get_int64()));
      m->set_host_port(static_cast<int32_t>(host_port->get_int64()));
      m->set_host_ip(StringAt(p, {"hostIP"}));
    }
  }

  auto& labels = *c.mutable_labels();
  if (const bj::value* l = ValueAt(pod, {"metadata", "labels"}); l != nullptr && l->is_object()) {
    for (const auto& [k, v] : l->get_object())
      if (v.is_string()) labels[std::string(k)] = std::string(v.get_string());
  }
  labels[kPodNameLabel] = id.name;
  labels[kPodNamespaceLabel] = id.namespace_;
  labels[kPodUidLabel] = id.uid;
  auto& annotations = *c.mutable_annotations();
  if (const bj::value* a = ValueAt(pod, {"metadata", "annotations"});
      a != nullptr && a->is_object()) {
    for (const auto& [k, v] : a->get_object())
      if (v.is_string()) annotations[std::string(k)] = std::string(v.get_string());
  }

  v1::LinuxPodSandboxConfig* linux = c.mutable_linux();
  linux->set_cgroup_parent(PodCgroupParent(pod, options));
  v1::LinuxSandboxSecurityContext* sc = linux->mutable_security_context();
  auto flag = [&](std::string_view field) {
    const bj::value* v = ValueAt(pod, {"spec", field});
    return v != nullptr && v->is_bool() && v->get_bool();
  };
  // The sandbox always runs under the runtime's default profile
  // (kubernetes#84623), whatever the containers ask for.
  sc->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  v1::NamespaceOption* ns = sc->mutable_namespace_options();
  ns->set_network(HostNetwork(pod) ? v1::NODE : v1::POD);
  ns->set_pid(flag("hostPID") ? v1::NODE : flag("shareProcessNamespace") ? v1::POD : v1::CONTAINER);
  ns->set_ipc(flag("hostIPC") ? v1::NODE : v1::POD);
  const bj::value* psc = ValueAt(pod, {"spec", "securityContext"});
  if (psc != nullptr && psc->is_object()) {
    const bj::object& s = psc->get_object();
    if (const bj::value* u = s.if_contains("runAsUser"); u != nullptr && u->is_int64())
      sc->mutable_run_as_user()->set_value(u->get_int64());
    if (const bj::value* g = s.if_contains("runAsGroup"); g != nullptr && g->is_int64())
      sc->mutable_run_as_group()->set_value(g->get_int64());
    if (const bj::value* groups = s.if_contains("supplementalGroups");
        groups != nullptr && groups->is_array()) {
      for (const bj::value& g : groups->get_array())
        if (g.is_int64()) sc->add_supplemental_groups(g.get_int64());
    }
    if (const bj::value* g = s.if_contains("fsGroup"); g != nullptr && g->is_int64())
      sc->add_supplemental_groups(g->get_int64());
    if (const bj::value* sysctls = s.if_contains("sysctls");
        sysctls != nullptr && sysctls->is_array()) {
      for (const bj::value& sv : sysctls->get_array()) {
        if (!sv.is_object()) continue;
        (*linux->mutable_sysctls())[StringAt(sv.get_object(), {"name"})] =
            StringAt(sv.get_object(), {"value"});
      }
    }
  }
  for (const bj::array* list : {&Containers(pod), &InitContainers(pod)}) {
    for (const bj::value& cv : *list) {
      const bj::value* p =
          cv.is_object() ? ValueAt(cv.get_object(), {"securityContext", "privileged"}) : nullptr;
      if (p != nullptr && p->is_bool() && p->get_bool()) sc->set_privileged(true);
    }
  }
  return c;
}

}  // namespace berth::agent
