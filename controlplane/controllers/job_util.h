#pragma once
// What the Job controller reads from Jobs and their pods, as upstream's
// pkg/controller/job (utils.go, backoff_utils.go, job_controller.go's
// helpers) reads it: conditions, how pods count (failed, terminating,
// finished when), the pod failure backoff, and which active pods go
// first when there are too many.

#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::controlplane::controllers {

inline constexpr char kJobTrackingFinalizer[] = "batch.kubernetes.io/job-tracking";

// A Complete or Failed condition is True.
bool IsJobFinished(const boost::json::object& job);
// The condition of `type` with status True, if any.
const boost::json::object* TrueCondition(const boost::json::object& job, std::string_view type);
boost::json::object NewJobCondition(std::string_view type, std::string_view status,
                                    std::string_view reason, std::string_view message,
                                    const std::string& now);
// ensureJobConditionStatus: sets the condition in `job`'s status (a new
// one only when `status` is True); true when anything changed.
bool EnsureJobCondition(boost::json::object& job, std::string_view type, std::string_view status,
                        std::string_view reason, std::string_view message, const std::string& now);

bool JobSuspended(const boost::json::object& job);
// spec.completions; nullopt for a work-queue job.
std::optional<int64_t> JobCompletions(const boost::json::object& job);
bool HasTrackingFinalizer(const boost::json::object& pod);
// podReplacementPolicy Failed (or a podFailurePolicy): terminating pods
// count as active until they fail.
bool OnlyReplaceFailedPods(const boost::json::object& job);
// isPodFailed: Failed, or (unless only failed pods are replaced) being
// deleted before it succeeded.
bool IsJobPodFailed(const boost::json::object& pod, const boost::json::object& job);
// getFinishedTime: the last container's finishedAt, else when Ready went
// False, else the deletion time, else the creation time.
time_t PodFinishedTime(const boost::json::object& pod);
// pastBackoffLimitOnFailure: restartPolicy OnFailure and the running or
// pending pods' container restarts reached backoffLimit.
bool PastBackoffLimitOnFailure(const boost::json::object& job,
                               const std::vector<boost::json::object>& pods);

// Upstream's backoffRecord: failed pods since the last success, and when
// the last of them finished.
struct JobBackoff {
  int64_t failures_after_success = 0;
  std::optional<time_t> last_failure;
};
// newBackoffRecord: `record` after the pods newly counted this sync.
JobBackoff NextJobBackoff(JobBackoff record, std::vector<time_t> succeeded_finish,
                          std::vector<time_t> failed_finish);
// How long before another pod may be made: base * 2^(failures-1) (at
// most `max`) after the last failure; zero when that passed.
std::chrono::milliseconds RemainingJobBackoff(const JobBackoff& record,
                                              std::chrono::milliseconds base,
                                              std::chrono::milliseconds max, timespec now);

// controller.ActivePods order: which of the active pods to delete first
// (unscheduled, pending, not ready, ready for less time, more restarts,
// newer). Returns the first `count`.
std::vector<boost::json::object> ActivePodsForRemoval(std::vector<boost::json::object> pods,
                                                      size_t count);

}  // namespace berth::controlplane::controllers
