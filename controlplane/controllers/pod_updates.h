#pragma once
// Writes to pods that the node controllers share (node lifecycle, taint
// eviction, pod GC), as upstream's pod helpers make them.

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "controlplane/controllers/api_time.h"

namespace berth::controlplane::controllers {

// Upstream's UpdatePodCondition on a pod's `status`: `condition` takes
// the place of the one of its type (or is added); its lastTransitionTime
// is `now` when the status changed, else the old one. Whether anything
// changed.
bool UpdatePodCondition(boost::json::object& status, boost::json::object condition, WallTime now);

// PATCH pods/<name>/status with `status` as a strategic merge patch
// (conditions merge by type), as upstream's PatchPodStatus sends it.
Status PatchPodStatus(client::ApiClient& api, const std::string& ns, const std::string& name,
                      const boost::json::object& status);

// DELETE the pod, with `grace_seconds` when given, else its own grace
// period. A pod already gone is fine.
Status DeletePod(client::ApiClient& api, const std::string& ns, const std::string& name,
                 std::optional<int> grace_seconds = std::nullopt);

}  // namespace berth::controlplane::controllers
