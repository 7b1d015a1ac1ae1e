// The StatefulSet controller's pass over its pods (upstream's
// stateful_set_control.go updateStatefulSet and stateful_pod_control.go).

#include <algorithm>

#include "common/time.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/statefulset_controller.h"
#include "controlplane/controllers/statefulset_pods.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

std::string PodUrl(const bj::object& set, const std::string& name) {
  return "/api/v1/namespaces/" + StringAt(set, {"metadata", "namespace"}) + "/pods/" + name;
}

std::string Name(const bj::object& obj) {
  return StringAt(obj, {"metadata", "name"});
}

bool IsTerminating(const bj::object& pod) {
  return BeingDeleted(pod);
}

// computeReplicaStatus over `pods`, added into the counts.
void CountPods(const std::vector<bj::object>& pods, int64_t min_ready, const std::string& current,
               const std::string& update, int64_t& replicas, int64_t& ready, int64_t& available,
               int64_t& current_n, int64_t& updated_n) {
  time_t now = WallClockNow().tv_sec;
  for (const bj::object& pod : pods) {
    if (IsCreated(pod)) ++replicas;
    if (IsRunningAndReady(pod)) {
      ++ready;
      if (IsRunningAndAvailable(pod, min_ready, now)) ++available;
    }
    if (IsCreated(pod) && !IsTerminating(pod)) {
      if (PodRevision(pod) == current) ++current_n;
      if (PodRevision(pod) == update) ++updated_n;
    }
  }
}

}  // namespace

bj::object StatefulSetController::NewVersionedPod(const Context& ctx, int64_t ordinal) const {
  const bj::object& current = ctx.current_set;
  const bj::value* partition =
      api::Lookup(current, {"spec", "updateStrategy", "rollingUpdate", "partition"});
  bool rolling = StringAt(current, {"spec", "updateStrategy", "type"}) == "RollingUpdate";
  int64_t start = StartOrdinal(current);
  bool at_current =
      rolling && (partition != nullptr && partition->is_int64()
                      ? ordinal < start + partition->as_int64()
                      : ordinal < start + api::LookupInt(current, {"status", "currentReplicas"}));
  if (at_current) return NewStatefulSetPod(current, ordinal, ctx.current_revision);
  return NewStatefulSetPod(ctx.update_set, ordinal, ctx.update_revision);
}

Status StatefulSetController::UpdateStatefulSet(client::ApiClient& api, const Context& ctx,
                                                const std::vector<bj::object>& pods,
                                                SetStatus& status) {
  const bj::object& set = ctx.set;
  status.observed_generation = api::LookupInt(set, {"metadata", "generation"});
  status.current_revision = ctx.current_revision;
  status.update_revision = ctx.update_revision;
  auto recount = [&](std::initializer_list<const std::vector<bj::object>*> lists) {
    status.replicas = status.ready = status.available = status.current = status.updated = 0;
    for (const auto* list : lists) {
      CountPods(*list, ctx.min_ready, ctx.current_revision, ctx.update_revision, status.replicas,
                status.ready, status.available, status.current, status.updated);
    }
  };
  recount({&pods});

  // Pods within [start, end] at their ordinal's slot; the rest condemned.
  int64_t start = StartOrdinal(set);
  int64_t end = EndOrdinal(set);
  std::vector<bj::object> replicas(static_cast<size_t>(std::max<int64_t>(0, end - start + 1)));
  std::vector<bool> filled(replicas.size(), false);
  std::vector<bj::object> condemned;
  for (const bj::object& pod : pods) {
    int64_t ordinal = PodOrdinal(pod);
    if (ordinal >= start && ordinal <= end) {
      replicas[ordinal - start] = pod;
      filled[ordinal - start] = true;
    } else if (ordinal >= 0) {
      condemned.push_back(pod);
    }
  }
  for (size_t i = 0; i < replicas.size(); ++i)
    if (!filled[i]) replicas[i] = NewVersionedPod(ctx, start + static_cast<int64_t>(i));
  std::sort(condemned.begin(), condemned.end(),
            [](const bj::object& a, const bj::object& b) { return PodOrdinal(a) > PodOrdinal(b); });
  std::string first_unhealthy;
  for (const bj::object& pod : replicas) {
    if (!IsHealthy(pod)) {
      first_unhealthy = Name(pod);
      break;
    }
  }
  if (first_unhealthy.empty()) {
    // condemned is in descending order: the lowest ordinal first.
    for (size_t i = condemned.size(); i-- > 0;) {
      if (!IsHealthy(condemned[i])) {
        first_unhealthy = Name(condemned[i]);
        break;
      }
    }
  }
  // A set being deleted only has its status updated.
  if (BeingDeleted(set)) return Ok();

  // OrderedReady stops at the first pod that is not Running and Ready;
  // Parallel goes through all of them.
  auto run = [&](size_t n, auto&& fn) -> Result<bool> {
    Status first_error = Ok();
    for (size_t i = 0; i < n; ++i) {
      Result<bool> stop = fn(i);
      if (!stop.ok()) {
        if (ctx.monotonic) return std::move(stop).error();
        if (first_error.ok()) first_error = stop.error();
        continue;
      }
      if (*stop && ctx.monotonic) return true;
    }
    if (!first_error.ok()) return std::move(first_error).error();
    return false;
  };
  Result<bool> stopped =
      run(replicas.size(), [&](size_t i) { return ProcessReplica(api, ctx, replicas, i); });
  if (!stopped.ok() || *stopped) {
    recount({&replicas, &condemned});
    return stopped.ok() ? Ok() : Status(std::move(stopped).error());
  }
  // Scale down, highest ordinal first, once the remaining pods are healthy.
  stopped = run(condemned.size(), [&](size_t i) {
    return ProcessCondemned(api, ctx, condemned, i, first_unhealthy);
  });
  recount({&replicas, &condemned});
  if (!stopped.ok() || *stopped) return stopped.ok() ? Ok() : Status(std::move(stopped).error());

  if (StringAt(set, {"spec", "updateStrategy", "type"}) == "OnDelete") return Ok();
  // RollingUpdate: the highest ordinal not at the update revision goes,
  // once every pod above it is healthy at the new one.
  const bj::value* p = api::Lookup(set, {"spec", "updateStrategy", "rollingUpdate", "partition"});
  int64_t partition = p != nullptr && p->is_int64() ? p->as_int64() : 0;
  for (int64_t target = static_cast<int64_t>(replicas.size()) - 1; target >= partition; --target) {
    const bj::object& pod = replicas[target];
    if (PodRevision(pod) != ctx.update_revision && !IsTerminating(pod)) {
      Status gone = DeleteStatefulPod(api, set, pod);
      if (!gone.ok() && gone.error().code() != Errc::kNotFound) return gone;
      --status.current;
      return Ok();
    }
    if (!IsHealthy(pod)) return Ok();  // wait for it to update
  }
  return Ok();
}

