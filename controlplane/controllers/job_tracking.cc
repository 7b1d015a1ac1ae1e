// The Job controller's pod accounting through the tracking finalizer
// (upstream's trackJobStatusAndRemoveFinalizers and what it calls): a
// finished pod is first listed in status.uncountedTerminatedPods, then
// loses its finalizer, then moves into status.succeeded or failed. Each
// step is written before the next, so a crash or a conflict in between
// neither loses nor double-counts a pod.

#include <algorithm>

#include "common/time.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/job_controller.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

// MaxUncountedPods: status stays small; the rest waits for the next sync.
constexpr size_t kMaxUncountedPods = 500;

bj::array& UncountedList(bj::object& job, const char* which) {
  bj::object& uncounted = api::Child(api::Child(job, "status"), "uncountedTerminatedPods");
  bj::value& list = uncounted[which];
  if (!list.is_array()) list = bj::array();
  return list.as_array();
}

bool Lists(const bj::array& list, const std::string& uid) {
  return std::any_of(list.begin(), list.end(),
                     [&](const bj::value& v) { return v.is_string() && v.as_string() == uid; });
}

// cleanUncountedPodsWithoutFinalizers: uids no pod holds a finalizer for
// any more are counted.
bool CountReleased(bj::object& job, const std::set<std::string>& with_finalizer) {
  bool changed = false;
  for (const char* which : {"succeeded", "failed"}) {
    bj::array& list = UncountedList(job, which);
    bj::array kept;
    for (const bj::value& uid : list)
      if (uid.is_string() && with_finalizer.contains(std::string(uid.as_string())))
        kept.push_back(uid);
    auto released = static_cast<int64_t>(list.size() - kept.size());
    if (released == 0) continue;
    bj::object& status = api::Child(job, "status");
    status[which] = api::LookupInt(job, {"status", which}) + released;
    list = std::move(kept);
    changed = true;
  }
  return changed;
}

bool IsSuccessCriteriaMet(const std::optional<bj::object>& c) {
  return c && StringAt(*c, {"type"}) == "SuccessCriteriaMet";
}

}  // namespace

Status JobController::TrackStatusAndRemoveFinalizers(client::ApiClient& api, Context& ctx,
                                                     bool needs_flush) {
  std::set<std::string> with_finalizer;
  for (const bj::object& pod : ctx.pods) {
    std::string uid = StringAt(pod, {"metadata", "uid"});
    if (HasTrackingFinalizer(pod) && !ctx.expected_rm.contains(uid)) with_finalizer.insert(uid);
  }
  if (CountReleased(ctx.job, with_finalizer)) needs_flush = true;

  std::vector<bj::object> to_remove;
  bool reached_max = false;
  const bool job_deleted = BeingDeleted(ctx.job);
  for (const bj::object& pod : ctx.pods) {
    std::string uid = StringAt(pod, {"metadata", "uid"});
    if (!HasTrackingFinalizer(pod) || ctx.expected_rm.contains(uid)) continue;
    bool failed = IsJobPodFailed(pod, ctx.job);
    bool succeeded = PodPhase(pod) == "Succeeded";
    // canRemoveFinalizer: the Job is going or finishing, or the pod is done.
    if (!job_deleted && !ctx.finished && !succeeded && !failed) continue;
    to_remove.push_back(pod);
    if (succeeded && !ctx.uncounted_failed.contains(uid)) {
      if (!ctx.uncounted_succeeded.contains(uid)) {
        UncountedList(ctx.job, "succeeded").emplace_back(uid);
        needs_flush = true;
      }
    } else if (failed || (ctx.finished && !IsSuccessCriteriaMet(ctx.finished))) {
      // A Job that failed counts its unfinished pods as failed.
      if (!ctx.uncounted_failed.contains(uid) && !Lists(UncountedList(ctx.job, "failed"), uid)) {
        UncountedList(ctx.job, "failed").emplace_back(uid);
        needs_flush = true;
      }
    }
    if (UncountedList(ctx.job, "succeeded").size() + UncountedList(ctx.job, "failed").size() >=
        kMaxUncountedPods) {
      reached_max = true;
      break;
    }
  }

  const std::string now = FormatRfc3339(WallClockNow().tv_sec);
  bj::value& conditions = api::Child(ctx.job, "status")["conditions"];
  if (!conditions.is_array()) conditions = bj::array();
  if (ctx.finished && StringAt(*ctx.finished, {"type"}) == "FailureTarget") {
    // The interim condition is written before the finalizers go; Failed
    // follows once the pods are gone.
    conditions.as_array().emplace_back(*ctx.finished);
    needs_flush = true;
    ctx.finished = NewJobCondition("Failed", "True", StringAt(*ctx.finished, {"reason"}),
                                   StringAt(*ctx.finished, {"message"}), now);
  }
  if (IsSuccessCriteriaMet(ctx.finished)) {
    if (TrueCondition(ctx.job, "SuccessCriteriaMet") == nullptr) {
      conditions.as_array().emplace_back(*ctx.finished);
      needs_flush = true;
    }
    ctx.finished = NewJobCondition("Complete", "True", StringAt(*ctx.finished, {"reason"}),
                                   StringAt(*ctx.finished, {"message"}), now);
  }
  BERTH_TRY(FlushAndRemoveFinalizers(api, ctx, to_remove, with_finalizer, needs_flush));
  bool finished = !reached_max && EnactFinished(ctx);
  if (finished) needs_flush = true;
  if (!needs_flush) return Ok();
  BERTH_TRY_CTX(PutStatus(api, ctx), "removing uncounted pods from status");
  if (finished) RecordFinished(ctx.job, *ctx.finished);
  return Ok();
}

