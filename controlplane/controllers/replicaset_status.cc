#include "controlplane/controllers/replicaset_status.h"

#include <algorithm>

#include "common/time.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/pod_state.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kReplicaFailure[] = "ReplicaFailure";

int64_t IntAt(const bj::object& obj, std::string_view section, std::string_view field) {
  const bj::value* s = obj.if_contains(section);
  const bj::value* v = s != nullptr && s->is_object() ? s->as_object().if_contains(field) : nullptr;
  return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

// The template's labels all present on the pod with the same values.
bool FullyLabeled(const bj::object& pod, const bj::object& rs) {
  const bj::value* tmpl = rs.if_contains("spec");
  const bj::value* labels = nullptr;
  if (tmpl != nullptr && tmpl->is_object()) {
    const bj::value* t = tmpl->as_object().if_contains("template");
    const bj::value* m =
        t != nullptr && t->is_object() ? t->as_object().if_contains("metadata") : nullptr;
    labels = m != nullptr && m->is_object() ? m->as_object().if_contains("labels") : nullptr;
  }
  if (labels == nullptr || !labels->is_object()) return true;
  for (const auto& [key, value] : labels->as_object()) {
    if (!value.is_string()) continue;
    if (StringAt(pod, {"metadata", "labels", key}) != value.as_string()) return false;
    if (!Has(pod, {"metadata", "labels", key})) return false;
  }
  return true;
}

void SetCount(bj::object& status, std::string_view field, int64_t n, bool omit_zero = true) {
  if (n == 0 && omit_zero) {
    status.erase(field);
  } else {
    status[field] = n;
  }
}

bj::array& Conditions(bj::object& status) {
  bj::value& c = status["conditions"];
  if (!c.is_array()) c = bj::array();
  return c.as_array();
}

}  // namespace

int64_t SpecReplicas(const bj::object& obj) {
  const bj::value* spec = obj.if_contains("spec");
  const bj::value* r =
      spec != nullptr && spec->is_object() ? spec->as_object().if_contains("replicas") : nullptr;
  return r != nullptr && r->is_int64() ? r->as_int64() : 1;
}

int64_t MinReadySeconds(const bj::object& obj) {
  return IntAt(obj, "spec", "minReadySeconds");
}

int64_t StatusCount(const bj::object& obj, std::string_view field) {
  return IntAt(obj, "status", field);
}

bj::object CalculateReplicaSetStatus(const bj::object& rs, const std::vector<bj::object>& pods,
                                     const std::optional<std::string>& manage_error, time_t now) {
  bj::object status;
  if (const bj::value* s = rs.if_contains("status"); s != nullptr && s->is_object()) {
    status = s->as_object();
  }
  int64_t fully_labeled = 0, ready = 0, available = 0;
  int64_t min_ready = MinReadySeconds(rs);
  for (const bj::object& pod : pods) {
    if (FullyLabeled(pod, rs)) ++fully_labeled;
    if (IsPodReady(pod)) {
      ++ready;
      if (IsPodAvailable(pod, min_ready, now)) ++available;
    }
  }
  bj::array& conditions = Conditions(status);
  auto failure = std::find_if(conditions.begin(), conditions.end(), [](const bj::value& c) {
    return c.is_object() && StringAt(c.as_object(), {"type"}) == kReplicaFailure;
  });
  if (manage_error && failure == conditions.end()) {
    int64_t diff = static_cast<int64_t>(pods.size()) - SpecReplicas(rs);
    std::string reason = diff < 0 ? "FailedCreate" : diff > 0 ? "FailedDelete" : "";
    conditions.push_back(bj::object{{"type", kReplicaFailure},
                                    {"status", "True"},
                                    {"lastTransitionTime", FormatRfc3339(now)},
                                    {"reason", reason},
                                    {"message", *manage_error}});
  } else if (!manage_error && failure != conditions.end()) {
    conditions.erase(failure);
  }
  if (conditions.empty()) status.erase("conditions");
  SetCount(status, "replicas", static_cast<int64_t>(pods.size()), false);
  SetCount(status, "fullyLabeledReplicas", fully_labeled);
  SetCount(status, "readyReplicas", ready);
  SetCount(status, "availableReplicas", available);
  return status;
}

bool ReplicaSetStatusChanged(const bj::object& rs, const bj::object& status) {
  if (IntAt(rs, "metadata", "generation") != StatusCount(rs, "observedGeneration")) return true;
  const bj::value* old = rs.if_contains("status");
  return old == nullptr || !old->is_object() || old->as_object() != status;
}

bj::object WithObservedGeneration(const bj::object& rs, bj::object status) {
  SetCount(status, "observedGeneration", IntAt(rs, "metadata", "generation"));
  return status;
}

}  // namespace berth::controlplane::controllers
