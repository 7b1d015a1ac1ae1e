#pragma once
// Reads of a Pod object that the pod worker needs everywhere: identity,
// containers, restart policy, QoS class, and the names kubelet gives the
// pod on disk and in the runtime.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/client/event_recorder.h"

namespace berth::agent {

namespace bj = boost::json;

struct PodId {
  std::string namespace_, name, uid;
  // "name_namespace", kubelet's format.FullName-like key for logs.
  std::string FullName() const { return name + "_" + namespace_; }
};
PodId IdOf(const bj::object& pod);

// spec.containers / spec.initContainers (empty when absent).
const bj::array& Containers(const bj::object& pod);
const bj::array& InitContainers(const bj::object& pod);
// The container spec named `name` among containers and init containers.
const bj::object* FindContainer(const bj::object& pod, const std::string& name);
// An init container with restartPolicy Always (a sidecar).
bool IsSidecar(const bj::object& init_container);

std::string RestartPolicy(const bj::object& pod);  // Always (default), OnFailure, Never
std::string QosClass(const bj::object& pod);       // Guaranteed, Burstable, BestEffort
bool HostNetwork(const bj::object& pod);
bool BeingDeleted(const bj::object& pod);
// deletionGracePeriodSeconds, else terminationGracePeriodSeconds (30).
int64_t GracePeriodSeconds(const bj::object& pod);
std::string Phase(const bj::object& pod);
bool IsTerminalPhase(const std::string& phase);

// A container's resource in milli-units (cpu) or bytes; nullopt when unset.
std::optional<int64_t> ResourceQuantity(const bj::object& container, std::string_view kind,
                                        std::string_view resource);

// involvedObject of an event about the pod, or about one of its containers.
controlplane::client::ObjectRef PodRef(const bj::object& pod);
controlplane::client::ObjectRef ContainerRef(const bj::object& pod, const std::string& container);

}  // namespace berth::agent
