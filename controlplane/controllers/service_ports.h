#pragma once
// A Service port's targetPort resolved for one pod, as upstream's
// FindPort: a number stands for itself; a name is looked up among the
// ports of the pod's containers (then of its sidecars, init containers
// with restartPolicy Always) with that name and the Service port's
// protocol. The same named targetPort may so resolve to different
// numbers on different pods.

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>

namespace berth::controlplane::controllers {

// The port's protocol; "TCP" when unset (the apiserver's default).
std::string PortProtocol(const boost::json::object& port);
// The container port `service_port` (an entry of spec.ports) reaches on
// `pod`; nullopt when a named targetPort names no port of the pod.
std::optional<int64_t> FindPort(const boost::json::object& pod,
                                const boost::json::object& service_port);

}  // namespace berth::controlplane::controllers
