#include "controlplane/controllers/job_controller.h"

#include <algorithm>
#include <cstring>

#include "common/time.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/controller_ref.h"
#include "controlplane/controllers/pod_readiness.h"
#include "controlplane/controllers/pod_state.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kOrphanPrefix[] = "pod:";
constexpr char kJobControllerName[] = "kubernetes.io/job-controller";
// MaxPodCreateDeletePerSync.
constexpr int64_t kMaxPodCreateDeletePerSync = 500;

std::string JobUrl(const bj::object& job) {
  return "/apis/batch/v1/namespaces/" + StringAt(job, {"metadata", "namespace"}) + "/jobs/" +
         StringAt(job, {"metadata", "name"});
}

std::string Now() {
  return FormatRfc3339(WallClockNow().tv_sec);
}

std::set<std::string> UidSet(const bj::object& job, std::string_view which) {
  std::vector<std::string> uids = StringsAt(job, {"status", "uncountedTerminatedPods", which});
  return {uids.begin(), uids.end()};
}

}  // namespace

JobController::JobController(const client::ClientConfig& config, SharedInformers& informers,
                             JobControllerOptions options)
    : Controller("job", config, options.workers),
      options_(options),
      events_(config, "job-controller"),
      pod_control_(events_, kJobKind),
      jobs_(informers.Register("/apis/batch/v1/jobs", JobHandlers())),
      pods_(informers.Register("/api/v1/pods", PodHandlers())) {}

JobController::~JobController() {
  Stop();
}

// ---- informer handlers

void JobController::QueueBatched(const std::string& key) {
  queue().AddAfter(key, options_.sync_batch_period);
}

void JobController::QueueOrphan(const bj::object& pod) {
  queue().Add(kOrphanPrefix + client::ObjectKey(pod));
}

void JobController::QueuePodsWithFinalizer(const bj::object& job) {
  for (const bj::object& pod : pod_index_.List(pods_, StringAt(job, {"metadata", "namespace"})))
    if (IsControlledBy(pod, job) && HasTrackingFinalizer(pod)) QueueOrphan(pod);
}

void JobController::QueueMatching(const bj::object& pod) {
  for (const bj::object& job : InNamespace(jobs_, StringAt(pod, {"metadata", "namespace"}))) {
    Result<api::LabelSelector> selector = WorkloadSelector(job);
    if (selector.ok() && !selector->empty() && selector->Matches(LabelsOf(pod))) {
      QueueBatched(client::ObjectKey(job));
    }
  }
}

std::string JobController::JobKeyOf(const bj::object& pod) const {
  std::optional<OwnerRef> ref = ControllerOf(pod);
  if (!ref || ref->kind != kJobKind.kind) return "";
  std::string key = StringAt(pod, {"metadata", "namespace"}) + "/" + ref->name;
  std::optional<bj::object> job = jobs_.Get(key);
  if (!job || StringAt(*job, {"metadata", "uid"}) != ref->uid) return "";
  return key;
}

client::InformerHandlers JobController::JobHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& job) { queue().Add(client::ObjectKey(job)); };
  h.updated = [this](const bj::object& old, const bj::object& job) {
    const std::string key = client::ObjectKey(job);
    // A spec change syncs now; status updates (ours, mostly) are batched.
    if (api::LookupInt(job, {"metadata", "generation"}) ==
        api::LookupInt(old, {"metadata", "generation"})) {
      QueueBatched(key);
    } else {
      queue().Add(key);
    }
    // A finished Job should have no finalizers left on its pods.
    if (IsJobFinished(job)) QueuePodsWithFinalizer(job);
    std::optional<int64_t> deadline = IntAt(job, {"spec", "activeDeadlineSeconds"});
    time_t start = api::ParseRfc3339(StringAt(job, {"status", "startTime"}));
    if (deadline && start >= 0 && deadline != IntAt(old, {"spec", "activeDeadlineSeconds"})) {
      queue().AddAfter(key, std::chrono::seconds(start + *deadline - WallClockNow().tv_sec));
    }
  };
  h.deleted = [this](const bj::object& job) {
    queue().Add(client::ObjectKey(job));
    QueuePodsWithFinalizer(job);
  };
  return h;
}

