#include "controlplane/controllers/namespace_conditions.h"

#include <vector>

#include "common/strings.h"
#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

struct Condition {
  std::string type;
  bool failing = false;
  std::string reason, message;
};

// Upstream's wording, so that what users search for matches.
std::vector<Condition> ConditionsFor(const ContentReport& r) {
  std::vector<Condition> out;
  if (r.discovery_failures.empty()) {
    out.push_back({"NamespaceDeletionDiscoveryFailure", false, "ResourcesDiscovered",
                   "All resources successfully discovered"});
  } else {
    out.push_back({"NamespaceDeletionDiscoveryFailure", true, "DiscoveryFailed",
                   "Discovery failed for some groups, " +
                       std::to_string(r.discovery_failures.size()) +
                       " failing: " + Join(r.discovery_failures, ", ")});
  }
  out.push_back({"NamespaceDeletionGroupVersionParsingFailure", false, "ParsedGroupVersions",
                 "All legacy kube types successfully parsed"});
  if (r.errors.empty()) {
    out.push_back({"NamespaceDeletionContentFailure", false, "ContentDeleted",
                   "All content successfully deleted, may be waiting on finalization"});
  } else {
    out.push_back({"NamespaceDeletionContentFailure", true, "ContentDeletionFailed",
                   "Failed to delete all resource types, " + std::to_string(r.errors.size()) +
                       " remaining: " + Join(r.errors, ", ")});
  }
  if (r.remaining.empty()) {
    out.push_back(
        {"NamespaceContentRemaining", false, "ContentRemoved", "All content successfully removed"});
  } else {
    std::vector<std::string> parts;
    for (const auto& [type, count] : r.remaining)
      parts.push_back(type + " has " + std::to_string(count) + " resource instances");
    out.push_back({"NamespaceContentRemaining", true, "SomeResourcesRemain",
                   "Some resources are remaining: " + Join(parts, ", ")});
  }
  if (r.finalizers.empty()) {
    out.push_back({"NamespaceFinalizersRemaining", false, "ContentHasNoFinalizers",
                   "All content-preserving finalizers finished"});
  } else {
    std::vector<std::string> parts;
    for (const auto& [finalizer, count] : r.finalizers)
      parts.push_back(finalizer + " in " + std::to_string(count) + " resource instances");
    out.push_back({"NamespaceFinalizersRemaining", true, "SomeFinalizersRemain",
                   "Some content in the namespace has finalizers remaining: " + Join(parts, ", ")});
  }
  return out;
}

}  // namespace

bool UpdateDeletionConditions(bj::array& conditions, const ContentReport& report,
                              const std::string& now) {
  bool changed = false;
  for (const Condition& want : ConditionsFor(report)) {
    const char* status = want.failing ? "True" : "False";
    bj::object* have = nullptr;
    for (bj::value& c : conditions) {
      if (c.is_object() && StringAt(c.as_object(), {"type"}) == want.type) {
        have = &c.as_object();
        break;
      }
    }
    if (have == nullptr) {
      conditions.push_back(bj::object{{"type", want.type},
                                      {"status", status},
                                      {"lastTransitionTime", now},
                                      {"reason", want.reason},
                                      {"message", want.message}});
      changed = true;
      continue;
    }
    bool flipped = StringAt(*have, {"status"}) != status;
    if (!flipped && StringAt(*have, {"reason"}) == want.reason &&
        StringAt(*have, {"message"}) == want.message) {
      continue;
    }
    if (flipped) (*have)["lastTransitionTime"] = now;
    (*have)["status"] = status;
    (*have)["reason"] = want.reason;
    (*have)["message"] = want.message;
    changed = true;
  }
  return changed;
}

}  // namespace berth::controlplane::controllers
