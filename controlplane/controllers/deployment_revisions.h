#pragma once
// The annotations a Deployment and its ReplicaSets carry, as upstream's
// deployment controller keeps them:
//
//   deployment.kubernetes.io/revision          on both: the rollout's
//       sequence number; a ReplicaSet that becomes the new one again (a
//       rollback, `kubectl rollout undo`) gets the next number, its
//       earlier numbers moving to
//   deployment.kubernetes.io/revision-history  (comma-separated, at most
//       2000 characters, the oldest dropped first);
//   deployment.kubernetes.io/desired-replicas  spec.replicas of the
//       Deployment when it last scaled the ReplicaSet, and
//   deployment.kubernetes.io/max-replicas      that plus maxSurge: what a
//       scaling event is proportioned against.
//
// The Deployment's other annotations are copied to its new ReplicaSet
// (except kubectl's last-applied-configuration), which is what lets
// `kubectl rollout undo` restore them with the template.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "controlplane/controllers/deployment_util.h"

namespace berth::controlplane::controllers {

inline constexpr char kRevisionAnnotation[] = "deployment.kubernetes.io/revision";
inline constexpr char kRevisionHistoryAnnotation[] = "deployment.kubernetes.io/revision-history";
inline constexpr char kDesiredReplicasAnnotation[] = "deployment.kubernetes.io/desired-replicas";
inline constexpr char kMaxReplicasAnnotation[] = "deployment.kubernetes.io/max-replicas";

// metadata.annotations[key] ("" when missing), and setting it.
std::string Annotation(const boost::json::object& obj, std::string_view key);
void SetAnnotation(boost::json::object& obj, std::string_view key, std::string_view value);

// The revision annotation as a number (0 when missing or not a number).
int64_t Revision(const boost::json::object& rs);
int64_t MaxRevision(const ReplicaSetList& rss);
// Lowest revision first (ties: older first).
void SortByRevision(ReplicaSetList& rss);

// Upstream's SetNewReplicaSetAnnotations: copies the Deployment's
// annotations, raises the revision to `new_revision` (keeping the history),
// and for a ReplicaSet about to be made (`exists` false) sets the replica
// annotations. Whether `rs` changed.
bool SetNewReplicaSetAnnotations(const boost::json::object& d, boost::json::object& rs,
                                 const std::string& new_revision, bool exists);
// Sets the Deployment's revision annotation; whether it changed.
bool SetDeploymentRevision(boost::json::object& d, const std::string& revision);

std::optional<int64_t> DesiredReplicasAnnotation(const boost::json::object& rs);
std::optional<int64_t> MaxReplicasAnnotation(const boost::json::object& rs);
bool ReplicasAnnotationsNeedUpdate(const boost::json::object& rs, int64_t desired, int64_t max);
// Sets desired-replicas and max-replicas; whether they changed.
bool SetReplicasAnnotations(boost::json::object& rs, int64_t desired, int64_t max);

}  // namespace berth::controlplane::controllers
