#include "controlplane/controllers/pod_gc_controller.h"

#include <algorithm>
#include <set>

#include "common/log.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/pod_updates.h"
#include "controlplane/controllers/taints.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kGcKey[] = "gc";

std::string Phase(const bj::object& pod) {
  return StringAt(pod, {"status", "phase"});
}

bool Terminated(const bj::object& pod) {
  std::string phase = Phase(pod);
  return phase != "Pending" && phase != "Running" && phase != "Unknown";
}

bool Evicted(const bj::object& pod) {
  return Phase(pod) == "Failed" && StringAt(pod, {"status", "reason"}) == "Evicted";
}

std::string Key(const bj::object& pod) {
  return client::ObjectKey(pod);
}

}  // namespace

void PodGcController::Failures::Add(Status s) {
  if (s.ok()) return;
  ++count;
  if (!first) first = std::move(s).error();
}

PodGcController::PodGcController(client::ClientConfig config, SharedInformers& informers,
                                 PodGcOptions options)
    : Controller("podgc", std::move(config), 1),
      options_(options),
      nodes_(informers.Register("/api/v1/nodes", {})),
      pods_(informers.Register("/api/v1/pods", {})) {
  queue().Add(kGcKey);
}

PodGcController::~PodGcController() {
  Stop();
}

Status PodGcController::Sync(client::ApiClient& api, const std::string& key) {
  if (key != kGcKey) return Ok();
  Pods pods;
  for (auto& [k, pod] : pods_.Snapshot())
    pods.push_back(std::move(pod));
  Nodes nodes = nodes_.Snapshot();
  Failures failures;
  if (options_.terminated_pod_threshold > 0) GcTerminated(api, pods, failures);
  GcTerminating(api, pods, nodes, failures);
  GcOrphaned(api, pods, nodes, failures);
  GcUnscheduledTerminating(api, pods, failures);
  queue().AddAfter(kGcKey, options_.period);
  if (!failures.first) return Ok();
  return Error(failures.first->code(), std::to_string(failures.count) +
                                           " pod(s) not deleted, first: " + failures.first->str());
}

void PodGcController::GcTerminated(client::ApiClient& api, const Pods& pods, Failures& failures) {
  std::vector<const bj::object*> terminated;
  for (const bj::object& pod : pods)
    if (Terminated(pod)) terminated.push_back(&pod);
  long excess = static_cast<long>(terminated.size()) - options_.terminated_pod_threshold;
  if (excess <= 0) return;
  BLOG(kInfo) << "podgc: deleting " << excess << " terminated pod(s) beyond the threshold of "
              << options_.terminated_pod_threshold;
  // Evicted first, then the oldest (RFC 3339 UTC times sort as text).
  std::sort(terminated.begin(), terminated.end(), [](const bj::object* a, const bj::object* b) {
    if (Evicted(*a) != Evicted(*b)) return Evicted(*a);
    std::string ca = StringAt(*a, {"metadata", "creationTimestamp"});
    std::string cb = StringAt(*b, {"metadata", "creationTimestamp"});
    if (ca != cb) return ca < cb;
    return StringAt(*a, {"metadata", "name"}) < StringAt(*b, {"metadata", "name"});
  });
  for (long i = 0; i < excess; ++i)
    failures.Add(MarkFailedAndDelete(api, *terminated[i], std::nullopt));
}

void PodGcController::GcTerminating(client::ApiClient& api, const Pods& pods, const Nodes& nodes,
                                    Failures& failures) {
  for (const bj::object& pod : pods) {
    if (!BeingDeleted(pod)) continue;
    auto node = nodes.find(StringAt(pod, {"spec", "nodeName"}));
    if (node == nodes.end()) continue;
    if (ConditionStatus(node->second, "Ready") != "True" &&
        HasTaintKey(node->second, kTaintOutOfService)) {
      BLOG(kInfo) << "podgc: deleting terminating pod " << Key(pod) << " of out-of-service node "
                  << node->first;
      failures.Add(MarkFailedAndDelete(api, pod, std::nullopt));
    }
  }
}

void PodGcController::GcOrphaned(client::ApiClient& api, const Pods& pods, const Nodes& nodes,
                                 Failures& failures) {
  auto now = std::chrono::steady_clock::now();
  for (const bj::object& pod : pods) {
    std::string node = StringAt(pod, {"spec", "nodeName"});
    if (!node.empty() && !nodes.contains(node)) missing_since_.try_emplace(node, now);
  }
  // Missing for the whole quarantine, and not just from the cache.
  std::set<std::string> deleted;
  for (auto it = missing_since_.begin(); it != missing_since_.end();) {
    if (now < it->second + options_.quarantine) {
      ++it;
      continue;
    }
    if (!nodes.contains(it->first)) {
      const std::string url = "/api/v1/nodes/" + it->first;
      Result<client::ApiResponse> got = api.Do("GET", url);
      if (got.ok() && got->status == 404) {
        deleted.insert(it->first);
      } else if (!got.ok() || got->status != 200) {
        BLOG(kWarn) << "podgc: "
                    << (got.ok() ? HttpError("GET", url, *got).str() : got.error().str())
                    << " (looked at again after another quarantine)";
      }
    }
    it = missing_since_.erase(it);
  }
  if (deleted.empty()) return;
  const bj::object condition{{"type", "DisruptionTarget"},
                             {"status", "True"},
                             {"reason", "DeletionByPodGC"},
                             {"message", "PodGC: node no longer exists"}};
  for (const bj::object& pod : pods) {
    std::string node = StringAt(pod, {"spec", "nodeName"});
    if (!deleted.contains(node)) continue;
    BLOG(kInfo) << "podgc: deleting pod " << Key(pod) << " of deleted node " << node;
    failures.Add(MarkFailedAndDelete(api, pod, condition));
  }
}

void PodGcController::GcUnscheduledTerminating(client::ApiClient& api, const Pods& pods,
                                               Failures& failures) {
  for (const bj::object& pod : pods) {
    if (!BeingDeleted(pod) || !StringAt(pod, {"spec", "nodeName"}).empty()) continue;
    BLOG(kInfo) << "podgc: deleting unscheduled terminating pod " << Key(pod);
    failures.Add(MarkFailedAndDelete(api, pod, std::nullopt));
  }
}

Status PodGcController::MarkFailedAndDelete(client::ApiClient& api, const bj::object& pod,
                                            const std::optional<bj::object>& condition) {
  const std::string ns = StringAt(pod, {"metadata", "namespace"});
  const std::string name = StringAt(pod, {"metadata", "name"});
  std::string phase = Phase(pod);
  // Failed first: with no kubelet left to say so, it would stay Running.
  if (phase != "Succeeded" && phase != "Failed") {
    bj::object status{{"phase", "Failed"}};
    if (condition) {
      const bj::value* cached = pod.if_contains("status");
      bj::object current =
          cached != nullptr && cached->is_object() ? cached->as_object() : bj::object();
      UpdatePodCondition(current, *condition, WallClock::now());
      status["conditions"] = current["conditions"];
    }
    Status patched = PatchPodStatus(api, ns, name, status);
    if (!patched.ok() && patched.error().code() == Errc::kNotFound) return Ok();
    BERTH_TRY(std::move(patched));
  }
  return DeletePod(api, ns, name, 0);
}

}  // namespace berth::controlplane::controllers
