#pragma once
// A StatefulSet's pods and claims, as upstream's
// pkg/controller/statefulset/stateful_set_utils.go makes and reads them:
// pod <set>-<ordinal> with hostname = its name and subdomain =
// spec.serviceName, labels statefulset.kubernetes.io/pod-name and
// apps.kubernetes.io/pod-index, and for each volumeClaimTemplate a
// PersistentVolumeClaim <template>-<set>-<ordinal> mounted as a volume
// named after the template. A pod's revision is its
// controller-revision-hash label (the revision's name).

#include <boost/json.hpp>
#include <ctime>
#include <string>
#include <vector>

namespace berth::controlplane::controllers {

inline constexpr char kStatefulSetPodNameLabel[] = "statefulset.kubernetes.io/pod-name";
inline constexpr char kPodIndexLabel[] = "apps.kubernetes.io/pod-index";
inline constexpr char kStatefulSetRevisionLabel[] = "controller-revision-hash";

// spec.ordinals.start (0 when unset).
int64_t StartOrdinal(const boost::json::object& set);
// The last ordinal spec.replicas asks for (start - 1 for none).
int64_t EndOrdinal(const boost::json::object& set);
// The ordinal in the pod's name "<parent>-<n>"; -1 when it has none.
int64_t PodOrdinal(const boost::json::object& pod);
// The pod's name says it is the set's (isMemberOf).
bool IsMemberOf(const boost::json::object& set, const boost::json::object& pod);
std::string StatefulPodName(const boost::json::object& set, int64_t ordinal);
std::string PodRevision(const boost::json::object& pod);

// newStatefulSetPod: the set's template (as `set` holds it) as pod
// `ordinal`, with identity and storage, labelled with `revision`.
boost::json::object NewStatefulSetPod(const boost::json::object& set, int64_t ordinal,
                                      const std::string& revision);
// The claims pod `ordinal` mounts, in template order (not yet stored).
std::vector<boost::json::object> PodClaims(const boost::json::object& set, int64_t ordinal);

bool IdentityMatches(const boost::json::object& set, const boost::json::object& pod);
bool StorageMatches(const boost::json::object& set, const boost::json::object& pod);
// updateIdentity and updateStorage on an existing pod.
void UpdateIdentity(const boost::json::object& set, boost::json::object& pod);
void UpdateStorage(const boost::json::object& set, boost::json::object& pod);

// The placeholder of a pod still to be made has no phase.
bool IsCreated(const boost::json::object& pod);
bool IsRunningAndReady(const boost::json::object& pod);
bool IsRunningAndAvailable(const boost::json::object& pod, int64_t min_ready_seconds, time_t now);
// Running and Ready and not being deleted.
bool IsHealthy(const boost::json::object& pod);

}  // namespace berth::controlplane::controllers
