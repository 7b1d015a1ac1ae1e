#pragma once
// The pods of this node: a watch on pods with spec.nodeName=<node> feeds
// one PodWorker per pod, and the runtime's container events (CRI
// GetContainerEvents; over a runtime without them, such as containerd
// 1.6, a relist each second as kubelet's generic PLEG does) wake the
// worker of the pod they concern. At start, once the watch has listed,
// pods the runtime or the disk still has but the API does not are killed
// and removed (what a crash or a deletion while the agent was away left).

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "agent/pods/pod_deps.h"
#include "agent/pods/pod_worker.h"
#include "controlplane/client/informer.h"

namespace berth::agent {

class PodManager {
 public:
  explicit PodManager(PodDeps deps);
  ~PodManager();  // Stop()

  Status Start();
  // Stops watching and the workers; pods keep running.
  void Stop();
  // The pods the agent runs (kubelet API /pods, admission).
  std::vector<boost::json::object> Pods() const;
  bool Synced() const;
  // A probe's result changed.
  void ProbeChanged(const std::string& pod_uid, const std::string& container, bool kill,
                    const std::string& message);
  // Admission against the pods already admitted (resources, host ports,
  // node selector): "" when it fits, else a reason and message.
  std::pair<std::string, std::string> Admit(const boost::json::object& pod) const;

 private:
  void Upsert(const boost::json::object& pod);
  void Remove(const boost::json::object& pod);
  void Poke(const std::string& uid);
  void Reap();
  void WatchRuntime();
  void Relist(std::map<std::string, std::string>& seen);
  void CleanupOrphans();
  void RefreshVolumes();
  // Once a second: the timers of workers whose threads went idle; when
  // every worker has gone idle after some were busy, ReleaseFreeHeap.
  void WakeDueWorkers();
  void ReleaseFreeHeap();
  // Static pods: reads the manifests, starts and stops their workers and
  // keeps one mirror pod in the API for each.
  void SyncStaticPods();
  // A mirror pod from the watch; false when `pod` is not one.
  bool MirrorChanged(const boost::json::object& pod, bool deleted);
  void CreateMirror(const boost::json::object& static_pod);
  void DeleteMirror(const boost::json::object& mirror);

  PodDeps deps_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<PodWorker>> workers_;  // by uid
  std::map<std::string, boost::json::object> static_pods_;     // by uid (= config hash)
  std::map<std::string, boost::json::object> mirrors_;         // by config hash
  std::set<std::string> static_errors_;                        // reported once each
  std::unique_ptr<controlplane::client::Informer> informer_;
  std::atomic<bool> stopping_{false};
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  std::unique_ptr<grpc::ClientContext> events_call_;
  std::mutex events_mu_;
  std::thread runtime_thread_, volume_thread_, timer_thread_;
};

}  // namespace berth::agent
