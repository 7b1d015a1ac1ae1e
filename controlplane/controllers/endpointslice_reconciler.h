#pragma once
// What the EndpointSlice controller must write for one Service, worked
// out as upstream's reconciler does, without touching the API (the
// controller carries the plan out):
//
//   - one address type per IP family of the Service (spec.ipFamilies);
//     slices of other types go;
//   - the pods that belong (not terminal, with an IP; terminating ones
//     too) become endpoints with addresses of that family, conditions
//     ready (Ready and not terminating, or always with
//     publishNotReadyAddresses), serving (Ready) and terminating, the
//     pod as targetRef, its node and the node's zone; a pod whose node
//     is unknown is left out (an error, so the Service is retried)
//     unless publishNotReadyAddresses;
//   - endpoints are grouped by the ports they resolve (named targetPorts
//     can differ per pod), each group in slices of at most
//     max_endpoints_per_slice;
//   - churn is kept low: endpoints stay in the slice they are in, changed
//     slices are filled up first, then the unchanged slice closest to
//     full that fits the rest, and only then new slices are made; a
//     slice to create and one to delete become one update;
//   - slices not owned by this Service (an old one of the same name) go;
//   - a Service with no endpoints keeps one empty placeholder slice.

#include <boost/json.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace berth::controlplane::controllers {

inline constexpr char kEndpointSliceControllerName[] = "endpointslice-controller.k8s.io";
inline constexpr char kLabelServiceName[] = "kubernetes.io/service-name";
inline constexpr char kLabelManagedBy[] = "endpointslice.kubernetes.io/managed-by";
inline constexpr char kLabelHeadless[] = "service.kubernetes.io/headless";
inline constexpr char kAnnotationTriggerTime[] = "endpoints.kubernetes.io/last-change-trigger-time";

struct EndpointSlicePlan {
  std::vector<boost::json::object> create;  // new slices (generateName)
  std::vector<boost::json::object> update;  // whole slices, with their resourceVersion
  std::vector<boost::json::object> remove;  // slices as cached
  std::vector<std::string> errors;          // pods left out, and why
};

// The Node of a name, from the controller's cache; nullopt when unknown.
using NodeLookup = std::function<std::optional<boost::json::object>(const std::string&)>;

// `existing`: the Service's slices managed by the controller (those being
// deleted left out); `pods`: the pods its selector matches.
EndpointSlicePlan PlanEndpointSlices(const boost::json::object& service,
                                     const std::vector<boost::json::object>& pods,
                                     const std::vector<boost::json::object>& existing,
                                     const NodeLookup& nodes, size_t max_endpoints_per_slice);

// The slice has an ownerReference to this Service (v1, its uid).
bool OwnedBy(const boost::json::object& slice, const boost::json::object& service);

}  // namespace berth::controlplane::controllers