Result<bool> StatefulSetController::ProcessReplica(client::ApiClient& api, const Context& ctx,
                                                   std::vector<bj::object>& replicas, size_t i) {
  const bj::object& set = ctx.set;
  int64_t ordinal = StartOrdinal(set) + static_cast<int64_t>(i);
  std::string phase = StringAt(replicas[i], {"status", "phase"});
  // A pod that ended (evicted, node rebooted, exit 0) is made again.
  if (phase == "Failed" || phase == "Succeeded") {
    std::string where = StringAt(set, {"metadata", "namespace"}) + "/" + Name(set);
    if (phase == "Failed") {
      events_.Record(RefOf(set, kStatefulSetKind), "Warning", "RecreatingFailedPod",
                     "StatefulSet " + where + " is recreating failed Pod " + Name(replicas[i]));
    } else {
      events_.Record(RefOf(set, kStatefulSetKind), "Normal", "RecreatingTerminatedPod",
                     "StatefulSet " + where + " is recreating terminated Pod " + Name(replicas[i]));
    }
    BERTH_TRY(DeleteStatefulPod(api, set, replicas[i]));
    replicas[i] = NewVersionedPod(ctx, ordinal);
  }
  if (!IsCreated(replicas[i])) {
    BERTH_TRY(CreateStatefulPod(api, set, replicas[i]));
    if (ctx.monotonic) return true;  // one pod at a time
  }
  // A pending pod may be waiting for a claim someone deleted.
  if (StringAt(replicas[i], {"status", "phase"}) == "Pending") {
    BERTH_TRY(CreateClaims(api, set, replicas[i]));
  }
  if (ctx.monotonic) {
    // Every pod before the next one made must be Running, Ready and
    // available, and not on its way out.
    if (IsTerminating(replicas[i])) return true;
    if (!IsRunningAndReady(replicas[i])) return true;
    if (!IsRunningAndAvailable(replicas[i], ctx.min_ready, WallClockNow().tv_sec)) return true;
  }
  if (IdentityMatches(set, replicas[i]) && StorageMatches(set, replicas[i])) return false;
  BERTH_TRY(UpdateStatefulPod(api, ctx.update_set, replicas[i]));
  return false;
}

