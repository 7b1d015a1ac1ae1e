#pragma once
// process.capabilities for a CRI container, as containerd computes them:
// containerd's default set, then add ALL / drop ALL, then the single adds
// and drops, in the bounding, effective and permitted sets (inheritable and
// ambient stay empty). Names may come with or without the CAP_ prefix, in
// any case. add_ambient_capabilities go into all five sets.

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/cri/proto/api.pb.h"

namespace berth::cri {

// The 14 capabilities containerd (and Docker) give a container by default.
const std::vector<std::string>& DefaultCapabilities();
// Every capability the running kernel knows (for ALL and privileged).
std::vector<std::string> AllCapabilities();

struct CapabilityPlan {
  std::vector<std::string> bounding;  // = effective = permitted
  std::vector<std::string> ambient;   // = inheritable
};

// `caps` may be null (no Capability message: the default set).
Result<CapabilityPlan> PlanCapabilities(const ::runtime::v1::Capability* caps, bool privileged);

// {"bounding": [...], "effective": [...], "permitted": [...]} (+ inheritable
// and ambient when any).
boost::json::object CapabilitiesJson(const CapabilityPlan& plan);

}  // namespace berth::cri
