#include "controlplane/controllers/node_health.h"

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/taints.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

// The conditions a silent node's are set Unknown (NetworkUnavailable is
// the network plugin's, not the kubelet's, and is left alone).
constexpr const char* kKubeletConditions[] = {"Ready", "MemoryPressure", "DiskPressure",
                                              "PIDPressure"};

std::optional<bj::object> Copy(const bj::object* c) {
  if (c == nullptr) return std::nullopt;
  return *c;
}

// The Lease at `now` was renewed after `saved` (both renewTimes).
bool RenewedSince(const std::optional<std::string>& saved, const std::string& now) {
  if (!saved) return true;
  std::optional<WallTime> a = ParseApiTime(*saved), b = ParseApiTime(now);
  if (!a || !b) return *saved != now;
  return *a < *b;
}

void MarkUnknown(bj::object& node, WallTime now) {
  const std::string created = StringAt(node, {"metadata", "creationTimestamp"});
  for (const char* type : kKubeletConditions) {
    if (bj::object* c = FindCondition(node, type)) {
      if (StringAt(*c, {"status"}) == "Unknown") continue;
      (*c)["status"] = "Unknown";
      (*c)["reason"] = "NodeStatusUnknown";
      (*c)["message"] = "Kubelet stopped posting node status.";
      (*c)["lastTransitionTime"] = ApiTime(now);
      continue;
    }
    bj::value& status = node["status"];
    if (!status.is_object()) status = bj::object();
    bj::value& list = status.as_object()["conditions"];
    if (!list.is_array()) list = bj::array();
    list.as_array().push_back(bj::object{{"type", type},
                                         {"status", "Unknown"},
                                         {"reason", "NodeStatusNeverUpdated"},
                                         {"message", "Kubelet never posted node status."},
                                         {"lastHeartbeatTime", created},
                                         {"lastTransitionTime", ApiTime(now)}});
  }
}

}  // namespace

HealthAssessment AssessNodeHealth(bj::object& node, const bj::object* lease,
                                  std::optional<NodeHealth>& health, const HealthGrace& grace,
                                  WallTime now) {
  HealthAssessment out;
  std::optional<bj::object> ready = Copy(FindCondition(node, "Ready"));
  std::chrono::milliseconds period = grace.monitor;
  if (!ready) {
    // Never posted: judged from its creation, with the startup grace.
    const std::string created = StringAt(node, {"metadata", "creationTimestamp"});
    out.observed_ready = {{"type", "Ready"},
                          {"status", "Unknown"},
                          {"lastHeartbeatTime", created},
                          {"lastTransitionTime", created}};
    period = grace.startup;
    if (health) {
      health->ready.reset();
    } else {
      WallTime since = ParseApiTime(created).value_or(now);
      health = NodeHealth{since, since, std::nullopt, std::nullopt};
    }
  } else {
    out.observed_ready = *ready;
  }

  std::optional<bj::object> saved = health ? health->ready : std::nullopt;
  std::optional<std::string> saved_lease = health ? health->lease_renew_time : std::nullopt;
  if (!health) {
    health = NodeHealth{now, now, ready, std::nullopt};
  } else if (!saved && ready) {
    *health = NodeHealth{now, now, ready, saved_lease};
  } else if (saved && !ready) {
    *health = NodeHealth{now, now, std::nullopt, saved_lease};
  } else if (saved && ready &&
             StringAt(*saved, {"lastHeartbeatTime"}) != StringAt(*ready, {"lastHeartbeatTime"})) {
    bool transitioned =
        StringAt(*saved, {"lastTransitionTime"}) != StringAt(*ready, {"lastTransitionTime"});
    *health = NodeHealth{now, transitioned ? now : health->ready_transition, ready, saved_lease};
  }
  if (lease != nullptr) {
    std::string renewed = StringAt(*lease, {"spec", "renewTime"});
    if (!renewed.empty() && RenewedSince(saved_lease, renewed)) {
      health->lease_renew_time = renewed;
      health->probe = now;
    }
  }

  if (now > health->probe + period) {
    MarkUnknown(node, now);
    out.write = Copy(FindCondition(node, "Ready")) != out.observed_ready;
  }
  out.current_ready = Copy(FindCondition(node, "Ready"));
  return out;
}

void Written(const bj::object& node, NodeHealth& health, WallTime now) {
  health.ready = Copy(FindCondition(node, "Ready"));
  health.ready_transition = now;
}

}  // namespace berth::controlplane::controllers
