#pragma once
// The conditions upstream's namespace controller keeps on a terminating
// namespace (status.conditions), so that `kubectl describe ns` says why
// it is still there: NamespaceDeletionDiscoveryFailure,
// NamespaceDeletionGroupVersionParsingFailure,
// NamespaceDeletionContentFailure, NamespaceContentRemaining and
// NamespaceFinalizersRemaining; each True with what is wrong, or False
// with upstream's all-clear reason and message.

#include <boost/json.hpp>
#include <string>

#include "controlplane/controllers/namespace_content.h"

namespace berth::controlplane::controllers {

// Brings `conditions` (a status.conditions array) in line with `report`;
// true when anything changed. A condition whose status flips gets
// lastTransitionTime `now` (RFC 3339).
bool UpdateDeletionConditions(boost::json::array& conditions, const ContentReport& report,
                              const std::string& now);

}  // namespace berth::controlplane::controllers
