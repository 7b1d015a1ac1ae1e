#pragma once
// What a kubelet API request asks for: the endpoint and its path
// parameters (kubelet's go-restful routes), the query parameters, and the
// authorization attributes upstream derives from the path
// (pkg/kubelet/server/auth.go, with KubeletFineGrainedAuthz on as in 1.33).

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace berth::agent::kubelet {

// Decoded query parameters (Go's url.ParseQuery: '+' is a space).
class Query {
 public:
  explicit Query(std::string_view raw);
  bool Has(const std::string& key) const { return values_.count(key) > 0; }
  // The first value, "" when absent.
  std::string Get(const std::string& key) const;
  const std::vector<std::string>& All(const std::string& key) const;

 private:
  std::map<std::string, std::vector<std::string>> values_;
};

// %XX and '+' decoded (a query value); `plus_is_space` false for a path.
std::string PercentDecode(std::string_view s, bool plus_is_space);

enum class Endpoint {
  kNotFound,
  kMethodNotAllowed,
  kHealthz,  // /healthz, /healthz/<check>
  kPods,
  kRunningPods,
  kContainerLogs,
  kExec,
  kAttach,
  kPortForward,
  kRun,
  kMetrics,
  kMetricsResource,
  kStatsSummary,
};

struct Route {
  Endpoint endpoint = Endpoint::kNotFound;
  std::string namespace_;
  std::string pod;
  std::string uid;  // optional in exec/attach/portForward/run
  std::string container;
  std::string healthz_check;  // "ping", "log", "syncloop", "" for all
};

// `path` as sent (percent-encoded).
Route ParseRoute(std::string_view method, std::string_view path);

// Upstream's label for a path in kubelet_http_requests_total
// ("containerLogs", "metrics/cadvisor", ... or "other").
std::string MetricsBucket(std::string_view path);
// The verb the request's HTTP method maps to ("get", "create", ...; "" for
// others, as upstream).
std::string ApiVerb(std::string_view method);
// The nodes subresources to authorize, in the order upstream tries them:
// the request is allowed when any one is.
std::vector<std::string> AuthzSubresources(std::string_view path);

}  // namespace berth::agent::kubelet