void JobController::OnPodDeleted(const bj::object& pod, bool final) {
  bool has_finalizer = HasTrackingFinalizer(pod);
  if (!ControllerOf(pod)) {
    // Perhaps the garbage collector removed the reference to its Job.
    if (has_finalizer) QueueOrphan(pod);
    return;
  }
  std::string key = JobKeyOf(pod);
  std::optional<bj::object> job = key.empty() ? std::nullopt : jobs_.Get(key);
  if (!job || IsJobFinished(*job)) {
    if (has_finalizer) QueueOrphan(pod);  // no Job sync will remove it
    return;
  }
  expectations_.DeletionObserved(key, client::ObjectKey(pod));
  if (final || !has_finalizer) FinalizerRemovalObserved(key, StringAt(pod, {"metadata", "uid"}));
  QueueBatched(key);
}

client::InformerHandlers JobController::PodHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& pod) {
    pod_index_.Add(pod);
    if (BeingDeleted(pod)) {
      OnPodDeleted(pod, false);
      return;
    }
    if (ControllerOf(pod)) {
      std::string key = JobKeyOf(pod);
      if (key.empty()) return;
      expectations_.CreationObserved(key);
      QueueBatched(key);
      return;
    }
    if (HasTrackingFinalizer(pod)) QueueOrphan(pod);
    QueueMatching(pod);
  };
  h.updated = [this](const bj::object& old, const bj::object& pod) {
    pod_index_.Add(pod);
    if (StringAt(old, {"metadata", "resourceVersion"}) ==
        StringAt(pod, {"metadata", "resourceVersion"})) {
      return;
    }
    if (BeingDeleted(pod)) {
      OnPodDeleted(pod, false);
      return;
    }
    bool finalizer_removed = !HasTrackingFinalizer(pod);
    const std::string uid = StringAt(pod, {"metadata", "uid"});
    std::optional<OwnerRef> now_ref = ControllerOf(pod);
    std::optional<OwnerRef> old_ref = ControllerOf(old);
    bool ref_changed = (now_ref ? now_ref->uid : "") != (old_ref ? old_ref->uid : "");
    if (ref_changed && old_ref) {
      if (std::string key = JobKeyOf(old); !key.empty()) {
        if (finalizer_removed) FinalizerRemovalObserved(key, uid);
        QueueBatched(key);
      }
    }
    if (now_ref) {
      std::string key = JobKeyOf(pod);
      if (key.empty()) return;
      if (finalizer_removed) FinalizerRemovalObserved(key, uid);
      QueueBatched(key);
      return;
    }
    if (HasTrackingFinalizer(pod)) QueueOrphan(pod);
    const bj::object* labels = LabelsOf(pod);
    const bj::object* old_labels = LabelsOf(old);
    bool labels_changed = (labels == nullptr) != (old_labels == nullptr) ||
                          (labels != nullptr && *labels != *old_labels);
    if (labels_changed || ref_changed) QueueMatching(pod);
  };
  h.deleted = [this](const bj::object& pod) {
    pod_index_.Remove(pod);
    OnPodDeleted(pod, true);
  };
  return h;
}

// ---- finalizer expectations

void JobController::ExpectFinalizersRemoved(const std::string& key,
                                            const std::vector<std::string>& uids) {
  std::lock_guard lock(mu_);
  rm_finalizers_[key].insert(uids.begin(), uids.end());
}

void JobController::FinalizerRemovalObserved(const std::string& key, const std::string& uid) {
  std::lock_guard lock(mu_);
  auto it = rm_finalizers_.find(key);
  if (it == rm_finalizers_.end()) return;
  it->second.erase(uid);
  if (it->second.empty()) rm_finalizers_.erase(it);
}

std::set<std::string> JobController::ExpectedRemovals(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = rm_finalizers_.find(key);
  return it == rm_finalizers_.end() ? std::set<std::string>{} : it->second;
}

void JobController::Forget(const std::string& key) {
  expectations_.Delete(key);
  std::lock_guard lock(mu_);
  rm_finalizers_.erase(key);
  backoffs_.erase(key);
}

// ---- sync

Status JobController::Sync(client::ApiClient& api, const std::string& key) {
  if (key.starts_with(kOrphanPrefix)) return SyncOrphanPod(api, key.substr(strlen(kOrphanPrefix)));
  return SyncJob(api, key);
}

