#pragma once
// Periodic startup / liveness / readiness probing of running containers,
// as kubelet's probe workers do (upstream pkg/kubelet/prober/worker.go).
//
// Vocabulary. Each probe of a tracked container has a *thresholded
// result*: it starts at readiness Failure, liveness Success, startup
// Unknown, and changes only after successThreshold successes or
// failureThreshold failures in a row. Each change is reported through
// `on_change`; Result() reads the current value.
//
// Lifecycle of a container's probes:
//   AddContainer    the pod worker saw the container running. The first run
//                   of each probe is due at started_at + initialDelaySeconds,
//                   then every periodSeconds.
//   startup         while a startup probe has not succeeded, liveness and
//                   readiness do not run. Its success starts them (at once,
//                   or when their initial delay ends) and ends startup
//                   probing; its thresholded failure is reported (the worker
//                   kills and restarts the container) and probing holds.
//   liveness        a thresholded failure is reported and probing holds
//                   until a new container (AddContainer with another ID).
//   readiness       probes for as long as the container is tracked.
//   PodTerminating  graceful deletion began: liveness and startup read
//                   Success and stop, readiness goes on.
//   RemoveContainer the container exited or was removed.
//
// Who owns what: the pod worker owns container state. A container without
// a readiness probe is ready once started, and a container that is not
// running is neither started nor ready: Started() and Ready() answer with
// those rules for tracked containers, and the worker asks them only for
// running ones.
//
// A run that could not be made (a CRI error, an unknown port name) is tried
// up to three times and then left out of the thresholds, as upstream's.
// Every failed run records Warning "Unhealthy" ("Liveness probe failed:
// <output>", "... probe errored and resulted in unknown state: ..."), a
// redirect not followed records Warning "ProbeWarning", on the container's
// field path (spec.containers{name} / spec.initContainers{name}).
//
// Threads: `runners` threads share one timer queue and run due probes
// (lean: nothing runs between probes). on_change and events are called from
// them, never with the manager's lock held, in order for any one probe.

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "agent/cri/cri_client.h"
#include "agent/probes/probe.h"

namespace berth::agent {

struct ProberOptions {
  // Threads running probes; a probe waits for a free one when all are busy.
  size_t runners = 4;
  // How long one second of periodSeconds / initialDelaySeconds lasts.
  // Tests shorten it; timeoutSeconds always stays in real seconds.
  std::chrono::milliseconds second_for_test{1000};
};

class ProberManager {
 public:
  struct Update {
    std::string pod_uid, container_name, container_id;
    ProbeKind kind;
    ProbeResult result;
    std::string message;  // the output of the probe run that changed the result
  };

  ProberManager(CriClient& cri, std::function<void(const Update&)> on_change,
                controlplane::client::EventRecorder* events, ProberOptions options = {});
  // Waits for running probes to return.
  ~ProberManager();
  ProberManager(const ProberManager&) = delete;
  ProberManager& operator=(const ProberManager&) = delete;

  // Starts probing a running container: `pod` for its UID, metadata (events),
  // and the container's spec (probes, named ports); `started_at` is when the
  // container started (initialDelaySeconds counts from it). The same ID
  // again is a no-op; another ID replaces the old container's probes.
  void AddContainer(
      const boost::json::object& pod, const std::string& container_name,
      const std::string& container_id, std::string pod_ip,
      std::chrono::system_clock::time_point started_at = std::chrono::system_clock::now());
  void RemoveContainer(const std::string& pod_uid, const std::string& container_name);
  void RemovePod(const std::string& pod_uid);
  // Graceful termination began (upstream: a deletionTimestamp): liveness and
  // startup results become Success quietly and stop; readiness goes on.
  void PodTerminating(const std::string& pod_uid);

  // The thresholded result; nullopt when the container is not tracked or
  // has no such probe.
  std::optional<ProbeResult> Result(const std::string& pod_uid, const std::string& container_name,
                                    ProbeKind kind) const;
  // A tracked container without a startup probe, or whose startup probe
  // succeeded.
  bool Started(const std::string& pod_uid, const std::string& container_name) const;
  // Started, and without a readiness probe or with readiness Success.
  bool Ready(const std::string& pod_uid, const std::string& container_name) const;

 private:
  struct Probe;
  struct Container;
  struct Due {
    std::chrono::steady_clock::time_point at;
    std::shared_ptr<Container> container;
    ProbeKind kind;
    uint64_t generation;
    bool operator>(const Due& o) const { return at > o.at; }
  };
  struct Notice;  // what one run produced: events and an update

  void RunLoop();
  void RunDue(std::unique_lock<std::mutex>& lock, const Due& due);
  Notice Apply(Container& c, Probe& p, const ProbeOutcome& out);
  void Emit(const Notice& notice);
  // Starts a new chain of runs for `p` at `at` (older queued runs lapse).
  void ScheduleLocked(const std::shared_ptr<Container>& c, Probe& p,
                      std::chrono::steady_clock::time_point at);
  void ScheduleFirstRunLocked(const std::shared_ptr<Container>& c, Probe& p);
  bool StartedLocked(const Container& c) const;
  const Container* FindLocked(const std::string& pod_uid, const std::string& name) const;
  void RemoveLocked(
      std::map<std::pair<std::string, std::string>, std::shared_ptr<Container>>::iterator it);

  CriClient& cri_;
  std::function<void(const Update&)> on_change_;
  controlplane::client::EventRecorder* events_;
  ProberOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Container>> containers_;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> queue_;
  std::vector<std::thread> threads_;
};

}  // namespace berth::agent
