#pragma once
// A Service's ClusterIP and NodePorts: taken from the allocator when a
// Service is created or changes type, given back when it is deleted or no
// longer needs them.

#include <boost/json.hpp>

#include "controlplane/server/registry/allocator.h"
#include "controlplane/server/registry/call.h"

namespace berth::controlplane::registry {

// Fills spec.clusterIP(s), ipFamilies, ipFamilyPolicy and nodePorts of
// `svc`; `old` (on update) keeps what it already had. On error nothing
// stays allocated; a 422 names the field.
ApiResult<boost::json::object> AllocateServiceAddresses(ServiceAllocator& allocator,
                                                        boost::json::object svc,
                                                        const boost::json::object* old);
// Releases what `svc` holds and `keep` (the version that stays) does not.
void ReleaseServiceAddresses(ServiceAllocator& allocator, const boost::json::object& svc,
                             const boost::json::object* keep);

}  // namespace berth::controlplane::registry
