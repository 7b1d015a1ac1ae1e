#pragma once
// Which pods a ReplicaSet deletes first when it has too many: upstream's
// ActivePodsWithRanks order (LogarithmicScaleDown and PodDeletionCost on,
// as by default in 1.33):
//
//   1. not yet scheduled before scheduled;
//   2. Pending before Unknown before Running;
//   3. not Ready before Ready;
//   4. lower controller.kubernetes.io/pod-deletion-cost first;
//   5. more "doubled up" first: more related active pods (the
//      ReplicaSet's and its siblings' under the same owner) on its node;
//   6. Ready for less time first, compared on a log2 scale of the age
//      (equal buckets: by uid, a pseudo-random order);
//   7. more container restarts first;
//   8. newer first (same log2 scale and uid tie-break).

#include <boost/json.hpp>
#include <ctime>
#include <vector>

namespace berth::controlplane::controllers {

// The first `count` of `pods` in that order (all of them when count is
// at least their number). `related` ranks by node (rule 5).
std::vector<boost::json::object> PodsToDelete(std::vector<boost::json::object> pods,
                                              const std::vector<boost::json::object>& related,
                                              size_t count, const timespec& now);

}  // namespace berth::controlplane::controllers