Status JobController::SyncOrphanPod(client::ApiClient& api, const std::string& pod_key) {
  std::optional<bj::object> pod = pods_.Get(pod_key);
  if (!pod || !HasTrackingFinalizer(*pod)) return Ok();
  if (std::optional<OwnerRef> ref = ControllerOf(*pod)) {
    if (ref->kind != kJobKind.kind || ref->api_version != kJobKind.api_version) return Ok();
    std::string key = JobKeyOf(*pod);
    std::optional<bj::object> job = key.empty() ? std::nullopt : jobs_.Get(key);
    if (job) {
      std::string managed_by = StringAt(*job, {"spec", "managedBy"});
      if (!managed_by.empty() && managed_by != kJobControllerName) return Ok();
      if (!IsJobFinished(*job)) return Ok();  // its Job counts it
    }
  }
  const std::string url = "/api/v1/namespaces/" + StringAt(*pod, {"metadata", "namespace"}) +
                          "/pods/" + StringAt(*pod, {"metadata", "name"});
  bj::object patch{{"metadata", bj::object{{"$deleteFromPrimitiveList/finalizers",
                                            bj::array{kJobTrackingFinalizer}}}}};
  client::ApiResponse r = BERTH_TRY(
      api.Do("PATCH", url, bj::serialize(patch), "application/strategic-merge-patch+json"));
  if (r.status == 200 || r.status == 404) return Ok();
  return HttpError("PATCH", url, r);
}

