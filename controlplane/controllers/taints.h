#pragma once
// Taints, tolerations and node conditions as upstream's helpers read them
// (k8s.io/api core/v1 Taint.MatchTaint, Toleration.ToleratesTaint,
// v1helper.GetMatchingTolerations), on the objects' JSON.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/controllers/api_time.h"

namespace berth::controlplane::controllers {

// The well-known taint keys (k8s.io/api core/v1 well_known_taints.go).
inline constexpr char kTaintNotReady[] = "node.kubernetes.io/not-ready";
inline constexpr char kTaintUnreachable[] = "node.kubernetes.io/unreachable";
inline constexpr char kTaintUnschedulable[] = "node.kubernetes.io/unschedulable";
inline constexpr char kTaintMemoryPressure[] = "node.kubernetes.io/memory-pressure";
inline constexpr char kTaintDiskPressure[] = "node.kubernetes.io/disk-pressure";
inline constexpr char kTaintNetworkUnavailable[] = "node.kubernetes.io/network-unavailable";
inline constexpr char kTaintPidPressure[] = "node.kubernetes.io/pid-pressure";
inline constexpr char kTaintOutOfService[] = "node.kubernetes.io/out-of-service";

inline constexpr char kNoExecute[] = "NoExecute";
inline constexpr char kNoSchedule[] = "NoSchedule";

// {key, effect}, with timeAdded when `added` is given.
boost::json::object MakeTaint(std::string_view key, std::string_view effect,
                              std::optional<WallTime> added = std::nullopt);
// Same key and effect (Taint.MatchTaint): the identity of a taint on a node.
bool MatchTaint(const boost::json::object& a, const boost::json::object& b);
// The node's spec.taints (non-objects skipped).
std::vector<boost::json::object> TaintsOf(const boost::json::object& node);
std::vector<boost::json::object> NoExecuteTaints(const boost::json::object& node);
// The node has a taint matching `taint` (key and effect).
bool HasTaint(const boost::json::object& node, const boost::json::object& taint);
bool HasTaintKey(const boost::json::object& node, std::string_view key);

// Toleration.ToleratesTaint: effect empty or equal, key empty or equal,
// operator Exists, or Equal ("" too) with an equal value.
bool ToleratesTaint(const boost::json::object& toleration, const boost::json::object& taint);

// A NoExecute taint on a node and since when it counts: its timeAdded,
// else when the controller first saw it.
struct TaintSince {
  boost::json::object taint;
  WallTime since;
};
// When a pod with `tolerations` must leave a node with `taints` (NoExecute
// ones): at once (`now`) when one of them is not tolerated; else for each
// taint, its start plus the tolerationSeconds of the first toleration
// that tolerates it (a toleration without seconds tolerates it forever;
// zero or less means at once), the earliest of those; nullopt: never.
std::optional<WallTime> EvictionTime(const std::vector<TaintSince>& taints,
                                     const boost::json::array& tolerations, WallTime now);

// The object's status.conditions entry of `type`; nullptr when absent.
const boost::json::object* FindCondition(const boost::json::object& obj, std::string_view type);
boost::json::object* FindCondition(boost::json::object& obj, std::string_view type);
// Its status ("True", "False", "Unknown"); "" when absent.
std::string ConditionStatus(const boost::json::object& obj, std::string_view type);

}  // namespace berth::controlplane::controllers
