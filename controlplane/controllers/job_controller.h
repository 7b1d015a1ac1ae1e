#pragma once
// The Job controller (upstream --controllers name "job",
// pkg/controller/job), for NonIndexed batch/v1 Jobs: it runs
// min(parallelism, completions - succeeded) pods at a time (for a Job
// without completions, parallelism pods until one succeeds), each with
// the batch.kubernetes.io/job-tracking finalizer, and counts pods as they
// finish the way upstream does: a finished pod's uid goes to
// status.uncountedTerminatedPods, its finalizer is removed, and then it
// moves to status.succeeded or status.failed, so that no pod is counted
// twice or lost when it is deleted. A deleted pod that had not succeeded
// counts as failed. More failures than backoffLimit (or, for
// restartPolicy OnFailure, as many container restarts) or a Job active
// longer than activeDeadlineSeconds fail it: the FailureTarget
// condition, the active pods deleted, then the Failed condition once no
// pod is left terminating. Enough successes give SuccessCriteriaMet, then
// Complete with completionTime. A replacement for a failed pod waits
// 10 s, doubling per failure since the last success (at most 10 min).
// spec.suspend deletes the active pods (Suspended condition). Jobs that
// spec.managedBy gives to another controller, and Indexed Jobs (not
// implemented; a Warning event says so), are left alone. Events:
// SuccessfulCreate, SuccessfulDelete, Completed, BackoffLimitExceeded,
// DeadlineExceeded, Suspended, Resumed.

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controlplane/client/event_recorder.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/expectations.h"
#include "controlplane/controllers/job_util.h"
#include "controlplane/controllers/namespace_index.h"
#include "controlplane/controllers/shared_informers.h"
#include "controlplane/controllers/workload_pods.h"

namespace berth::controlplane::controllers {

struct JobControllerOptions {
  int workers = 5;  // upstream --concurrent-job-syncs
  // Pod events and status-only Job updates wait this long, so that a
  // burst of them makes one sync (upstream's syncJobBatchPeriod).
  std::chrono::milliseconds sync_batch_period{1000};
  // DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff.
  std::chrono::milliseconds pod_failure_backoff{10000};
  std::chrono::milliseconds max_pod_failure_backoff{600000};
};

class JobController : public Controller {
 public:
  JobController(const client::ClientConfig& config, SharedInformers& informers,
                JobControllerOptions options);
  ~JobController() override;

 protected:
  // `key`: namespace/name of a Job, or "pod:" + namespace/name of a pod
  // that may have to lose its tracking finalizer (upstream's orphan queue).
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override { return jobs_.Synced() && pods_.Synced(); }

 private:
  // One sync's view of a Job (upstream's syncJobCtx).
  struct Context {
    std::string key;
    boost::json::object job;  // its status changes as the sync goes
    std::vector<boost::json::object> pods;
    std::vector<boost::json::object> active;
    std::set<std::string> uncounted_succeeded, uncounted_failed;  // uids, as the sync began
    std::set<std::string> expected_rm;                            // finalizer removals not yet seen
    int64_t succeeded = 0, failed = 0, ready = 0, terminating = 0;
    std::optional<boost::json::object> finished;  // the condition the Job is headed for
    JobBackoff backoff;
  };

  client::InformerHandlers JobHandlers();
  client::InformerHandlers PodHandlers();
  // The key of the pod's Job if it is cached (uid checked).
  std::string JobKeyOf(const boost::json::object& pod) const;
  void QueueBatched(const std::string& key);
  void QueueOrphan(const boost::json::object& pod);
  void QueueMatching(const boost::json::object& pod);
  void OnPodDeleted(const boost::json::object& pod, bool final);
  // Every cached pod of `job` still holding the tracking finalizer.
  void QueuePodsWithFinalizer(const boost::json::object& job);

  Status SyncJob(client::ApiClient& api, const std::string& key);
  Status SyncOrphanPod(client::ApiClient& api, const std::string& pod_key);
  // manageJob: creates or deletes pods; the number then active.
  Result<int64_t> ManageJob(client::ApiClient& api, Context& ctx, Status& error);
  // Deletes `pods`; how many went and how many of those were ready.
  std::pair<int64_t, int64_t> DeletePods(client::ApiClient& api, const Context& ctx,
                                         const std::vector<boost::json::object>& pods, bool expect,
                                         Status& error);
  Status CreatePods(client::ApiClient& api, const Context& ctx, int64_t count, int64_t& created);

  // job_tracking.cc: counting finished pods through the finalizers.
  Status TrackStatusAndRemoveFinalizers(client::ApiClient& api, Context& ctx, bool needs_flush);
  Status FlushAndRemoveFinalizers(client::ApiClient& api, Context& ctx,
                                  const std::vector<boost::json::object>& to_remove,
                                  std::set<std::string>& uids_with_finalizer, bool& needs_flush);
  // The pods whose finalizer was removed (or that are gone); the first error.
  std::vector<bool> RemoveFinalizers(client::ApiClient& api, const std::string& key,
                                     const std::vector<boost::json::object>& pods, Status& error);
  bool EnactFinished(Context& ctx);
  Status PutStatus(client::ApiClient& api, Context& ctx);
  void RecordFinished(const boost::json::object& job, const boost::json::object& condition);

  // Upstream's finalizerExpectations: pod uids whose finalizer removal
  // was sent but not yet seen, by Job key.
  void ExpectFinalizersRemoved(const std::string& key, const std::vector<std::string>& uids);
  void FinalizerRemovalObserved(const std::string& key, const std::string& uid);
  std::set<std::string> ExpectedRemovals(const std::string& key);
  void Forget(const std::string& key);

  JobControllerOptions options_;
  client::EventRecorder events_;
  PodControl pod_control_;
  Expectations expectations_;
  std::mutex mu_;
  std::map<std::string, std::set<std::string>> rm_finalizers_;
  std::map<std::string, JobBackoff> backoffs_;
  NamespaceIndex pod_index_;  // the pods informer's, kept by PodHandlers
  // Last: their handlers use the members above; the pods' read the Jobs'.
  const client::Informer& jobs_;
  const client::Informer& pods_;
};

inline constexpr OwnerKind kJobKind{"batch/v1", "Job"};

}  // namespace berth::controlplane::controllers
