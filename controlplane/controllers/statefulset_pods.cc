#include "controlplane/controllers/statefulset_pods.h"

#include <charconv>
#include <set>

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/pod_state.h"
#include "controlplane/controllers/workload_pods.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

const bj::array& ClaimTemplates(const bj::object& set) {
  static const bj::array kNone;
  const bj::value* t = api::Lookup(set, {"spec", "volumeClaimTemplates"});
  return t != nullptr && t->is_array() ? t->as_array() : kNone;
}

std::string ClaimName(const bj::object& set, const bj::object& claim_template, int64_t ordinal) {
  return StringAt(claim_template, {"metadata", "name"}) + "-" +
         StringAt(set, {"metadata", "name"}) + "-" + std::to_string(ordinal);
}

// getParentNameAndOrdinal: "<parent>-<digits>".
bool ParentAndOrdinal(const std::string& name, std::string& parent, int64_t& ordinal) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash + 1 == name.size()) return false;
  const char* begin = name.data() + dash + 1;
  const char* end = name.data() + name.size();
  auto [ptr, ec] = std::from_chars(begin, end, ordinal);
  if (ec != std::errc() || ptr != end || ordinal < 0) return false;
  parent = name.substr(0, dash);
  return true;
}

}  // namespace

int64_t StartOrdinal(const bj::object& set) {
  return api::LookupInt(set, {"spec", "ordinals", "start"});
}

int64_t EndOrdinal(const bj::object& set) {
  return StartOrdinal(set) + api::LookupInt(set, {"spec", "replicas"}) - 1;
}

int64_t PodOrdinal(const bj::object& pod) {
  std::string parent;
  int64_t ordinal = -1;
  return ParentAndOrdinal(StringAt(pod, {"metadata", "name"}), parent, ordinal) ? ordinal : -1;
}

bool IsMemberOf(const bj::object& set, const bj::object& pod) {
  std::string parent;
  int64_t ordinal = -1;
  return ParentAndOrdinal(StringAt(pod, {"metadata", "name"}), parent, ordinal) &&
         parent == StringAt(set, {"metadata", "name"});
}

std::string StatefulPodName(const bj::object& set, int64_t ordinal) {
  return StringAt(set, {"metadata", "name"}) + "-" + std::to_string(ordinal);
}

std::string PodRevision(const bj::object& pod) {
  return StringAt(pod, {"metadata", "labels", kStatefulSetRevisionLabel});
}

std::vector<bj::object> PodClaims(const bj::object& set, int64_t ordinal) {
  std::vector<bj::object> out;
  const bj::value* match = api::Lookup(set, {"spec", "selector", "matchLabels"});
  for (const bj::value& t : ClaimTemplates(set)) {
    if (!t.is_object()) continue;
    bj::object claim = t.as_object();
    claim.erase("status");
    bj::object& meta = api::Child(claim, "metadata");
    meta["name"] = ClaimName(set, t.as_object(), ordinal);
    meta["namespace"] = StringAt(set, {"metadata", "namespace"});
    bj::object& labels = api::Child(meta, "labels");
    if (match != nullptr && match->is_object()) {
      for (const auto& [k, v] : match->as_object())
        labels[k] = v;
    }
    claim["apiVersion"] = "v1";
    claim["kind"] = "PersistentVolumeClaim";
    out.push_back(std::move(claim));
  }
  return out;
}

void UpdateIdentity(const bj::object& set, bj::object& pod) {
  int64_t ordinal = PodOrdinal(pod);
  bj::object& meta = api::Child(pod, "metadata");
  std::string name = StatefulPodName(set, ordinal);
  meta["name"] = name;
  meta["namespace"] = StringAt(set, {"metadata", "namespace"});
  bj::object& labels = api::Child(meta, "labels");
  labels[kStatefulSetPodNameLabel] = name;
  labels[kPodIndexLabel] = std::to_string(ordinal);
}

