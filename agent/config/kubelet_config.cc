#include "agent/config/kubelet_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <set>

#include "agent/config/duration.h"
#include "agent/config/quantity.h"
#include "agent/config/yaml_json.h"
#include "common/file.h"
#include "common/json.h"
#include "common/strings.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using json::Field;

constexpr char kApiVersion[] = "kubelet.config.k8s.io/v1beta1";
constexpr char kKind[] = "KubeletConfiguration";

// Fields of upstream's v1beta1 KubeletConfiguration that berth reads but
// does not act on: a warning each, never an error.
const std::set<std::string, std::less<>>& IgnoredFields() {
  static const std::set<std::string, std::less<>> fields = {
      "allowedUnsafeSysctls",
      "cgroupsPerQOS",
      "configMapAndSecretChangeDetectionStrategy",
      "containerLogMaxFiles",
      "containerLogMaxSize",
      "containerLogMaxWorkers",
      "containerLogMonitorInterval",
      "contentType",
      "cpuCFSQuota",
      "cpuCFSQuotaPeriod",
      "cpuManagerPolicy",
      "cpuManagerPolicyOptions",
      "cpuManagerReconcilePeriod",
      "crashLoopBackOff",
      "enableContentionProfiling",
      "enableControllerAttachDetach",
      "enableDebugFlagsHandler",
      "enableDebuggingHandlers",
      "enableProfilingHandler",
      "enableServer",
      "enableSystemLogHandler",
      "enableSystemLogQuery",
      "enforceNodeAllocatable",
      "eventBurst",
      "eventRecordQPS",
      "evictionMaxPodGracePeriod",
      "evictionMinimumReclaim",
      "evictionSoft",
      "evictionSoftGracePeriod",
      "failCgroupV1",
      "failSwapOn",
      "featureGates",
      "fileCheckFrequency",
      "hairpinMode",
      "healthzBindAddress",
      "healthzPort",
      "httpCheckFrequency",
      "imageGCHighThresholdPercent",
      "imageGCLowThresholdPercent",
      "imageMaximumGCAge",
      "imageMinimumGCAge",
      "imagePullCredentialsVerificationPolicy",
      "imageServiceEndpoint",
      "iptablesDropBit",
      "iptablesMasqueradeBit",
      "kernelMemcgNotification",
      "kubeReservedCgroup",
      "kubeletCgroups",
      "localStorageCapacityIsolation",
      "logging",
      "makeIPTablesUtilChains",
      "maxOpenFiles",
      "memoryManagerPolicy",
      "memorySwap",
      "memoryThrottlingFactor",
      "mergeDefaultEvictionSettings",
      "oomScoreAdj",
      "podPidsLimit",
      "podsPerCore",
      "preloadedImagesVerificationAllowlist",
      "protectKernelDefaults",
      "providerID",
      "qosReserved",
      "readOnlyPort",
      "registryBurst",
      "registryPullQPS",
      "reservedMemory",
      "reservedSystemCPUs",
      "rotateCertificates",
      "seccompDefault",
      "serverTLSBootstrap",
      "showHiddenMetricsForVersion",
      "shutdownGracePeriod",
      "shutdownGracePeriodByPodPriority",
      "shutdownGracePeriodCriticalPods",
      "singleProcessOOMKill",
      "staticPodURL",
      "staticPodURLHeader",
      "streamingConnectionIdleTimeout",
      "systemCgroups",
      "systemReservedCgroup",
      "tlsCipherSuites",
      "tlsMinVersion",
      "topologyManagerPolicy",
      "topologyManagerPolicyOptions",
      "topologyManagerScope",
      "tracing",
      "userNamespaces",
      "volumePluginDir",
      "volumeStatsAggPeriod",
  };
  return fields;
}

// AF_INET or AF_INET6 for an IP literal, 0 otherwise.
int IpFamily(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return AF_INET;
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return AF_INET6;
  return 0;
}

bool IsCidr(const std::string& s) {
  std::vector<std::string> parts = Split(s, '/');
  if (parts.size() != 2) return false;
  int family = IpFamily(parts[0]);
  Result<int> prefix = ParseInt<int>(parts[1], "prefix");
  return family != 0 && prefix.ok() && *prefix >= 0 && *prefix <= (family == AF_INET ? 32 : 128);
}

struct Parser {
  const std::string& path;  // the file
  std::string dir;          // its directory, for relative paths
  KubeletConfig& c;
  std::vector<std::string>& warnings;
  bool update_frequency_set = false;
  bool report_frequency_set = false;

