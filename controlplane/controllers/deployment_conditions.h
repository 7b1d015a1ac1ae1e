#pragma once
// Deployment status conditions as upstream's deploymentutil keeps them:
// Available (MinimumReplicasAvailable / MinimumReplicasUnavailable),
// Progressing (NewReplicaSetCreated, FoundNewReplicaSet,
// ReplicaSetUpdated, NewReplicaSetAvailable, ProgressDeadlineExceeded,
// ReplicaSetCreateError, DeploymentPaused, DeploymentResumed) and
// ReplicaFailure. Setting a condition whose status and reason are
// unchanged keeps the old one; a new one keeps lastTransitionTime while
// the status is the same.

#include <boost/json.hpp>
#include <ctime>
#include <string>
#include <string_view>

namespace berth::controlplane::controllers {

inline constexpr char kDeploymentAvailable[] = "Available";
inline constexpr char kDeploymentProgressing[] = "Progressing";
inline constexpr char kDeploymentReplicaFailure[] = "ReplicaFailure";

inline constexpr char kMinimumReplicasAvailable[] = "MinimumReplicasAvailable";
inline constexpr char kMinimumReplicasUnavailable[] = "MinimumReplicasUnavailable";
inline constexpr char kNewReplicaSetReason[] = "NewReplicaSetCreated";
inline constexpr char kFoundNewRSReason[] = "FoundNewReplicaSet";
inline constexpr char kReplicaSetUpdatedReason[] = "ReplicaSetUpdated";
inline constexpr char kNewRSAvailableReason[] = "NewReplicaSetAvailable";
inline constexpr char kTimedOutReason[] = "ProgressDeadlineExceeded";
inline constexpr char kFailedRSCreateReason[] = "ReplicaSetCreateError";
inline constexpr char kPausedDeployReason[] = "DeploymentPaused";
inline constexpr char kResumedDeployReason[] = "DeploymentResumed";

// The condition of `type` in a status object, or null.
const boost::json::object* GetCondition(const boost::json::object& status, std::string_view type);
// lastUpdateTime and lastTransitionTime are `now`.
boost::json::object NewCondition(std::string_view type, std::string_view status,
                                 std::string_view reason, const std::string& message, time_t now);
void SetCondition(boost::json::object& status, boost::json::object condition);
void RemoveCondition(boost::json::object& status, std::string_view type);

}  // namespace berth::controlplane::controllers