void UpdateStorage(const bj::object& set, bj::object& pod) {
  int64_t ordinal = PodOrdinal(pod);
  bj::object& spec = api::Child(pod, "spec");
  bj::array volumes;
  std::set<std::string> templated;
  for (const bj::value& t : ClaimTemplates(set)) {
    if (!t.is_object()) continue;
    std::string name = StringAt(t.as_object(), {"metadata", "name"});
    templated.insert(name);
    volumes.emplace_back(
        bj::object{{"name", name},
                   {"persistentVolumeClaim",
                    bj::object{{"claimName", ClaimName(set, t.as_object(), ordinal)}}}});
  }
  if (const bj::value* current = spec.if_contains("volumes"); current && current->is_array()) {
    for (const bj::value& v : current->as_array())
      if (v.is_object() && !templated.contains(StringAt(v.as_object(), {"name"})))
        volumes.push_back(v);
  }
  spec["volumes"] = std::move(volumes);
}

bj::object NewStatefulSetPod(const bj::object& set, int64_t ordinal, const std::string& revision) {
  const bj::value* t = api::Lookup(set, {"spec", "template"});
  bj::object pod_template = t != nullptr && t->is_object() ? t->as_object() : bj::object();
  bj::object pod =
      PodFromTemplate(pod_template, set, ControllerRef(set, {"apps/v1", "StatefulSet"}));
  api::Child(pod, "metadata")["name"] = StatefulPodName(set, ordinal);
  UpdateIdentity(set, pod);
  bj::object& spec = api::Child(pod, "spec");
  // Set once, at creation: hostname and subdomain are immutable.
  spec["hostname"] = StatefulPodName(set, ordinal);
  std::string service = StringAt(set, {"spec", "serviceName"});
  if (!service.empty()) spec["subdomain"] = service;
  UpdateStorage(set, pod);
  api::Child(api::Child(pod, "metadata"), "labels")[kStatefulSetRevisionLabel] = revision;
  return pod;
}

bool IdentityMatches(const bj::object& set, const bj::object& pod) {
  int64_t ordinal = PodOrdinal(pod);
  return ordinal >= 0 && IsMemberOf(set, pod) &&
         StringAt(pod, {"metadata", "name"}) == StatefulPodName(set, ordinal) &&
         StringAt(pod, {"metadata", "namespace"}) == StringAt(set, {"metadata", "namespace"}) &&
         StringAt(pod, {"metadata", "labels", kStatefulSetPodNameLabel}) ==
             StringAt(pod, {"metadata", "name"});
}

bool StorageMatches(const bj::object& set, const bj::object& pod) {
  int64_t ordinal = PodOrdinal(pod);
  if (ordinal < 0) return false;
  const bj::value* volumes = api::Lookup(pod, {"spec", "volumes"});
  for (const bj::value& t : ClaimTemplates(set)) {
    if (!t.is_object()) continue;
    std::string name = StringAt(t.as_object(), {"metadata", "name"});
    std::string want = ClaimName(set, t.as_object(), ordinal);
    bool found = false;
    if (volumes != nullptr && volumes->is_array()) {
      for (const bj::value& v : volumes->as_array()) {
        if (v.is_object() && StringAt(v.as_object(), {"name"}) == name) {
          found = StringAt(v.as_object(), {"persistentVolumeClaim", "claimName"}) == want;
          break;
        }
      }
    }
    if (!found) return false;
  }
  return true;
}

bool IsCreated(const bj::object& pod) {
  return !StringAt(pod, {"status", "phase"}).empty();
}

bool IsRunningAndReady(const bj::object& pod) {
  return StringAt(pod, {"status", "phase"}) == "Running" && IsPodReady(pod);
}

bool IsRunningAndAvailable(const bj::object& pod, int64_t min_ready_seconds, time_t now) {
  return StringAt(pod, {"status", "phase"}) == "Running" &&
         IsPodAvailable(pod, min_ready_seconds, now);
}

bool IsHealthy(const bj::object& pod) {
  return IsRunningAndReady(pod) && !BeingDeleted(pod);
}

}  // namespace berth::controlplane::controllers
