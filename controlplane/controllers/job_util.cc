#include "controlplane/controllers/job_util.h"

#include <algorithm>

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/pod_state.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

const bj::array& Conditions(const bj::object& job) {
  static const bj::array kNone;
  const bj::value* c = api::Lookup(job, {"status", "conditions"});
  return c != nullptr && c->is_array() ? c->as_array() : kNone;
}

int64_t Restarts(const bj::object& pod) {
  int64_t n = 0;
  for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
    const bj::value* statuses = api::Lookup(pod, {"status", list});
    if (statuses == nullptr || !statuses->is_array()) continue;
    for (const bj::value& s : statuses->as_array())
      if (s.is_object()) n += api::LookupInt(s.as_object(), {"restartCount"});
  }
  return n;
}

}  // namespace

const bj::object* TrueCondition(const bj::object& job, std::string_view type) {
  for (const bj::value& c : Conditions(job)) {
    if (!c.is_object()) continue;
    const bj::object& cond = c.as_object();
    if (StringAt(cond, {"type"}) == type && StringAt(cond, {"status"}) == "True") return &cond;
  }
  return nullptr;
}

bool IsJobFinished(const bj::object& job) {
  return TrueCondition(job, "Complete") != nullptr || TrueCondition(job, "Failed") != nullptr;
}

bj::object NewJobCondition(std::string_view type, std::string_view status, std::string_view reason,
                           std::string_view message, const std::string& now) {
  return bj::object{{"type", type},       {"status", status},     {"reason", reason},
                    {"message", message}, {"lastProbeTime", now}, {"lastTransitionTime", now}};
}

bool EnsureJobCondition(bj::object& job, std::string_view type, std::string_view status,
                        std::string_view reason, std::string_view message, const std::string& now) {
  bj::value& list = api::Child(job, "status")["conditions"];
  if (!list.is_array()) list = bj::array();
  for (bj::value& c : list.as_array()) {
    if (!c.is_object() || StringAt(c.as_object(), {"type"}) != type) continue;
    bj::object& cond = c.as_object();
    if (StringAt(cond, {"status"}) == status && StringAt(cond, {"reason"}) == reason &&
        StringAt(cond, {"message"}) == message) {
      return false;
    }
    if (StringAt(cond, {"status"}) != status) cond["lastTransitionTime"] = now;
    cond["status"] = status;
    cond["reason"] = reason;
    cond["message"] = message;
    cond["lastProbeTime"] = now;
    return true;
  }
  if (status != "True") return false;
  list.as_array().emplace_back(NewJobCondition(type, status, reason, message, now));
  return true;
}

bool JobSuspended(const bj::object& job) {
  const bj::value* s = api::Lookup(job, {"spec", "suspend"});
  return s != nullptr && s->is_bool() && s->as_bool();
}

std::optional<int64_t> JobCompletions(const bj::object& job) {
  const bj::value* c = api::Lookup(job, {"spec", "completions"});
  if (c == nullptr || !c->is_int64()) return std::nullopt;
  return c->as_int64();
}

bool HasTrackingFinalizer(const bj::object& pod) {
  std::vector<std::string> finalizers = StringsAt(pod, {"metadata", "finalizers"});
  return std::find(finalizers.begin(), finalizers.end(), kJobTrackingFinalizer) != finalizers.end();
}

bool OnlyReplaceFailedPods(const bj::object& job) {
  return StringAt(job, {"spec", "podReplacementPolicy"}) == "Failed" ||
         Has(job, {"spec", "podFailurePolicy"});
}

bool IsJobPodFailed(const bj::object& pod, const bj::object& job) {
  std::string phase = StringAt(pod, {"status", "phase"});
  if (phase == "Failed") return true;
  if (OnlyReplaceFailedPods(job)) return false;
  // A deleted pod counts as failed: it may never reach a terminal phase.
  return BeingDeleted(pod) && phase != "Succeeded";
}

