#pragma once
// The parts of a Node's status kubelet owns, computed as upstream's
// status setters (pkg/kubelet/nodestatus) compute them: capacity and
// allocatable, the four conditions with heartbeat and transition times,
// the image list; and the comparison that decides whether a status is
// worth posting.

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/config/eviction.h"
#include "common/error.h"
#include "runtime/cri/proto/api.pb.h"

namespace berth::agent {

struct NodeResources {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = -1;  // -1: unknown (the root dir could not be statted)
  int64_t pods = 0;
  std::map<std::string, int64_t> hugepages;  // "hugepages-2Mi" -> bytes
};

// systemReserved + kubeReserved.
struct Reservation {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
};
// Sums the two lists (quantity text by resource name); "pid" is counted by
// neither capacity nor allocatable, so it is left out. `what` names them.
Result<Reservation> SumReserved(const std::map<std::string, std::string>& system_reserved,
                                const std::map<std::string, std::string>& kube_reserved);

// status.capacity: cpu and pods DecimalSI, the rest BinarySI, as upstream.
boost::json::object CapacityJson(const NodeResources& r);
// status.allocatable: capacity less `reserved` and the hard eviction
// thresholds of memory.available (from memory) and nodefs.available (from
// ephemeral-storage), less every huge page size from memory; never
// negative.
boost::json::object AllocatableJson(const NodeResources& r, const Reservation& reserved,
                                    const std::vector<EvictionThreshold>& eviction_hard);

struct ConditionInputs {
  // Why the node is not Ready (runtime and network errors, missing
  // capacity); empty: Ready.
  std::vector<std::string> not_ready;
  bool memory_pressure = false;
  bool disk_pressure = false;
  bool pid_pressure = false;
};

// Sets MemoryPressure, DiskPressure, PIDPressure and Ready (last) in
// status.conditions, keeping conditions others own: lastHeartbeatTime is
// `now` on each, lastTransitionTime `now` only where the status changed
// (or the condition is new). Returns the node events upstream records for
// the transitions ("NodeHasSufficientMemory", "NodeReady", ...).
std::vector<std::string> SetConditions(boost::json::object& status, const ConditionInputs& in,
                                       const std::string& now);

// The Ready message for several reasons, as utilerrors.NewAggregate
// prints them: one as it is, more deduplicated in "[a, b]".
std::string AggregateMessage(const std::vector<std::string>& errors);

// status.images from CRI ListImages: largest first, at most `max_images`
// (-1: all), each with up to 5 names (digests, then tags).
boost::json::array ImagesJson(const ::runtime::v1::ListImagesResponse& images, int max_images);

// Whether `now` differs from `before` other than in condition heartbeat
// times (upstream's nodeStatusHasChanged).
bool StatusChanged(const boost::json::object& before, const boost::json::object& now);

// The value of condition `type` ("True", "False", "Unknown"), "" if absent.
std::string ConditionStatus(const boost::json::object& status, const std::string& type);

}  // namespace berth::agent
