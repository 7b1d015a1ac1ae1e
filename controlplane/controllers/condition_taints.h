#pragma once
// TaintNodesByCondition, as upstream's node lifecycle controller keeps
// it (doNoScheduleTaintingPass): a node's NoSchedule taints mirror its
// conditions (Ready False: not-ready, Ready Unknown: unreachable;
// MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable True:
// memory-pressure, disk-pressure, pid-pressure, network-unavailable) and
// spec.unschedulable (unschedulable), so the scheduler needs to look at
// taints only.

#include <boost/json.hpp>
#include <vector>

namespace berth::controlplane::controllers {

struct TaintChanges {
  std::vector<boost::json::object> add, remove;
  bool empty() const { return add.empty() && remove.empty(); }
};

// What to add to and remove from the node's taints (other taints, and
// those of other effects, are left alone).
TaintChanges ConditionTaintChanges(const boost::json::object& node);

}  // namespace berth::controlplane::controllers
