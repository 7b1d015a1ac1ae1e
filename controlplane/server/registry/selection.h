#pragma once
// What a list or watch call selects: the store prefix (narrowed by
// namespace, and by metadata.name when a field selector pins it), and
// the label and field selectors every object must match.

#include <boost/json.hpp>
#include <string>

#include "controlplane/server/api/selectors.h"
#include "controlplane/server/registry/call.h"

namespace berth::controlplane::registry {

struct Selection {
  std::string prefix;
  api::LabelSelector labels;
  api::FieldSelector fields;

  bool Matches(const api::ResourceType& type, const boost::json::object& obj) const;
};

// 400 BadRequest for a selector that does not parse or names a field the
// kind has no label for.
ApiResult<Selection> SelectionFor(const Call& c);

}  // namespace berth::controlplane::registry
