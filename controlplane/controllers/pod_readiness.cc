#include "controlplane/controllers/pod_readiness.h"

#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

const bj::object* ReadyCondition(const bj::object& pod) {
  const bj::value* status = pod.if_contains("status");
  if (status == nullptr || !status->is_object()) return nullptr;
  const bj::value* conditions = status->as_object().if_contains("conditions");
  if (conditions == nullptr || !conditions->is_array()) return nullptr;
  for (const bj::value& c : conditions->as_array()) {
    if (c.is_object() && StringAt(c.as_object(), {"type"}) == "Ready") return &c.as_object();
  }
  return nullptr;
}

}  // namespace

std::string PodReadyTransitionTime(const bj::object& pod) {
  const bj::object* ready = ReadyCondition(pod);
  return ready != nullptr ? StringAt(*ready, {"lastTransitionTime"}) : "";
}

bool IsPodTerminal(const bj::object& pod) {
  std::string phase = StringAt(pod, {"status", "phase"});
  return phase == "Succeeded" || phase == "Failed";
}

bool IsPodTerminating(const bj::object& pod) {
  return BeingDeleted(pod);
}

std::vector<std::string> PodIps(const bj::object& pod) {
  std::vector<std::string> ips;
  const bj::value* status = pod.if_contains("status");
  if (status == nullptr || !status->is_object()) return ips;
  if (const bj::value* list = status->as_object().if_contains("podIPs"); list && list->is_array()) {
    for (const bj::value& entry : list->as_array()) {
      if (!entry.is_object()) continue;
      std::string ip = StringAt(entry.as_object(), {"ip"});
      if (!ip.empty()) ips.push_back(std::move(ip));
    }
  }
  if (ips.empty()) {
    std::string ip = StringAt(status->as_object(), {"podIP"});
    if (!ip.empty()) ips.push_back(std::move(ip));
  }
  return ips;
}

bool ShouldPodBeInEndpoints(const bj::object& pod, bool include_terminating) {
  if (IsPodTerminal(pod)) return false;
  if (PodIps(pod).empty()) return false;
  return include_terminating || !IsPodTerminating(pod);
}

bool IsIpv6(std::string_view ip) {
  return ip.find(':') != std::string_view::npos;
}

}  // namespace berth::controlplane::controllers
