#include "agent/node/node_status.h"

#include <algorithm>

#include "agent/config/quantity.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;

constexpr size_t kMaxNamesPerImage = 5;  // upstream MaxNamesPerImageInNodeStatus

struct PressureCondition {
  const char* type;
  const char* true_reason;
  const char* true_message;
  const char* true_event;
  const char* false_reason;
  const char* false_message;
  const char* false_event;
};

constexpr PressureCondition kMemory = {"MemoryPressure",
                                       "KubeletHasInsufficientMemory",
                                       "kubelet has insufficient memory available",
                                       "NodeHasInsufficientMemory",
                                       "KubeletHasSufficientMemory",
                                       "kubelet has sufficient memory available",
                                       "NodeHasSufficientMemory"};
constexpr PressureCondition kDisk = {
    "DiskPressure",         "KubeletHasDiskPressure",   "kubelet has disk pressure",
    "NodeHasDiskPressure",  "KubeletHasNoDiskPressure", "kubelet has no disk pressure",
    "NodeHasNoDiskPressure"};
constexpr PressureCondition kPid = {"PIDPressure",
                                    "KubeletHasInsufficientPID",
                                    "kubelet has insufficient PID available",
                                    "NodeHasInsufficientPID",
                                    "KubeletHasSufficientPID",
                                    "kubelet has sufficient PID available",
                                    "NodeHasSufficientPID"};

std::string Str(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

bj::array& Conditions(bj::object& status) {
  bj::value& c = status["conditions"];
  if (!c.is_array()) c = bj::array();
  return c.as_array();
}

bj::object* Find(bj::array& conditions, std::string_view type) {
  for (bj::value& c : conditions)
    if (c.is_object() && Str(c.as_object(), "type") == type) return &c.as_object();
  return nullptr;
}

// Upstream's pressure setters: an existing condition keeps its transition
// time unless the status flips; a new one starts Unknown, so it always
// "transitions" to its first value.
void SetPressure(bj::array& conditions, const PressureCondition& p, bool pressure,
                 const std::string& now, std::vector<std::string>& events) {
  bj::object* c = Find(conditions, p.type);
  if (c == nullptr) {
    conditions.push_back(bj::object{{"type", p.type}, {"status", "Unknown"}});
    c = &conditions.back().as_object();
  }
  (*c)["lastHeartbeatTime"] = now;
  std::string want = pressure ? "True" : "False";
  if (Str(*c, "status") == want) return;
  (*c)["status"] = want;
  (*c)["reason"] = pressure ? p.true_reason : p.false_reason;
  (*c)["message"] = pressure ? p.true_message : p.false_message;
  (*c)["lastTransitionTime"] = now;
  events.emplace_back(pressure ? p.true_event : p.false_event);
}

void SetReady(bj::array& conditions, const std::vector<std::string>& not_ready,
              const std::string& now, std::vector<std::string>& events) {
  bool ready = not_ready.empty();
  bj::object next{
      {"type", "Ready"},
      {"status", ready ? "True" : "False"},
      {"lastHeartbeatTime", now},
      {"reason", ready ? "KubeletReady" : "KubeletNotReady"},
      {"message", ready ? "kubelet is posting ready status" : AggregateMessage(not_ready)}};
  bj::object* c = Find(conditions, "Ready");
  if (c == nullptr) {
    next["lastTransitionTime"] = now;
    conditions.push_back(std::move(next));
    return;
  }
  if (Str(*c, "status") == Str(next, "status")) {
    const bj::value* t = c->if_contains("lastTransitionTime");
    next["lastTransitionTime"] = t != nullptr ? *t : bj::value(now);
  } else {
    next["lastTransitionTime"] = now;
    events.emplace_back(ready ? "NodeReady" : "NodeNotReady");
  }
  *c = std::move(next);
}

}  // namespace

Result<Reservation> SumReserved(const std::map<std::string, std::string>& system_reserved,
                                const std::map<std::string, std::string>& kube_reserved) {
  Reservation r;
  for (const auto* list : {&system_reserved, &kube_reserved}) {
    const char* what = list == &system_reserved ? "systemReserved" : "kubeReserved";
    for (const auto& [name, value] : *list) {
      std::string field = std::string(what) + "[" + name + "]";
      if (name == "cpu") {
        r.milli_cpu += BERTH_TRY(ParseQuantityMilli(value, field));
      } else if (name == "memory") {
        r.memory += BERTH_TRY(ParseQuantity(value, field));
      } else if (name == "ephemeral-storage") {
        r.ephemeral_storage += BERTH_TRY(ParseQuantity(value, field));
      } else if (name != "pid") {
        return Error(Errc::kInvalidArgument, field + ": cannot reserve \"" + name + "\"");
      }
    }
  }
  return r;
}