time_t PodFinishedTime(const bj::object& pod) {
  time_t latest = -1;
  const bj::value* statuses = api::Lookup(pod, {"status", "containerStatuses"});
  if (statuses != nullptr && statuses->is_array()) {
    for (const bj::value& s : statuses->as_array()) {
      if (!s.is_object()) continue;
      time_t t = api::ParseRfc3339(StringAt(s.as_object(), {"state", "terminated", "finishedAt"}));
      latest = std::max(latest, t);
    }
  }
  if (latest >= 0) return latest;
  const bj::value* conditions = api::Lookup(pod, {"status", "conditions"});
  if (conditions != nullptr && conditions->is_array()) {
    for (const bj::value& c : conditions->as_array()) {
      if (!c.is_object()) continue;
      const bj::object& cond = c.as_object();
      if (StringAt(cond, {"type"}) == "Ready" && StringAt(cond, {"status"}) == "False") {
        time_t t = api::ParseRfc3339(StringAt(cond, {"lastTransitionTime"}));
        if (t >= 0) return t;
      }
    }
  }
  time_t deleted = api::ParseRfc3339(StringAt(pod, {"metadata", "deletionTimestamp"}));
  if (deleted >= 0) return deleted;
  return std::max<time_t>(0, api::ParseRfc3339(StringAt(pod, {"metadata", "creationTimestamp"})));
}

bool PastBackoffLimitOnFailure(const bj::object& job, const std::vector<bj::object>& pods) {
  if (StringAt(job, {"spec", "template", "spec", "restartPolicy"}) != "OnFailure") return false;
  int64_t restarts = 0;
  for (const bj::object& pod : pods) {
    std::string phase = StringAt(pod, {"status", "phase"});
    if (phase == "Running" || phase == "Pending") restarts += Restarts(pod);
  }
  int64_t limit = api::LookupInt(job, {"spec", "backoffLimit"});
  return limit == 0 ? restarts > 0 : restarts >= limit;
}

JobBackoff NextJobBackoff(JobBackoff record, std::vector<time_t> succeeded_finish,
                          std::vector<time_t> failed_finish) {
  std::sort(succeeded_finish.begin(), succeeded_finish.end());
  std::sort(failed_finish.begin(), failed_finish.end());
  if (succeeded_finish.empty()) {
    if (failed_finish.empty()) return record;
    record.failures_after_success += static_cast<int64_t>(failed_finish.size());
    record.last_failure = failed_finish.back();
    return record;
  }
  // A success starts the count over; failures after it count again.
  record = JobBackoff{};
  time_t last_success = succeeded_finish.back();
  for (auto it = failed_finish.rbegin(); it != failed_finish.rend() && *it > last_success; ++it) {
    if (!record.last_failure) record.last_failure = *it;
    ++record.failures_after_success;
  }
  return record;
}

std::chrono::milliseconds RemainingJobBackoff(const JobBackoff& record,
                                              std::chrono::milliseconds base,
                                              std::chrono::milliseconds max, timespec now) {
  using std::chrono::milliseconds;
  if (record.failures_after_success == 0 || !record.last_failure) return milliseconds::zero();
  milliseconds backoff = base;
  for (int64_t i = 1; i < record.failures_after_success && backoff < max; ++i)
    backoff *= 2;
  backoff = std::min(backoff, max);
  milliseconds elapsed =
      std::chrono::seconds(now.tv_sec - *record.last_failure) + milliseconds(now.tv_nsec / 1000000);
  return elapsed >= backoff ? milliseconds::zero() : backoff - elapsed;
}

std::vector<bj::object> ActivePodsForRemoval(std::vector<bj::object> pods, size_t count) {
  auto phase_rank = [](const bj::object& p) {
    std::string phase = StringAt(p, {"status", "phase"});
    return phase == "Pending" ? 0 : phase == "Running" ? 2 : 1;
  };
  std::stable_sort(pods.begin(), pods.end(), [&](const bj::object& a, const bj::object& b) {
    bool sa = !StringAt(a, {"spec", "nodeName"}).empty();
    bool sb = !StringAt(b, {"spec", "nodeName"}).empty();
    if (sa != sb) return !sa;
    if (phase_rank(a) != phase_rank(b)) return phase_rank(a) < phase_rank(b);
    bool ra = IsPodReady(a);
    bool rb = IsPodReady(b);
    if (ra != rb) return !ra;
    if (ra) {
      time_t ta = PodReadyTime(a);
      time_t tb = PodReadyTime(b);
      if (ta != tb) return ta > tb;
    }
    if (Restarts(a) != Restarts(b)) return Restarts(a) > Restarts(b);
    return api::ParseRfc3339(StringAt(a, {"metadata", "creationTimestamp"})) >
           api::ParseRfc3339(StringAt(b, {"metadata", "creationTimestamp"}));
  });
  if (pods.size() > count) pods.resize(count);
  return pods;
}

}  // namespace berth::controlplane::controllers
