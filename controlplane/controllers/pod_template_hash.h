#pragma once
// The pod-template-hash that tells a Deployment's ReplicaSets apart, and
// finding which ReplicaSet runs the Deployment's current template.
//
// The hash is upstream's shape (FNV-1a 32 of the template, then of the
// collisionCount when set, its decimal digits mapped onto
// "bcdfghjklmnpqrstvwxz2456789") but over a canonical JSON form of the
// template rather than Go's struct dump, so its values differ from
// upstream's. Canonical means: object keys sorted, and nulls, empty
// strings, empty objects and empty lists left out, as Go's zero values
// are when upstream compares templates. It is stable across restarts and
// apiserver round trips, and a template change changes it; a collision
// (another ReplicaSet already has the name) bumps status.collisionCount.

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "controlplane/controllers/deployment_util.h"

namespace berth::controlplane::controllers {

inline constexpr char kPodTemplateHashLabel[] = "pod-template-hash";

std::string ComputeHash(const boost::json::value& pod_template,
                        std::optional<int64_t> collision_count);
// Equal but for the pod-template-hash label (upstream's EqualIgnoreHash).
bool EqualIgnoreHash(const boost::json::value& a, const boost::json::value& b);

// The oldest ReplicaSet whose template is the Deployment's; null if none.
boost::json::object* FindNewReplicaSet(const boost::json::object& d, const ReplicaSetList& rss);
// All but `new_rs`.
ReplicaSetList OldReplicaSets(const ReplicaSetList& rss, const boost::json::object* new_rs);

}  // namespace berth::controlplane::controllers
