#pragma once
// A ReplicaSet's status as upstream's calculateStatus makes it from the
// pods it controls: replicas, fullyLabeledReplicas (pods carrying all
// the template's labels), readyReplicas, availableReplicas (Ready for
// minReadySeconds), and the ReplicaFailure condition while creating or
// deleting pods fails. Zero counts are left out, as the Go types'
// omitempty leaves them out (replicas excepted).

#include <boost/json.hpp>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace berth::controlplane::controllers {

// `pods`: the active pods the ReplicaSet controls. `manage_error`: why
// managing its replicas failed this time, if it did.
boost::json::object CalculateReplicaSetStatus(const boost::json::object& rs,
                                              const std::vector<boost::json::object>& pods,
                                              const std::optional<std::string>& manage_error,
                                              time_t now);
// `status` differs from the stored one, or the generation is unobserved.
bool ReplicaSetStatusChanged(const boost::json::object& rs, const boost::json::object& status);
// `status` with observedGeneration set to the ReplicaSet's generation.
boost::json::object WithObservedGeneration(const boost::json::object& rs,
                                           boost::json::object status);

// spec.replicas (1 when unset, the apiserver's default) and
// spec.minReadySeconds.
int64_t SpecReplicas(const boost::json::object& obj);
int64_t MinReadySeconds(const boost::json::object& obj);
// status.<field> as an integer (0 when unset).
int64_t StatusCount(const boost::json::object& obj, std::string_view field);

}  // namespace berth::controlplane::controllers