Result<bool> StatefulSetController::ProcessCondemned(client::ApiClient& api, const Context& ctx,
                                                     const std::vector<bj::object>& condemned,
                                                     size_t i, const std::string& first_unhealthy) {
  const bj::object& pod = condemned[i];
  if (IsTerminating(pod)) return ctx.monotonic;  // wait for it to go
  bool is_first_unhealthy = Name(pod) == first_unhealthy;
  if (ctx.monotonic && !is_first_unhealthy) {
    if (!IsRunningAndReady(pod)) return true;
    if (!IsRunningAndAvailable(pod, ctx.min_ready, WallClockNow().tv_sec)) return true;
  }
  BERTH_TRY(DeleteStatefulPod(api, ctx.set, pod));
  return true;
}

void StatefulSetController::RecordPodEvent(const char* verb, const bj::object& set,
                                           const bj::object& pod, const Status& result) {
  std::string v = verb;
  std::string title = v;
  title[0] = static_cast<char>(title[0] - 'a' + 'A');
  if (result.ok()) {
    events_.Record(RefOf(set, kStatefulSetKind), "Normal", "Successful" + title,
                   v + " Pod " + Name(pod) + " in StatefulSet " + Name(set) + " successful");
  } else {
    events_.Record(RefOf(set, kStatefulSetKind), "Warning", "Failed" + title,
                   v + " Pod " + Name(pod) + " in StatefulSet " + Name(set) +
                       " failed error: " + result.error().str());
  }
}

Status StatefulSetController::CreateClaims(client::ApiClient& api, const bj::object& set,
                                           const bj::object& pod) {
  Status first_error = Ok();
  for (const bj::object& claim : PodClaims(set, PodOrdinal(pod))) {
    const std::string ns = StringAt(claim, {"metadata", "namespace"});
    if (std::optional<bj::object> have = claims_.Get(ns + "/" + Name(claim))) {
      if (BeingDeleted(*have) && first_error.ok()) {
        first_error = Error(Errc::kFailedPrecondition, "pvc " + Name(claim) + " is being deleted");
      }
      continue;
    }
    const std::string url = "/api/v1/namespaces/" + ns + "/persistentvolumeclaims";
    client::ApiResponse r = BERTH_TRY(api.Do("POST", url, bj::serialize(claim)));
    std::string what = "create Claim " + Name(claim);
    if (r.status == 201) {
      events_.Record(RefOf(set, kStatefulSetKind), "Normal", "SuccessfulCreate",
                     what + " Pod " + Name(pod) + " in StatefulSet " + Name(set) + " success");
      continue;
    }
    Error e = HttpError("POST", url, r).Wrap("failed to create PVC " + Name(claim));
    if (r.status != 409) {
      events_.Record(RefOf(set, kStatefulSetKind), "Warning", "FailedCreate",
                     what + " for Pod " + Name(pod) + " in StatefulSet " + Name(set) +
                         " failed error: " + e.str());
    }
    if (first_error.ok()) first_error = std::move(e);
  }
  return first_error;
}

Status StatefulSetController::CreateStatefulPod(client::ApiClient& api, const bj::object& set,
                                                const bj::object& pod) {
  // The claims come first: the pod cannot start without them.
  if (Status claims = CreateClaims(api, set, pod); !claims.ok()) {
    RecordPodEvent("create", set, pod, claims);
    return claims;
  }
  const std::string url =
      "/api/v1/namespaces/" + StringAt(set, {"metadata", "namespace"}) + "/pods";
  client::ApiResponse r = BERTH_TRY(api.Do("POST", url, bj::serialize(pod)));
  if (r.status == 409) return HttpError("POST", url, r);  // the cache is behind: no event
  Status made = r.status == 201 ? Ok() : Status(HttpError("POST", url, r));
  RecordPodEvent("create", set, pod, made);
  return made;
}

Status StatefulSetController::DeleteStatefulPod(client::ApiClient& api, const bj::object& set,
                                                const bj::object& pod) {
  const std::string url = PodUrl(set, Name(pod));
  client::ApiResponse r = BERTH_TRY(api.Do("DELETE", url));
  Status gone = r.status == 200 || r.status == 202 ? Ok() : Status(HttpError("DELETE", url, r));
  RecordPodEvent("delete", set, pod, gone);
  return gone;
}

Status StatefulSetController::UpdateStatefulPod(client::ApiClient& api, const bj::object& set,
                                                bj::object pod) {
  if (!IdentityMatches(set, pod)) UpdateIdentity(set, pod);
  if (!StorageMatches(set, pod)) {
    UpdateStorage(set, pod);
    if (Status claims = CreateClaims(api, set, pod); !claims.ok()) {
      RecordPodEvent("update", set, pod, claims);
      return claims;
    }
  }
  const std::string url = PodUrl(set, Name(pod));
  client::ApiResponse r = BERTH_TRY(api.Do("PUT", url, bj::serialize(pod)));
  Status updated = r.status == 200 ? Ok() : Status(HttpError("PUT", url, r));
  RecordPodEvent("update", set, pod, updated);
  return updated;
}

}  // namespace berth::controlplane::controllers
