#include "agent/server/routes.h"

#include <set>

#include "common/strings.h"

namespace berth::agent::kubelet {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Upstream's isSubpath: `path` itself or below it.
bool IsSubpath(std::string_view subpath, std::string_view path) {
  if (path.ends_with('/')) path.remove_suffix(1);
  return subpath == path ||
         (subpath.starts_with(path) && subpath.size() > path.size() && subpath[path.size()] == '/');
}

// The path's segments after `prefix` ("/exec/"), decoded; none may be empty.
bool Segments(std::string_view path, std::string_view prefix, std::vector<std::string>& out) {
  if (!path.starts_with(prefix)) return false;
  for (const std::string& s : Split(path.substr(prefix.size()), '/')) {
    if (s.empty()) return false;
    out.push_back(PercentDecode(s, false));
  }
  return !out.empty();
}

bool Is(std::string_view method, std::initializer_list<std::string_view> allowed) {
  for (std::string_view m : allowed)
    if (method == m) return true;
  return false;
}

}  // namespace

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += plus_is_space && s[i] == '+' ? ' ' : s[i];
  }
  return out;
}

Query::Query(std::string_view raw) {
  for (const std::string& pair : Split(raw, '&')) {
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = PercentDecode(std::string_view(pair).substr(0, eq), true);
    std::string value =
        eq == std::string::npos ? "" : PercentDecode(std::string_view(pair).substr(eq + 1), true);
    values_[key].push_back(std::move(value));
  }
}

std::string Query::Get(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() || it->second.empty() ? std::string() : it->second.front();
}

const std::vector<std::string>& Query::All(const std::string& key) const {
  static const std::vector<std::string> kNone;
  auto it = values_.find(key);
  return it == values_.end() ? kNone : it->second;
}

Route ParseRoute(std::string_view method, std::string_view raw_path) {
  std::string decoded = PercentDecode(raw_path, false);
  std::string_view path = decoded;
  Route r;
  auto only = [&](std::initializer_list<std::string_view> methods, Endpoint e) {
    r.endpoint = Is(method, methods) ? e : Endpoint::kMethodNotAllowed;
  };
  std::vector<std::string> seg;
  auto under = [&](std::string_view prefix, size_t min, size_t max) {
    seg.clear();
    return Segments(path, prefix, seg) && seg.size() >= min && seg.size() <= max;
  };
  if (path == "/healthz" || path == "/healthz/") {
    r.endpoint = Endpoint::kHealthz;
  } else if (path.starts_with("/healthz/") && path.find('/', 9) == std::string_view::npos) {
    r.endpoint = Endpoint::kHealthz;
    r.healthz_check = std::string(path.substr(9));
  } else if (path == "/pods" || path == "/pods/") {
    only({"GET"}, Endpoint::kPods);
  } else if (path == "/runningpods" || path == "/runningpods/") {
    only({"GET"}, Endpoint::kRunningPods);
  } else if (path == "/metrics") {
    r.endpoint = Endpoint::kMetrics;
  } else if (path == "/metrics/resource") {
    r.endpoint = Endpoint::kMetricsResource;
  } else if (path == "/stats/summary" || path == "/stats/summary/") {
    only({"GET"}, Endpoint::kStatsSummary);
  } else if (under("/containerLogs/", 3, 3)) {
    r.namespace_ = seg[0];
    r.pod = seg[1];
    r.container = seg[2];
    only({"GET"}, Endpoint::kContainerLogs);
  } else if (under("/portForward/", 2, 3)) {
    r.namespace_ = seg[0];
    r.pod = seg[1];
    if (seg.size() == 3) r.uid = seg[2];
    only({"GET", "POST"}, Endpoint::kPortForward);
  } else {
    // {ns}/{pod}/{container} or {ns}/{pod}/{uid}/{container}
    struct Command {
      std::string_view prefix;
      Endpoint endpoint;
    };
    for (const Command& c :
         {Command{"/exec/", Endpoint::kExec}, Command{"/attach/", Endpoint::kAttach},
          Command{"/run/", Endpoint::kRun}}) {
      if (!under(c.prefix, 3, 4)) continue;
      r.namespace_ = seg[0];
      r.pod = seg[1];
      if (seg.size() == 4) r.uid = seg[2];
      r.container = seg.back();
      if (c.endpoint == Endpoint::kRun) {
        only({"POST"}, Endpoint::kRun);
      } else {
        only({"GET", "POST"}, c.endpoint);
      }
      break;
    }
  }
  return r;
}

std::string MetricsBucket(std::string_view raw_path) {
  static const std::set<std::string, std::less<>> kBuckets = {"healthz",
                                                              "pods",
                                                              "stats",
                                                              "metrics",
                                                              "metrics/cadvisor",
                                                              "metrics/probes",
                                                              "metrics/resource",
                                                              "run",
                                                              "exec",
                                                              "attach",
                                                              "portForward",
                                                              "containerLogs",
                                                              "configz",
                                                              "runningpods",
                                                              "logs",
                                                              "debug",
                                                              "pprof"};
  std::string path = PercentDecode(raw_path, false);
  std::string_view p = path;
  if (p.starts_with('/')) p.remove_prefix(1);
  size_t first = p.find('/');
  std::string root(p.substr(0, first));
  if (root == "metrics" && first != std::string_view::npos) {
    std::string_view rest = p.substr(first + 1);
    root += "/" + std::string(rest.substr(0, rest.find('/')));
  }
  return kBuckets.count(root) > 0 ? root : "other";
}

std::string ApiVerb(std::string_view method) {
  if (method == "POST") return "create";
  if (method == "GET") return "get";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return "delete";
  return "";
}

std::vector<std::string> AuthzSubresources(std::string_view raw_path) {
  std::string decoded = PercentDecode(raw_path, false);
  std::string_view path = decoded;
  std::vector<std::string> out;
  if (IsSubpath(path, "/pods") || IsSubpath(path, "/runningpods/")) {
    out.emplace_back("pods");
  } else if (IsSubpath(path, "/healthz")) {
    out.emplace_back("healthz");
  } else if (IsSubpath(path, "/configz")) {
    out.emplace_back("configz");
  } else if (IsSubpath(path, "/statusz")) {
    out.emplace_back("statusz");
  }
  if (IsSubpath(path, "/stats/")) {
    out.emplace_back("stats");
  } else if (IsSubpath(path, "/metrics")) {
    out.emplace_back("metrics");
  } else if (IsSubpath(path, "/logs/")) {
    out.emplace_back("log");
  } else if (IsSubpath(path, "/checkpoint/")) {
    out.emplace_back("checkpoint");
  } else {
    out.emplace_back("proxy");
  }
  return out;
}

}  // namespace berth::agent::kubelet
