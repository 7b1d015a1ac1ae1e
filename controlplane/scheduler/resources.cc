#include "controlplane/scheduler/resources.h"

#include <array>

#include "common/json.h"

namespace berth::controlplane::scheduler {
namespace {

namespace bj = boost::json;
using json::Field;

// Resources as an array, for the per-resource arithmetic of PodRequests.
enum Res { kCpu, kMemory, kEphemeral, kResCount };
constexpr std::array<std::string_view, kResCount> kResNames = {"cpu", "memory",
                                                               "ephemeral-storage"};
struct List {
  std::array<int64_t, kResCount> v{};
  std::array<bool, kResCount> set{};
};

void Add(List& to, const List& from) {
  for (int r = 0; r < kResCount; ++r) {
    to.v[r] += from.v[r];
    to.set[r] = to.set[r] || from.set[r];
  }
}

void Max(List& to, const List& from) {
  for (int r = 0; r < kResCount; ++r) {
    if (from.v[r] > to.v[r]) to.v[r] = from.v[r];
    to.set[r] = to.set[r] || from.set[r];
  }
}

// A quantity field: a string ("500m") or, as Quantity's JSON decoding
// allows, a number. Negative amounts are refused: neither requests nor
// capacity can be.
Result<int64_t> QuantityField(const Field& f, bool milli) {
  const bj::value& v = *f.raw();
  std::string text;
  if (v.is_string()) {
    text = std::string(v.get_string());
  } else if (v.is_number()) {
    text = bj::serialize(v);
  } else {
    return f.TypeError("quantity");
  }
  Result<int64_t> q = ParseQuantity(text, milli);
  if (!q.ok()) return f.Invalid(q.error().message());
  if (*q < 0)
    return f.Invalid("Invalid value: \"" + text + "\": must be greater than or equal to 0");
  return *q;
}

// A v1.ResourceList (requests, limits, overhead, allocatable): the
// resources berth schedules by; others (extended resources, hugepages) are
// ignored.
Result<List> ReadList(const Field& f) {
  List out;
  BERTH_TRY(f.ExpectObject());
  for (int r = 0; r < kResCount; ++r) {
    Field item = f[kResNames[r]];
    if (!item.present()) continue;
    out.v[r] = BERTH_TRY(QuantityField(item, r == kCpu));
    out.set[r] = true;
  }
  return out;
}

// A container's requests; a resource with only a limit requests its limit,
// as the apiserver's defaulting makes it.
Result<List> ContainerRequests(const Field& container) {
  BERTH_TRY(container.ExpectObject());
  Field resources = container["resources"];
  BERTH_TRY(resources.ExpectObject());
  List requests = BERTH_TRY(ReadList(resources["requests"]));
  List limits = BERTH_TRY(ReadList(resources["limits"]));
  for (int r = 0; r < kResCount; ++r) {
    if (!requests.set[r] && limits.set[r]) {
      requests.v[r] = limits.v[r];
      requests.set[r] = true;
    }
  }
  return requests;
}

Result<bool> IsRestartable(const Field& container) {
  std::optional<std::string> policy = BERTH_TRY(container["restartPolicy"].OptString());
  return policy && *policy == "Always";
}

Resources ToResources(const List& list) {
  Resources out;
  out.milli_cpu = list.v[kCpu];
  out.memory = list.v[kMemory];
  out.ephemeral_storage = list.v[kEphemeral];
  return out;
}

}  // namespace

Resources& Resources::operator+=(const Resources& o) {
  milli_cpu += o.milli_cpu;
  memory += o.memory;
  ephemeral_storage += o.ephemeral_storage;
  pods += o.pods;
  return *this;
}

Resources& Resources::operator-=(const Resources& o) {
  milli_cpu -= o.milli_cpu;
  memory -= o.memory;
  ephemeral_storage -= o.ephemeral_storage;
  pods -= o.pods;
  return *this;
}

// As upstream's resourcehelper.AggregateContainerRequests: the sum over
// containers and restartable init containers ("sidecars"), raised to what
// any init container needs while it runs (itself plus the sidecars started
// before it), plus the pod's overhead.
Result<Resources> PodRequests(const boost::json::object& pod) {
  Field spec(pod.if_contains("spec"), "spec");
  BERTH_TRY(spec.ExpectObject());
  List sum;
  for (const Field& container : BERTH_TRY(spec["containers"].Items()))
    Add(sum, BERTH_TRY(ContainerRequests(container)));

  List sidecars;  // restartable init containers so far
  List init_max;
  for (const Field& container : BERTH_TRY(spec["initContainers"].Items())) {
    List requests = BERTH_TRY(ContainerRequests(container));
    if (BERTH_TRY(IsRestartable(container))) {
      Add(sum, requests);
      Add(sidecars, requests);
      Max(init_max, sidecars);
    } else {
      Add(requests, sidecars);
      Max(init_max, requests);
    }
  }
  Max(sum, init_max);
  Add(sum, BERTH_TRY(ReadList(spec["overhead"])));
  Resources out = ToResources(sum);
  out.pods = 1;
  return out;
}

// A node with no "pods" in either list takes no pods, as upstream's
// NodeInfo (AllowedPodNumber 0) has it; kubelets always report it.
Result<Resources> NodeAllocatable(const boost::json::object& node) {
  Field status(node.if_contains("status"), "status");
  BERTH_TRY(status.ExpectObject());
  Field allocatable = status["allocatable"];
  Field capacity = status["capacity"];
  BERTH_TRY(allocatable.ExpectObject());
  BERTH_TRY(capacity.ExpectObject());
  auto read = [&](std::string_view name, bool milli) -> Result<int64_t> {
    Field f = allocatable[name];
    if (!f.present()) f = capacity[name];
    if (!f.present()) return int64_t{0};
    return QuantityField(f, milli);
  };
  Resources out;
  out.milli_cpu = BERTH_TRY(read("cpu", true));
  out.memory = BERTH_TRY(read("memory", false));
  out.ephemeral_storage = BERTH_TRY(read("ephemeral-storage", false));
  out.pods = BERTH_TRY(read("pods", false));
  return out;
}

}  // namespace berth::controlplane::scheduler
