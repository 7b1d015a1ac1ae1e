#pragma once
// The three patch types of PATCH requests, applied to an object's JSON:
// JSON Patch (RFC 6902), JSON Merge Patch (RFC 7386), and Kubernetes'
// strategic merge patch: lists merged by key where upstream's types say
// so (containers by name, container ports by containerPort, ...), with the
// $patch, $retainKeys, $setElementOrder/ and $deleteFromPrimitiveList/
// directives kubectl apply sends.

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::controlplane::api {

enum class PatchType { kJson, kMerge, kStrategic };

// From a Content-Type; nullopt for an unsupported one.
std::optional<PatchType> PatchTypeFor(std::string_view content_type);

// Applies `patch` to `target`; errors (kInvalidArgument) say what in the
// patch was wrong. `kind` picks the strategic merge keys (Service ports
// merge by port, container ports by containerPort).
Result<boost::json::value> ApplyPatch(PatchType type, const boost::json::value& target,
                                      const boost::json::value& patch, std::string_view kind);

}  // namespace berth::controlplane::api
