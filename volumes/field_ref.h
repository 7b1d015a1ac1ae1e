#pragma once
// The downward API: the values of fieldRef paths and resourceFieldRef
// resources of a pod, as the env of a container and the files of
// downwardAPI volumes show them.

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::volumes {

// The value of a fieldRef path on `pod`: metadata.name, metadata.namespace,
// metadata.uid, metadata.labels / metadata.annotations (all of them as
// `k="v"` lines sorted by key, the downwardAPI volume format),
// metadata.labels['k'], metadata.annotations['k'], spec.nodeName,
// spec.serviceAccountName, status.hostIP, status.hostIPs, status.podIP,
// status.podIPs (the list ones comma-joined). The status fields are read
// from the pod object, so the caller fills them in before asking.
// kInvalidArgument naming the path for any other path.
Result<std::string> PodFieldValue(const boost::json::object& pod, std::string_view field_path);

// What the node offers, standing in for limits a container does not set.
struct NodeAllocatable {
  int64_t cpu_milli = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
};

// The value of a resourceFieldRef on `container`: limits.cpu,
// limits.memory, limits.ephemeral-storage, requests.cpu, requests.memory,
// requests.ephemeral-storage, divided by `divisor` (a quantity; empty or
// zero means "1") and rounded up. A limit the container does not set is
// the node's allocatable, as kubelet merges them; a request it does not set
// is its limit (the apiserver's defaulting), else 0.
Result<std::string> ResourceFieldValue(const boost::json::object& container,
                                       std::string_view resource, std::string_view divisor,
                                       const NodeAllocatable& node);

// The text of metadata.labels / metadata.annotations in a downwardAPI
// file: `key="value"` per line, sorted, the value quoted as Go's %q does.
std::string FormatStringMap(const boost::json::object& map);

}  // namespace berth::volumes