Status JobController::SyncJob(client::ApiClient& api, const std::string& key) {
  std::optional<bj::object> cached = jobs_.Get(key);
  if (!cached) {
    Forget(key);
    return Ok();
  }
  std::string managed_by = StringAt(*cached, {"spec", "managedBy"});
  if (!managed_by.empty() && managed_by != kJobControllerName) return Ok();
  if (IsJobFinished(*cached)) {
    std::lock_guard lock(mu_);
    backoffs_.erase(key);
    return Ok();
  }
  std::string mode = StringAt(*cached, {"spec", "completionMode"});
  if (!mode.empty() && mode != "NonIndexed") {
    events_.Record(
        RefOf(*cached, kJobKind), "Warning", "UnknownCompletionMode",
        "Skipped Job sync because completion mode " + mode + " is not supported by berth");
    return Ok();
  }

  Context ctx;
  ctx.key = key;
  ctx.job = std::move(*cached);
  bj::object& status = api::Child(ctx.job, "status");
  if (!status["uncountedTerminatedPods"].is_object())
    status["uncountedTerminatedPods"] = bj::object();
  bool satisfied = expectations_.Satisfied(key);
  api::LabelSelector selector = BERTH_TRY_CTX(WorkloadSelector(ctx.job), "job " + key);
  ctx.pods =
      BERTH_TRY_CTX(ClaimPods(api, ctx.job, kJobKind, JobUrl(ctx.job), selector,
                              pod_index_.List(pods_, StringAt(ctx.job, {"metadata", "namespace"}))),
                    "job " + key);
  for (const bj::object& pod : ctx.pods) {
    if (IsPodActive(pod)) {
      ctx.active.push_back(pod);
      if (IsPodReady(pod)) ++ctx.ready;
    }
    if (IsPodTerminating(pod) && !IsPodTerminal(pod)) ++ctx.terminating;
  }
  ctx.uncounted_succeeded = UidSet(ctx.job, "succeeded");
  ctx.uncounted_failed = UidSet(ctx.job, "failed");
  ctx.expected_rm = ExpectedRemovals(key);

  // getNewFinishedPods: finished, still holding the finalizer, not yet
  // listed as uncounted.
  std::vector<time_t> new_succeeded;
  std::vector<time_t> new_failed;
  for (const bj::object& pod : ctx.pods) {
    std::string uid = StringAt(pod, {"metadata", "uid"});
    if (!HasTrackingFinalizer(pod) || ctx.expected_rm.contains(uid)) continue;
    if (PodPhase(pod) == "Succeeded" && !ctx.uncounted_succeeded.contains(uid)) {
      new_succeeded.push_back(PodFinishedTime(pod));
    }
    if (IsJobPodFailed(pod, ctx.job) && !ctx.uncounted_failed.contains(uid)) {
      new_failed.push_back(PodFinishedTime(pod));
    }
  }
  ctx.succeeded = api::LookupInt(ctx.job, {"status", "succeeded"}) +
                  static_cast<int64_t>(new_succeeded.size() + ctx.uncounted_succeeded.size());
  ctx.failed = api::LookupInt(ctx.job, {"status", "failed"}) +
               static_cast<int64_t>(new_failed.size() + ctx.uncounted_failed.size());
  if (!Has(ctx.job, {"status", "startTime"}) && !JobSuspended(ctx.job)) status["startTime"] = Now();
  {
    std::lock_guard lock(mu_);
    ctx.backoff = NextJobBackoff(backoffs_[key], new_succeeded, new_failed);
  }

  const std::string now = Now();
  if (const bj::object* met = TrueCondition(ctx.job, "SuccessCriteriaMet")) ctx.finished = *met;
  if (!ctx.finished) {
    if (const bj::object* target = TrueCondition(ctx.job, "FailureTarget")) {
      ctx.finished = NewJobCondition("Failed", "True", StringAt(*target, {"reason"}),
                                     StringAt(*target, {"message"}), now);
    }
  }
  if (!ctx.finished) {
    std::optional<int64_t> deadline = IntAt(ctx.job, {"spec", "activeDeadlineSeconds"});
    time_t start = api::ParseRfc3339(StringAt(ctx.job, {"status", "startTime"}));
    time_t now_s = WallClockNow().tv_sec;
    if (ctx.failed > api::LookupInt(ctx.job, {"spec", "backoffLimit"}) ||
        PastBackoffLimitOnFailure(ctx.job, ctx.pods)) {
      ctx.finished = NewJobCondition("FailureTarget", "True", "BackoffLimitExceeded",
                                     "Job has reached the specified backoff limit", now);
    } else if (deadline && start >= 0 && !JobSuspended(ctx.job) && now_s - start >= *deadline) {
      ctx.finished = NewJobCondition("FailureTarget", "True", "DeadlineExceeded",
                                     "Job was active longer than specified deadline", now);
    } else if (deadline && start >= 0 && !JobSuspended(ctx.job)) {
      queue().AddAfter(key, std::chrono::seconds(start + *deadline - now_s));
    }
  }

  int64_t active = static_cast<int64_t>(ctx.active.size());
  Status manage_error = Ok();
  bool suspend_changed = false;
  if (ctx.finished) {
    auto [deleted, deleted_ready] = DeletePods(api, ctx, ctx.active, false, manage_error);
    // Pods still there, or not yet in the cache: not finished yet.
    if (deleted != active || !satisfied) ctx.finished.reset();
    active -= deleted;
    ctx.terminating += deleted;
    ctx.ready -= deleted_ready;
  } else {
    bool managed = false;
    if (satisfied && !BeingDeleted(ctx.job)) {
      active = BERTH_TRY_CTX(ManageJob(api, ctx, manage_error), "job " + key);
      managed = true;
    }
    std::optional<int64_t> completions = JobCompletions(ctx.job);
    bool complete = completions ? ctx.succeeded >= *completions && active == 0
                                : ctx.succeeded > 0 && active == 0;
    if (complete) {
      ctx.finished = NewJobCondition("SuccessCriteriaMet", "True", "CompletionsReached",
                                     "Reached expected number of succeeded pods", now);
    } else if (managed && JobSuspended(ctx.job)) {
      if (EnsureJobCondition(ctx.job, "Suspended", "True", "JobSuspended", "Job suspended", now)) {
        suspend_changed = true;
        events_.Record(RefOf(ctx.job, kJobKind), "Normal", "Suspended", "Job suspended");
      }
    } else if (managed) {
      if (EnsureJobCondition(ctx.job, "Suspended", "False", "JobResumed", "Job resumed", now)) {
        suspend_changed = true;
        events_.Record(RefOf(ctx.job, kJobKind), "Normal", "Resumed", "Job resumed");
        // activeDeadlineSeconds counts from the resumption.
        api::Child(ctx.job, "status")["startTime"] = now;
      }
    }
  }

  bj::object& st = api::Child(ctx.job, "status");
  bool needs_update = suspend_changed || active != api::LookupInt(ctx.job, {"status", "active"}) ||
                      ctx.ready != IntAt(ctx.job, {"status", "ready"}).value_or(-1) ||
                      ctx.terminating != IntAt(ctx.job, {"status", "terminating"}).value_or(-1);
  st["active"] = active;
  st["ready"] = ctx.ready;
  st["terminating"] = ctx.terminating;
  BERTH_TRY_CTX(TrackStatusAndRemoveFinalizers(api, ctx, needs_update),
                "job " + key + ": tracking status");
  if (!manage_error.ok()) return std::move(manage_error).error().Wrap("job " + key);
  return Ok();
}