Status JobController::FlushAndRemoveFinalizers(client::ApiClient& api, Context& ctx,
                                               const std::vector<bj::object>& to_remove,
                                               std::set<std::string>& uids_with_finalizer,
                                               bool& needs_flush) {
  if (needs_flush) {
    BERTH_TRY_CTX(PutStatus(api, ctx), "adding uncounted pods to status");
    std::lock_guard lock(mu_);
    backoffs_[ctx.key] = ctx.backoff;
    needs_flush = false;
  }
  Status removal = Ok();
  if (!to_remove.empty()) {
    std::vector<bool> removed = RemoveFinalizers(api, ctx.key, to_remove, removal);
    for (size_t i = 0; i < to_remove.size(); ++i)
      if (removed[i]) uids_with_finalizer.erase(StringAt(to_remove[i], {"metadata", "uid"}));
  }
  // What was removed is counted now; a partial failure is still written.
  if (CountReleased(ctx.job, uids_with_finalizer)) needs_flush = true;
  if (!removal.ok() && needs_flush) {
    BERTH_TRY_CTX(PutStatus(api, ctx), "removing uncounted pods from status");
  }
  return removal;
}

std::vector<bool> JobController::RemoveFinalizers(client::ApiClient& api, const std::string& key,
                                                  const std::vector<bj::object>& pods,
                                                  Status& error) {
  std::vector<std::string> uids;
  uids.reserve(pods.size());
  for (const bj::object& pod : pods)
    uids.push_back(StringAt(pod, {"metadata", "uid"}));
  ExpectFinalizersRemoved(key, uids);
  std::vector<bool> removed(pods.size(), false);
  bj::object patch{{"metadata", bj::object{{"$deleteFromPrimitiveList/finalizers",
                                            bj::array{kJobTrackingFinalizer}}}}};
  const std::string body = bj::serialize(patch);
  for (size_t i = 0; i < pods.size(); ++i) {
    const std::string url = "/api/v1/namespaces/" + StringAt(pods[i], {"metadata", "namespace"}) +
                            "/pods/" + StringAt(pods[i], {"metadata", "name"});
    Result<client::ApiResponse> r =
        api.Do("PATCH", url, body, "application/strategic-merge-patch+json");
    if (r.ok() && r->status == 200) {
      removed[i] = true;
      continue;
    }
    // No update will show this removal: stop waiting for it.
    FinalizerRemovalObserved(key, uids[i]);
    if (r.ok() && r->status == 404) {
      removed[i] = true;
      continue;
    }
    if (error.ok()) error = r.ok() ? HttpError("PATCH", url, *r) : r.error();
  }
  return removed;
}

bool JobController::EnactFinished(Context& ctx) {
  if (!ctx.finished) return false;
  if (!UncountedList(ctx.job, "succeeded").empty() || !UncountedList(ctx.job, "failed").empty()) {
    return false;
  }
  // The terminal condition waits for the pods to be gone.
  if (ctx.terminating > 0) return false;
  const bj::object& c = *ctx.finished;
  std::string type = StringAt(c, {"type"});
  std::string now = StringAt(c, {"lastTransitionTime"});
  EnsureJobCondition(ctx.job, type, StringAt(c, {"status"}), StringAt(c, {"reason"}),
                     StringAt(c, {"message"}), now);
  if (type == "Complete") api::Child(ctx.job, "status")["completionTime"] = now;
  return true;
}

Status JobController::PutStatus(client::ApiClient& api, Context& ctx) {
  // As upstream's JSON has them: zero counts and empty uid lists omitted.
  bj::object& status = api::Child(ctx.job, "status");
  for (const char* count : {"active", "succeeded", "failed"}) {
    const bj::value* v = status.if_contains(count);
    if (v != nullptr && v->is_int64() && v->as_int64() == 0) status.erase(count);
  }
  bj::object& uncounted = api::Child(status, "uncountedTerminatedPods");
  for (const char* list : {"succeeded", "failed"}) {
    const bj::value* v = uncounted.if_contains(list);
    if (v != nullptr && v->is_array() && v->as_array().empty()) uncounted.erase(list);
  }
  const std::string url = "/apis/batch/v1/namespaces/" +
                          StringAt(ctx.job, {"metadata", "namespace"}) + "/jobs/" +
                          StringAt(ctx.job, {"metadata", "name"}) + "/status";
  client::ApiResponse r = BERTH_TRY(api.Do("PUT", url, bj::serialize(ctx.job)));
  if (r.status != 200) return HttpError("PUT", url, r);
  bj::value stored = r.Json();
  if (!stored.is_object()) return Error(Errc::kDataLoss, "PUT " + url + ": not a JSON object");
  ctx.job = std::move(stored.as_object());
  return Ok();
}

void JobController::RecordFinished(const bj::object& job, const bj::object& condition) {
  if (StringAt(condition, {"type"}) == "Complete") {
    std::optional<int64_t> completions = JobCompletions(job);
    if (completions && api::LookupInt(job, {"status", "succeeded"}) > *completions) {
      events_.Record(RefOf(job, kJobKind), "Warning", "TooManySucceededPods",
                     "Too many succeeded pods running after completion count reached");
    }
    events_.Record(RefOf(job, kJobKind), "Normal", "Completed", "Job completed");
    return;
  }
  events_.Record(RefOf(job, kJobKind), "Warning", StringAt(condition, {"reason"}),
                 StringAt(condition, {"message"}));
}

}  // namespace berth::controlplane::controllers
