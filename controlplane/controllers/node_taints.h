#pragma once
// Changing a node's taints as upstream's controller helpers do
// (AddOrUpdateTaintOnNode, RemoveTaintOffNode, SwapNodeControllerTaint):
// one patch of spec.taints carrying the node's resourceVersion, so that
// a concurrent change of the list is not overwritten; on a conflict the
// node is read again and the change made anew.

#include <boost/json.hpp>
#include <vector>

#include "common/error.h"
#include "controlplane/client/api_client.h"

namespace berth::controlplane::controllers {

// Adds `add` (each stamped timeAdded now, as upstream stamps the taints
// its controllers add; one of the same key, effect and value already
// there is kept as it is) and removes the taints matching `remove` (key
// and effect), starting from `node` (the informer's copy). Nothing is
// sent when nothing would change. kNotFound when the node is gone.
Status SwapNodeTaints(client::ApiClient& api, const boost::json::object& node,
                      const std::vector<boost::json::object>& add,
                      const std::vector<boost::json::object>& remove);

}  // namespace berth::controlplane::controllers
