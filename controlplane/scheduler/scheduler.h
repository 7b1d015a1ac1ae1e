#pragma once
// berth's pod scheduler: an API client like kube-scheduler. It watches
// nodes, pods and namespaces, takes pending pods whose schedulerName is
// its own one at a time from a SchedulingQueue, filters and scores the
// nodes (plugins.h), assumes the pod onto the chosen node in its cache so
// the next decision already counts it, and binds through pods/binding on
// a pool of binder threads. Events: Scheduled, FailedScheduling (with the
// per-reason node counts); an unschedulable pod also gets the
// PodScheduled=False condition, as upstream sets it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/client/api_client.h"
#include "controlplane/client/event_recorder.h"
#include "controlplane/client/informer.h"
#include "controlplane/scheduler/node_info.h"
#include "controlplane/scheduler/plugins.h"
#include "controlplane/scheduler/scheduling_queue.h"

namespace berth::controlplane::scheduler {

struct SchedulerOptions {
  // Pods naming one of these in spec.schedulerName are ours.
  std::set<std::string> scheduler_names = {"default-scheduler", "berth-scheduler"};
  int binders = 4;  // concurrent pods/binding requests
  QueueTiming queue;
};

class Scheduler {
 public:
  Scheduler(client::ClientConfig config, SchedulerOptions options = {});
  ~Scheduler();  // Stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void Start();
  void Stop();
  // True once nodes, pods and namespaces were listed.
  bool Synced() const;

  // Per-pod attempt latency (pop to binding answered), for the benchmark.
  struct Stats {
    uint64_t bound = 0;
    uint64_t unschedulable = 0;  // attempts that found no node
    uint64_t binding_errors = 0;
    std::vector<double> latencies_ms;  // of successful attempts
  };
  Stats stats() const;

 private:
  struct Binding {
    std::string key, namespace_, name, uid, node;
    client::ObjectRef ref;
    std::chrono::steady_clock::time_point started;
  };

  // Informer handlers (the informers' threads).
  void OnPod(const boost::json::object& pod);
  void OnPodDeleted(const boost::json::object& pod);
  void OnNode(const boost::json::object& node);
  void OnNodeDeleted(const boost::json::object& node);
  void OnNamespace(const boost::json::object& ns);

  // Cache edits; mu_ held.
  void PlacePod(const std::string& key, std::shared_ptr<const PodInfo> info,
                const std::string& node, bool assumed);
  void UnplacePod(const std::string& key);
  void RebuildNodeView();

  void ScheduleLoop();
  void ScheduleOne(const std::string& key);
  void BindLoop(int index);
  void Bind(client::ApiClient& api, const Binding& b);
  void RecordUnschedulable(const boost::json::object& pod, const std::string& message);

  client::ClientConfig config_;
  SchedulerOptions options_;
  client::ApiClient api_;  // status patches
  client::EventRecorder events_;
  SchedulingQueue queue_;
  std::unique_ptr<client::Informer> nodes_informer_, pods_informer_, namespaces_informer_;

  mutable std::mutex mu_;
  std::map<std::string, NodeInfo> nodes_;
  std::map<std::string, boost::json::object> pending_;  // our pods without a node, by key
  // Every placed pod (bound, or assumed while its binding is in flight):
  // key -> node name and its parsed form.
  struct Placed {
    std::string node;
    std::shared_ptr<const PodInfo> info;
    bool assumed = false;
  };
  std::map<std::string, Placed> placed_;
  ClusterView view_;  // pointers into nodes_, and namespace labels
  std::mt19937_64 random_{std::random_device{}()};

  std::mutex bind_mu_;
  std::condition_variable bind_cv_;
  std::deque<Binding> bindings_;
  bool stopping_ = false;

  mutable std::mutex stats_mu_;
  Stats stats_;

  std::thread schedule_thread_;
  std::vector<std::thread> binder_threads_;
  std::atomic<bool> started_{false};
};

}  // namespace berth::controlplane::scheduler
