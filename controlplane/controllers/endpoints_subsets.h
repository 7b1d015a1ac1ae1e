#pragma once
// The subsets of a Service's core/v1 Endpoints object, as upstream's
// endpoints controller builds them: one address per pod that belongs
// (not terminal, with an IP of the Service's first IP family, and not
// terminating unless publishNotReadyAddresses), under addresses when
// the pod is Ready (or publishNotReadyAddresses) and notReadyAddresses
// otherwise, for every Service port its targetPort resolves on the pod
// (service_ports.h); then repacked as upstream's RepackSubsets does, so
// that addresses serving the same ports share a subset. A headless
// Service without ports lists addresses without ports.

#include <boost/json.hpp>
#include <cstddef>
#include <vector>

namespace berth::controlplane::controllers {

// Upstream's maxCapacity: addresses an Endpoints object holds at most.
inline constexpr size_t kMaxEndpointsAddresses = 1000;
inline constexpr char kAnnotationOverCapacity[] = "endpoints.kubernetes.io/over-capacity";

// Sorted canonically, so that equal subsets compare equal.
boost::json::array EndpointSubsets(const boost::json::object& service,
                                   const std::vector<boost::json::object>& pods);
// Ready and not-ready addresses in all subsets.
size_t CountAddresses(const boost::json::array& subsets);
// Cuts the subsets to kMaxEndpointsAddresses addresses, spread over the
// subsets in proportion, ready ones kept first (upstream's
// truncateEndpoints); true when it cut any.
bool TruncateSubsets(boost::json::array& subsets);

}  // namespace berth::controlplane::controllers