  Error Bad(const Field& f, const std::string& why) const {
    return Error(Errc::kInvalidArgument, f.path() + ": " + why);
  }
  void Warn(const std::string& what) { warnings.push_back(path + ": " + what); }

  std::string Resolve(const std::string& p) const {
    if (p.empty() || p.starts_with("/")) return p;
    return CleanPath(PathJoin(dir, p));
  }

  static Result<std::chrono::milliseconds> Millis(const Field& f) {
    std::string text = BERTH_TRY(f.String());
    auto ns = BERTH_TRY(ParseGoDuration(text, f.path()));
    return std::chrono::duration_cast<std::chrono::milliseconds>(ns);
  }
  Result<std::chrono::milliseconds> PositiveMillis(const Field& f) const {
    auto d = BERTH_TRY(Millis(f));
    if (d.count() <= 0) return Bad(f, "must be greater than 0, got \"" + *f.String() + "\"");
    return d;
  }
  Result<int> NonNegative(const Field& f) const {
    int v = BERTH_TRY(f.Int<int32_t>());
    if (v < 0) return Bad(f, "must not be a negative number, got " + std::to_string(v));
    return v;
  }
  Result<std::string> Ip(const Field& f) const {
    std::string s = BERTH_TRY(f.String());
    if (IpFamily(s) == 0) return Bad(f, "\"" + s + "\" is not an IP address");
    return s;
  }
  // A map of quantities. YAML numbers count as their text, as upstream's
  // decoder turns them into strings for string fields ("pid: 1000").
  Result<std::vector<std::pair<std::string, std::string>>> QuantityMap(const Field& f) const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [name, value] : BERTH_TRY(f.Members())) {
      const bj::value* v = value.raw();
      if (v->is_int64() || v->is_uint64()) {
        out.emplace_back(name, bj::serialize(*v));
      } else if (v->is_double()) {
        char buf[64];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v->get_double());
        out.emplace_back(name, std::string(buf, end));
      } else {
        out.emplace_back(name, BERTH_TRY(value.String()));
      }
    }
    return out;
  }
  Result<std::map<std::string, std::string>> Reserved(const Field& f) const {
    std::map<std::string, std::string> out;
    for (const auto& [name, value] : BERTH_TRY(QuantityMap(f))) {
      std::string field = f.path() + "[" + name + "]";
      if (name != "cpu" && name != "memory" && name != "ephemeral-storage" && name != "pid") {
        return Error(Errc::kInvalidArgument, field + ": cannot reserve \"" + name +
                                                 "\" (cpu, memory, ephemeral-storage or pid)");
      }
      if (BERTH_TRY(ParseQuantityMilli(value, field)) < 0) {
        return Error(Errc::kInvalidArgument,
                     field + ": must not be negative, got \"" + value + "\"");
      }
      out[name] = value;
    }
    return out;
  }
  Result<bj::array> Taints(const Field& f) const {
    bj::array out;
    size_t i = 0;
    for (const Field& t : BERTH_TRY(f.Items())) {
      Field item(t.raw(), f.path() + "[" + std::to_string(i++) + "]");
      BERTH_TRY(item.ExpectObject());
      std::string key = BERTH_TRY(item["key"].String());
      if (key.empty()) return Bad(item["key"], "required");
      std::string effect = BERTH_TRY(item["effect"].String());
      if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
        return Bad(item["effect"], "\"" + effect +
                                       "\" is not a taint effect (NoSchedule, PreferNoSchedule, "
                                       "NoExecute)");
      }
      BERTH_TRY(item["value"].OptString());
      out.push_back(*t.raw());
    }
    return out;
  }

  // Every member of `obj` must be in `known`; the rest are warnings.
  void UnknownMembers(const Field& obj, std::initializer_list<std::string_view> known) {
    if (!obj.present() || !obj.raw()->is_object()) return;
    for (const auto& kv : obj.raw()->as_object()) {
      if (std::find(known.begin(), known.end(), kv.key()) == known.end()) {
        Warn("unknown field \"" + obj.path() + "." + std::string(kv.key()) + "\"");
      }
    }
  }

  Status Authentication(const Field& f) {
    BERTH_TRY(f.ExpectObject());
    UnknownMembers(f, {"x509", "webhook", "anonymous"});
    UnknownMembers(f["x509"], {"clientCAFile"});
    UnknownMembers(f["webhook"], {"enabled", "cacheTTL"});
    UnknownMembers(f["anonymous"], {"enabled"});
    if (auto ca = BERTH_TRY(f["x509"]["clientCAFile"].OptString())) {
      c.authentication.x509_client_ca_file = Resolve(*ca);
    }
    c.authentication.webhook_enabled = BERTH_TRY(f["webhook"]["enabled"].Bool(true));
    if (f["webhook"]["cacheTTL"].present()) {
      c.authentication.webhook_cache_ttl = BERTH_TRY(Millis(f["webhook"]["cacheTTL"]));
    }
    c.authentication.anonymous_enabled = BERTH_TRY(f["anonymous"]["enabled"].Bool(false));
    return Ok();
  }

  Status Authorization(const Field& f) {
    BERTH_TRY(f.ExpectObject());
    UnknownMembers(f, {"mode", "webhook"});
    UnknownMembers(f["webhook"], {"cacheAuthorizedTTL", "cacheUnauthorizedTTL"});
    if (auto mode = BERTH_TRY(f["mode"].OptString())) {
      if (*mode != "Webhook" && *mode != "AlwaysAllow") {
        return Bad(f["mode"],
                   "\"" + *mode + "\" is not an authorization mode (Webhook or AlwaysAllow)");
      }
      c.authorization.mode = *mode;
    }
    if (f["webhook"]["cacheAuthorizedTTL"].present()) {
      c.authorization.webhook_cache_authorized_ttl =
          BERTH_TRY(Millis(f["webhook"]["cacheAuthorizedTTL"]));
    }
    if (f["webhook"]["cacheUnauthorizedTTL"].present()) {
      c.authorization.webhook_cache_unauthorized_ttl =
          BERTH_TRY(Millis(f["webhook"]["cacheUnauthorizedTTL"]));
    }
    return Ok();
  }

  // Applies one top-level field; false when berth does not know it.
  Result<bool> Apply(const std::string& name, const Field& f) {
    if (name == "address") {
      c.address = BERTH_TRY(Ip(f));
    } else if (name == "port") {
      int port = BERTH_TRY(f.Int<int32_t>());
      if (port < 1 || port > 65535) {
        return Bad(f, "must be between 1 and 65535, inclusive, got " + std::to_string(port));
      }
      c.port = static_cast<uint16_t>(port);
    } else if (name == "clusterDNS") {
      c.cluster_dns.clear();
      size_t i = 0;
      for (const Field& ip : BERTH_TRY(f.Items()))
        c.cluster_dns.push_back(
            BERTH_TRY(Ip(Field(ip.raw(), f.path() + "[" + std::to_string(i++) + "]"))));
    } else if (name == "clusterDomain") {
      c.cluster_domain = BERTH_TRY(f.String());
    } else if (name == "maxPods") {
      c.max_pods = BERTH_TRY(NonNegative(f));
    } else if (name == "podCIDR") {
      std::string cidr = BERTH_TRY(f.String());
      if (!cidr.empty() && !IsCidr(cidr)) return Bad(f, "\"" + cidr + "\" is not a CIDR");
      c.pod_cidr = cidr;
    } else if (name == "cgroupRoot") {
      c.cgroup_root = BERTH_TRY(f.String());
    } else if (name == "cgroupDriver") {
      std::string driver = BERTH_TRY(f.String());
      if (driver != "cgroupfs") {
        return Bad(f, "\"" + driver +
                          "\" is not supported: berth manages cgroups itself and accepts "
                          "only cgroupDriver: cgroupfs");
      }
      c.cgroup_driver = driver;
    } else if (name == "staticPodPath") {
      c.static_pod_path = Resolve(BERTH_TRY(f.String()));
    } else if (name == "syncFrequency") {
      c.sync_frequency = BERTH_TRY(PositiveMillis(f));
    } else if (name == "nodeStatusUpdateFrequency") {
      c.node_status_update_frequency = BERTH_TRY(PositiveMillis(f));
      update_frequency_set = true;
    } else if (name == "nodeStatusReportFrequency") {
      c.node_status_report_frequency = BERTH_TRY(PositiveMillis(f));
      report_frequency_set = true;
    } else if (name == "nodeLeaseDurationSeconds") {
      int v = BERTH_TRY(f.Int<int32_t>());
      if (v <= 0) return Bad(f, "must be greater than 0, got " + std::to_string(v));
      c.node_lease_duration_seconds = v;
    } else if (name == "nodeStatusMaxImages") {
      int v = BERTH_TRY(f.Int<int32_t>());
      if (v < -1) return Bad(f, "must be -1 (no cap) or more, got " + std::to_string(v));
      c.node_status_max_images = v;
    } else if (name == "systemReserved") {
      c.system_reserved = BERTH_TRY(Reserved(f));
    } else if (name == "kubeReserved") {
      c.kube_reserved = BERTH_TRY(Reserved(f));
    } else if (name == "evictionHard") {
      auto entries = BERTH_TRY(QuantityMap(f));
      c.eviction_hard = BERTH_TRY(ParseEvictionThresholds(entries, f.path()));
    } else if (name == "evictionPressureTransitionPeriod") {
      c.eviction_pressure_transition_period = BERTH_TRY(Millis(f));
    } else if (name == "serializeImagePulls") {
      c.serialize_image_pulls = BERTH_TRY(f.Bool());
    } else if (name == "maxParallelImagePulls") {
      int v = BERTH_TRY(f.Int<int32_t>());
      if (v < 1) return Bad(f, "must be 1 or more, got " + std::to_string(v));
      c.max_parallel_image_pulls = v;
    } else if (name == "authentication") {
      BERTH_TRY(Authentication(f));
    } else if (name == "authorization") {
      BERTH_TRY(Authorization(f));
    } else if (name == "tlsCertFile") {
      c.tls_cert_file = Resolve(BERTH_TRY(f.String()));
    } else if (name == "tlsPrivateKeyFile") {
      c.tls_private_key_file = Resolve(BERTH_TRY(f.String()));
    } else if (name == "registerWithTaints") {
      c.register_with_taints = BERTH_TRY(Taints(f));
    } else if (name == "registerNode") {
      c.register_node = BERTH_TRY(f.Bool(true));
    } else if (name == "kubeAPIQPS") {
      c.kube_api_qps = BERTH_TRY(NonNegative(f));
    } else if (name == "kubeAPIBurst") {
      c.kube_api_burst = BERTH_TRY(NonNegative(f));
    } else if (name == "runtimeRequestTimeout") {
      c.runtime_request_timeout = BERTH_TRY(PositiveMillis(f));
    } else if (name == "containerRuntimeEndpoint") {
      c.container_runtime_endpoint = BERTH_TRY(f.String());
    } else if (name == "podLogsDir") {
      std::string dir = BERTH_TRY(f.String());
      if (!dir.starts_with("/")) return Bad(f, "must be an absolute path, got \"" + dir + "\"");
      c.pod_logs_dir = CleanPath(dir);
    } else if (name == "resolvConf") {
      c.resolv_conf = Resolve(BERTH_TRY(f.String()));
    } else {
      return false;
    }
    return true;
  }
};

}  // namespace

