#pragma once
// The arithmetic of upstream's deploymentutil over Deployments and their
// ReplicaSets (JSON objects as the apiserver serves them): maxSurge and
// maxUnavailable (ints or percentages: surge rounded up, unavailable down,
// both zero meaning one unavailable), replica counts summed over
// ReplicaSets, the proportions a scaling event gives each ReplicaSet,
// and when a rollout is complete, progressing or timed out.
//
// Two counts are deliberately more careful than upstream's, so that the
// bounds hold for the pods that exist and not only for the ReplicaSets'
// specs while a ReplicaSet controller has yet to act on a new scale:
// NewRSNewReplicas counts each ReplicaSet as the larger of spec.replicas
// and status.replicas (pods not yet deleted count against maxSurge), and
// AvailableForScaleDown the smaller of spec.replicas and
// status.availableReplicas (pods about to be deleted do not count as
// available).

#include <boost/json.hpp>
#include <ctime>
#include <optional>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::controlplane::controllers {

// Pointers into one sync's ReplicaSets; never null.
using ReplicaSetList = std::vector<boost::json::object*>;

// An IntOrString: the int, or a percentage of `total` rounded up or down.
Result<int64_t> ScaledValue(const boost::json::value& int_or_percent, int64_t total, bool round_up);
struct Fenceposts {
  int64_t surge = 0;
  int64_t unavailable = 0;
};
// Upstream's ResolveFenceposts; a missing value counts as 0.
Result<Fenceposts> ResolveFenceposts(const boost::json::value* max_surge,
                                     const boost::json::value* max_unavailable, int64_t desired);

bool IsRollingUpdate(const boost::json::object& d);
// 0 unless a rolling update; an invalid value counts as 0.
int64_t MaxSurge(const boost::json::object& d);
// 0 unless a rolling update with replicas; at most spec.replicas.
int64_t MaxUnavailable(const boost::json::object& d);
bool Paused(const boost::json::object& d);
// spec.progressDeadlineSeconds / spec.revisionHistoryLimit, unless unset
// or MaxInt32 (upstream's "none").
std::optional<int64_t> ProgressDeadlineSeconds(const boost::json::object& d);
std::optional<int64_t> RevisionHistoryLimit(const boost::json::object& d);

// Sums of spec.replicas, and of a status count.
int64_t SpecReplicaSum(const ReplicaSetList& rss);
int64_t StatusSum(const ReplicaSetList& rss, std::string_view field);
// Those with spec.replicas > 0.
ReplicaSetList FilterActive(const ReplicaSetList& rss);
// `old` and `new_rs` (when not null) together.
ReplicaSetList AllOf(const ReplicaSetList& old, boost::json::object* new_rs);

// Oldest first (ties by name); largest first, ties older or newer first.
void SortByCreation(ReplicaSetList& rss);
void SortBySizeOlder(ReplicaSetList& rss);
void SortBySizeNewer(ReplicaSetList& rss);

// The only active ReplicaSet, or the newest when none is active; null
// when several are active.
boost::json::object* FindActiveOrLatest(boost::json::object* new_rs, ReplicaSetList old);
// The new ReplicaSet runs the desired count, all available, as intended
// for the current spec.replicas (its desired-replicas annotation).
bool IsSaturated(const boost::json::object& d, const boost::json::object* rs);
// How large the new ReplicaSet may be now (see the header comment).
int64_t NewRSNewReplicas(const boost::json::object& d, const ReplicaSetList& all,
                         const boost::json::object& new_rs);
// Available pods the rolling update may count on (see the header comment).
int64_t AvailableForScaleDown(const ReplicaSetList& rss);
// The share of a scaling event (`to_add` in all, `added` so far) for `rs`.
int64_t GetProportion(const boost::json::object& rs, const boost::json::object& d, int64_t to_add,
                      int64_t added);

// Over the deployment's status as it would be written.
bool DeploymentComplete(const boost::json::object& d, const boost::json::object& status);
bool DeploymentProgressing(const boost::json::object& d, const boost::json::object& status);
bool DeploymentTimedOut(const boost::json::object& d, const boost::json::object& status,
                        time_t now);

}  // namespace berth::controlplane::controllers
