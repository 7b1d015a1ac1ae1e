#pragma once
// Resource quantities as the scheduler counts them, and the requests of a
// pod and the allocatable of a node read from their JSON.

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/quantity.h"

namespace berth::controlplane::scheduler {

using berth::ParseQuantity;  // common/quantity.h

struct Resources {
  int64_t milli_cpu = 0;
  int64_t memory = 0;             // bytes
  int64_t ephemeral_storage = 0;  // bytes
  int64_t pods = 0;               // a pod counts 1; a node's "pods" capacity

  Resources& operator+=(const Resources& o);
  Resources& operator-=(const Resources& o);
};

// What a pod asks for, as upstream's resource helpers count it: the larger
// of the sum over containers and the largest init container (restartable
// "sidecar" init containers add to both sides), plus spec.overhead; pods =
// 1. `path` names fields in errors ("spec.containers[0].resources...").
Result<Resources> PodRequests(const boost::json::object& pod);
// status.allocatable, falling back to status.capacity per resource.
Result<Resources> NodeAllocatable(const boost::json::object& node);

}  // namespace berth::controlplane::scheduler