Result<LoadedKubeletConfig> ParseKubeletConfig(std::string_view text, const std::string& path) {
  bj::value doc = BERTH_TRY(YamlToJson(text, path));
  if (!doc.is_object()) {
    return Error(Errc::kInvalidArgument, path + ": a KubeletConfiguration must be an object");
  }
  Field root(&doc, "");
  std::string kind = BERTH_TRY_CTX(root["kind"].OptString(), path).value_or("");
  std::string api_version = BERTH_TRY_CTX(root["apiVersion"].OptString(), path).value_or("");
  if (kind != kKind || api_version != kApiVersion) {
    return Error(Errc::kInvalidArgument, path + ": not a " + std::string(kKind) + " of " +
                                             kApiVersion + " (kind \"" + kind +
                                             "\", apiVersion \"" + api_version + "\")");
  }
  LoadedKubeletConfig out;
  Parser p{path, Dirname(path), out.config, out.warnings};
  for (const auto& kv : doc.as_object()) {
    std::string name(kv.key());
    if (name == "kind" || name == "apiVersion") continue;
    // A null field is an unset one (Go decodes null into the zero value).
    if (kv.value().is_null()) continue;
    bool known = BERTH_TRY_CTX(p.Apply(name, Field(&kv.value(), name)), path);
    if (known) continue;
    if (IgnoredFields().contains(name)) {
      p.Warn("field \"" + name + "\" is not supported by berth and is ignored");
    } else {
      p.Warn("unknown field \"" + name + "\"");
    }
  }
  // As upstream's defaulting: an explicit update frequency without a
  // report frequency reports at the update frequency.
  if (p.update_frequency_set && !p.report_frequency_set) {
    out.config.node_status_report_frequency = out.config.node_status_update_frequency;
  }
  return out;
}

Result<LoadedKubeletConfig> LoadKubeletConfig(const std::string& path) {
  std::string text = BERTH_TRY_CTX(ReadFile(path), "kubelet config");
  return ParseKubeletConfig(text, path);
}

}  // namespace berth::agent
