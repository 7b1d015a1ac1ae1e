#pragma once
// The node lifecycle controller's judgement of one node's health, as
// upstream's tryUpdateNodeHealth makes it, without the write: the node
// is heard from when its Ready condition's lastHeartbeatTime changes or
// its Lease (kube-node-lease/<node>) is renewed, timed by the
// controller's own clock (probe), not by the timestamps, so clock skew
// between kubelet and controller does not matter. A node not heard from
// for the grace period (the startup grace period when it never posted
// Ready) has its Ready, MemoryPressure, DiskPressure and PIDPressure
// conditions set Unknown.

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "controlplane/controllers/api_time.h"

namespace berth::controlplane::controllers {

// What the controller remembers of a node between looks (nodeHealthData).
struct NodeHealth {
  WallTime probe;                               // when it was last heard from
  WallTime ready_transition;                    // when its Ready condition last changed
  std::optional<boost::json::object> ready;     // its Ready condition as last seen
  std::optional<std::string> lease_renew_time;  // of the Lease last seen
};

struct HealthGrace {
  // --node-monitor-grace-period: 40 s, upstream's default through 1.31
  // (1.32 moved it to 50 s); berth's agent renews its Lease every 10 s.
  std::chrono::milliseconds monitor{40000};
  std::chrono::milliseconds startup{60000};  // --node-startup-grace-period
};

struct HealthAssessment {
  // The Ready condition as the node had it (a stand-in, Unknown since its
  // creation, when it had none): upstream's observedReadyCondition.
  boost::json::object observed_ready;
  // Its Ready condition now (after the changes below); nullopt when the
  // node has none.
  std::optional<boost::json::object> current_ready;
  // `node`'s status was changed and must be written (PUT nodes/<n>/status).
  bool write = false;
};

// Looks at `node` (changed in place when stale), its Lease (nullptr when
// none) and what was remembered (`health`, made when absent, updated).
// After a successful write the caller records it with Written.
HealthAssessment AssessNodeHealth(boost::json::object& node, const boost::json::object* lease,
                                  std::optional<NodeHealth>& health, const HealthGrace& grace,
                                  WallTime now);
// The status written for a stale node is what is remembered now.
void Written(const boost::json::object& node, NodeHealth& health, WallTime now);

}  // namespace berth::controlplane::controllers