Result<int64_t> JobController::ManageJob(client::ApiClient& api, Context& ctx, Status& error) {
  auto active = static_cast<int64_t>(ctx.active.size());
  if (JobSuspended(ctx.job)) {
    auto [removed, removed_ready] = DeletePods(api, ctx, ctx.active, true, error);
    ctx.ready -= removed_ready;
    return active - removed;
  }
  int64_t parallelism = IntAt(ctx.job, {"spec", "parallelism"}).value_or(1);
  std::optional<int64_t> completions = JobCompletions(ctx.job);
  int64_t want = 0;
  if (!completions) {
    // A work queue: once one pod succeeded, the rest finish on their own.
    want = ctx.succeeded > 0 ? active : parallelism;
  } else {
    want = std::clamp<int64_t>(*completions - ctx.succeeded, 0, parallelism);
  }
  int64_t surplus = std::max<int64_t>(0, active - want);
  if (surplus > 0) {
    std::vector<bj::object> extra =
        ActivePodsForRemoval(ctx.active, std::min(surplus, kMaxPodCreateDeletePerSync));
    auto [removed, removed_ready] = DeletePods(api, ctx, extra, true, error);
    ctx.ready -= removed_ready;
    return active - removed;
  }
  int64_t terminating = OnlyReplaceFailedPods(ctx.job) ? ctx.terminating : 0;
  int64_t missing = want - terminating - active;
  if (missing <= 0) return active;
  std::chrono::milliseconds wait = RemainingJobBackoff(
      ctx.backoff, options_.pod_failure_backoff, options_.max_pod_failure_backoff, WallClockNow());
  if (wait > std::chrono::milliseconds::zero()) {
    queue().AddAfter(ctx.key, std::max(wait, options_.sync_batch_period));
    return active;
  }
  int64_t created = 0;
  error = CreatePods(api, ctx, std::min(missing, kMaxPodCreateDeletePerSync), created);
  return active + created;
}

std::pair<int64_t, int64_t> JobController::DeletePods(client::ApiClient& api, const Context& ctx,
                                                      const std::vector<bj::object>& pods,
                                                      bool expect, Status& error) {
  if (expect && !pods.empty()) {
    std::vector<std::string> keys;
    keys.reserve(pods.size());
    for (const bj::object& pod : pods)
      keys.push_back(client::ObjectKey(pod));
    expectations_.ExpectDeletions(ctx.key, keys);
  }
  int64_t deleted = 0;
  int64_t deleted_ready = 0;
  for (const bj::object& pod : pods) {
    Status gone = pod_control_.Delete(api, ctx.job, StringAt(pod, {"metadata", "name"}));
    if (!gone.ok() && expect) expectations_.DeletionObserved(ctx.key, client::ObjectKey(pod));
    if (!gone.ok() && gone.error().code() != Errc::kNotFound) {
      if (error.ok()) error = gone.error();
      continue;
    }
    ++deleted;
    if (IsPodReady(pod)) ++deleted_ready;
  }
  return {deleted, deleted_ready};
}

Status JobController::CreatePods(client::ApiClient& api, const Context& ctx, int64_t count,
                                 int64_t& created) {
  expectations_.ExpectCreations(ctx.key, static_cast<int>(count));
  const bj::value* t = api::Lookup(ctx.job, {"spec", "template"});
  bj::object pod_template = t != nullptr && t->is_object() ? t->as_object() : bj::object();
  bj::object& meta = api::Child(pod_template, "metadata");
  bj::value& finalizers = meta["finalizers"];
  if (!finalizers.is_array()) finalizers = bj::array();
  if (!HasTrackingFinalizer(pod_template))
    finalizers.as_array().emplace_back(kJobTrackingFinalizer);
  bj::object pod = PodFromTemplate(pod_template, ctx.job, ControllerRef(ctx.job, kJobKind));

  Status first_error = Ok();
  // Slow start: batches of 1, 2, 4...; after a failed batch the rest wait.
  int64_t pos = 0;
  for (int64_t batch = std::min<int64_t>(count, 1); pos < count;
       batch = std::min(2 * batch, count - pos)) {
    bool failed = false;
    for (int64_t i = 0; i < batch; ++i) {
      Result<bj::object> made = pod_control_.Create(api, ctx.job, pod);
      if (made.ok()) {
        ++created;
        continue;
      }
      expectations_.CreationSkipped(ctx.key);
      // A terminating namespace refuses every pod; nothing to retry.
      if (made.error().code() == Errc::kFailedPrecondition) continue;
      failed = true;
      if (first_error.ok()) first_error = made.error();
    }
    pos += batch;
    if (failed) {
      for (int64_t skipped = pos; skipped < count; ++skipped)
        expectations_.CreationSkipped(ctx.key);
      break;
    }
  }
  return first_error;
}

}  // namespace berth::controlplane::controllers
