#pragma once
// One pod's worker: a thread that brings the runtime in line with the pod
// object (kubelet's podWorkers + SyncPod); the thread goes when the worker
// has been idle a while and comes back when there is work (100 running pods
// need no 100 waiting threads). It wakes on a new object from
// the API, a runtime event, a probe result or a timer (backoff, resync),
// inspects the runtime afresh each time, takes the steps still missing
// (admission, volumes, sandbox, init containers in order, sidecars,
// containers, restarts with CrashLoopBackOff) and writes the pod's status
// when it changed. Deletion runs preStop hooks, stops containers within the
// grace period, writes the final status, deletes the object with grace 0
// and removes what the pod left in the runtime and on disk.

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "agent/pods/pod_deps.h"
#include "agent/pods/pod_status.h"
#include "agent/pods/runtime_pod.h"

namespace berth::agent {

// Whether `now`, the pod's object from the API, asks `have`'s worker to
// sync. As upstream's pod config: a change of spec or metadata (labels,
// annotations, deletion) does; a change of status alone only when it is
// not the status the agent wrote (`own_status`, null when none), which the
// watch echoes after each PATCH.
bool UpdateNeedsSync(const boost::json::object& have, const boost::json::object& now,
                     const boost::json::object* own_status);
// `a`'s metadata.resourceVersion is older than `b`'s (false when either
// has none).
bool ResourceVersionOlder(const boost::json::object& a, const boost::json::object& b);

class PodWorker {
 public:
  using Clock = std::chrono::steady_clock;

  PodWorker(PodDeps& deps, boost::json::object pod);
  ~PodWorker();  // stops the thread; the pod keeps running
  PodWorker(const PodWorker&) = delete;
  PodWorker& operator=(const PodWorker&) = delete;

  // A newer object from the API.
  void Update(boost::json::object pod);
  // The object is gone from the API: kill the pod and clean up.
  void Removed();
  // Something changed in the runtime or a probe: sync soon.
  void Poke();
  // A liveness or startup probe failed past its threshold.
  void KillForProbe(const std::string& container, const std::string& message);
  // Finished: the pod was terminated and cleaned up; the manager drops it.
  bool Done() const;
  // A copy of the object the worker acts on.
  boost::json::object Pod() const;
  // A worker whose thread went idle has none; the manager calls this about
  // once a second so that its timer (resync, backoff) still fires.
  void WakeIfDue();
  // A thread is serving the worker (it synced in the last second or so).
  bool Busy() const;

 private:
  struct Backoff {
    Clock::duration delay{};
    int64_t last_finished_at = 0;  // CRI finishedAt the delay was last grown at
    int64_t reported_at = 0;       // the exit a BackOff event was recorded for
  };

  void Run();
  // Starts the thread unless one runs (or the worker is finished).
  void StartThreadLocked();
  // One pass; when it returns the next wake-up is in wake_at_.
  void Sync();
  Status SyncRunning(const boost::json::object& pod, RuntimePod& rt);
  Status Terminate(const boost::json::object& pod, RuntimePod& rt, bool removed);
  Status StopSandbox(const RuntimePod& rt);
  // Probes of a running container (again after an agent restart).
  void TrackProbes(const boost::json::object& pod, const RuntimePod& rt,
                   const v1::ContainerStatus& c);
  Status Cleanup(const RuntimePod& rt);
  Status EnsureSandbox(const boost::json::object& pod, RuntimePod& rt);
  // Starts `spec`'s container (pull, env, create, start, postStart).
  Status StartContainer(const boost::json::object& pod, const RuntimePod& rt,
                        const boost::json::object& spec, uint32_t attempt);
  // True when an exited container of `spec` may start again now;
  // otherwise sets CrashLoopBackOff and a wake-up.
  bool RestartAllowed(const boost::json::object& pod, const v1::ContainerStatus& last);
  Status StopContainer(const boost::json::object& pod, const v1::ContainerStatus& c,
                       int64_t grace_seconds, const std::string& reason_message);
  Status WriteStatus(const boost::json::object& pod, const RuntimePod& rt, bool terminated);
  Status DeleteObject(const boost::json::object& pod);
  void Event(const boost::json::object& pod, const std::string& container, const std::string& type,
             const std::string& reason, const std::string& message);
  void WakeIn(Clock::duration d);

  PodDeps& deps_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  boost::json::object pod_;
  std::string uid_;
  bool pending_ = true;  // a sync was asked for
  bool removed_ = false;
  bool stopping_ = false;
  bool done_ = false;
  bool running_ = false;  // a thread runs Run(); none while the worker is idle
  std::map<std::string, std::string> probe_kills_;  // container -> message
  // Cancelled when the pod starts terminating (or the worker stops): an
  // image pull in flight is abandoned, as upstream's cancelled context.
  PullCancellation pull_cancel_;

  // Worker thread state.
  Clock::time_point wake_at_;
  bool admitted_ = false;
  std::string rejected_reason_, rejected_message_;
  std::map<std::string, ContainerWaiting> waiting_;
  std::map<std::string, Backoff> backoff_;       // container restarts
  std::map<std::string, Backoff> pull_backoff_;  // image pulls
  std::map<std::string, std::string> volumes_;   // volume name -> host path
  std::map<std::string, bool> volume_read_only_;
  boost::json::object last_status_;
  boost::json::object own_status_;  // the status last PATCHed, as the server returned it (mu_)
  std::string last_mount_error_;
  Clock::duration retry_{};
  std::thread thread_;
};

}  // namespace berth::agent