bj::object CapacityJson(const NodeResources& r) {
  bj::object c{{"cpu", FormatDecimalMilli(r.milli_cpu)},
               {"memory", FormatBinarySI(r.memory)},
               {"pods", FormatDecimalMilli(r.pods * 1000)}};
  if (r.ephemeral_storage >= 0) c["ephemeral-storage"] = FormatBinarySI(r.ephemeral_storage);
  for (const auto& [name, bytes] : r.hugepages)
    c[name] = FormatBinarySI(bytes);
  return c;
}

bj::object AllocatableJson(const NodeResources& r, const Reservation& reserved,
                           const std::vector<EvictionThreshold>& eviction_hard) {
  auto eviction = [&](const char* signal, int64_t capacity) -> int64_t {
    const EvictionThreshold* t = FindThreshold(eviction_hard, signal);
    return t != nullptr ? t->Resolve(capacity) : 0;
  };
  auto floor0 = [](int64_t v) { return std::max<int64_t>(v, 0); };
  int64_t memory = floor0(r.memory - reserved.memory - eviction(kSignalMemoryAvailable, r.memory));
  for (const auto& [name, bytes] : r.hugepages)
    memory = floor0(memory - bytes);
  bj::object a{{"cpu", FormatDecimalMilli(floor0(r.milli_cpu - reserved.milli_cpu))},
               {"memory", FormatBinarySI(memory)},
               {"pods", FormatDecimalMilli(r.pods * 1000)}};
  if (r.ephemeral_storage >= 0) {
    a["ephemeral-storage"] =
        FormatBinarySI(floor0(r.ephemeral_storage - reserved.ephemeral_storage -
                              eviction(kSignalNodeFsAvailable, r.ephemeral_storage)));
  }
  for (const auto& [name, bytes] : r.hugepages)
    a[name] = FormatBinarySI(bytes);
  return a;
}

std::vector<std::string> SetConditions(bj::object& status, const ConditionInputs& in,
                                       const std::string& now) {
  std::vector<std::string> events;
  bj::array& conditions = Conditions(status);
  SetPressure(conditions, kMemory, in.memory_pressure, now, events);
  SetPressure(conditions, kDisk, in.disk_pressure, now, events);
  SetPressure(conditions, kPid, in.pid_pressure, now, events);
  SetReady(conditions, in.not_ready, now, events);
  return events;
}

std::string AggregateMessage(const std::vector<std::string>& errors) {
  std::vector<std::string> unique;
  for (const std::string& e : errors)
    if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(e);
  if (unique.size() == 1) return unique[0];
  std::string out = "[";
  for (size_t i = 0; i < unique.size(); ++i)
    out += (i > 0 ? ", " : "") + unique[i];
  return out + "]";
}

bj::array ImagesJson(const ::runtime::v1::ListImagesResponse& images, int max_images) {
  std::vector<const ::runtime::v1::Image*> sorted;
  for (const auto& image : images.images())
    sorted.push_back(&image);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->size() > b->size(); });
  if (max_images >= 0 && sorted.size() > static_cast<size_t>(max_images)) {
    sorted.resize(max_images);
  }
  bj::array out;
  for (const auto* image : sorted) {
    bj::array names;
    for (const std::string& d : image->repo_digests())
      if (names.size() < kMaxNamesPerImage) names.emplace_back(d);
    for (const std::string& t : image->repo_tags())
      if (names.size() < kMaxNamesPerImage) names.emplace_back(t);
    out.push_back(bj::object{{"names", std::move(names)},
                             {"sizeBytes", static_cast<int64_t>(image->size())}});
  }
  return out;
}

bool StatusChanged(const bj::object& before, const bj::object& now) {
  auto strip = [](bj::object status) {
    if (bj::value* c = status.if_contains("conditions"); c != nullptr && c->is_array()) {
      for (bj::value& cond : c->as_array())
        if (cond.is_object()) cond.as_object().erase("lastHeartbeatTime");
    }
    return status;
  };
  return strip(before) != strip(now);
}

std::string ConditionStatus(const bj::object& status, const std::string& type) {
  const bj::value* c = status.if_contains("conditions");
  if (c == nullptr || !c->is_array()) return "";
  for (const bj::value& cond : c->as_array())
    if (cond.is_object() && Str(cond.as_object(), "type") == type)
      return Str(cond.as_object(), "status");
  return "";
}

}  // namespace berth::agent
