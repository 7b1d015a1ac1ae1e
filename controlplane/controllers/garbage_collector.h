#pragma once
// The garbage collector, upstream's garbagecollector controller. It
// deletes objects whose owners are gone and carries out the deletion
// propagation the apiserver leaves to it:
//
//   - Background: once an owner is gone, a dependent left with no owner
//     is deleted; one with another owner loses the dangling reference.
//   - Foreground: an owner being deleted with the foregroundDeletion
//     finalizer has its dependents deleted (in foreground too those with
//     dependents of their own); once no dependent whose reference blocks
//     (blockOwnerDeletion) is left, the finalizer goes, and the owner.
//   - Orphan: an owner being deleted with the orphan finalizer: its
//     dependents lose their references to it, then the finalizer goes.
//
// It watches, through the shared informers, every type discovery shows
// that can be listed, watched and deleted (events aside, as upstream),
// discovering again every 30 s, and keeps a graph of owners and
// dependents from their events (gc_graph.h). Workers take uids from two
// queues as upstream's: attemptToDelete (the Controller's queue, Sync)
// and attemptToOrphan. Objects are read from the server before anything
// is done to them, and deleted on preconditions of their uid and version.

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/client/event_recorder.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/gc_graph.h"
#include "controlplane/controllers/gc_operations.h"
#include "controlplane/controllers/shared_informers.h"
#include "controlplane/controllers/work_queue.h"

namespace berth::controlplane::controllers {

class GarbageCollector : public Controller {
 public:
  // `workers` for each queue (upstream: --concurrent-gc-syncs).
  GarbageCollector(client::ClientConfig config, SharedInformers& informers, int workers,
                   std::chrono::seconds resync_period = std::chrono::seconds(30));
  ~GarbageCollector() override;

  // Also starts the discovery thread and the attemptToOrphan workers.
  void Start() override;
  // Stops them first, so that no informer is registered after.
  void Stop() override;

  // The graph has a node for `uid` (for tests, as upstream's GraphHasUID).
  bool GraphHas(const std::string& uid) const;

 protected:
  // attemptToDelete: `key` is a uid.
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override;

 private:
  // What a worker needs of a node, copied out of the graph.
  struct Dependent {
    gc::ObjectIdentity identity;
    bool deleting_dependents = false;
    bool blocks = false;  // its reference to the item has blockOwnerDeletion
  };
  struct Item {
    gc::Node node;
    std::vector<Dependent> dependents;
  };
  enum class Outcome { kDone, kVirtualDeleted, kInvalidReference };
  enum class Reference { kSolid, kDangling, kWaiting, kInvalid };

  std::optional<Item> Snapshot(const std::string& uid) const;
  Result<Outcome> AttemptToDeleteItem(gc::Operations& ops, const Item& item);
  Result<Outcome> ProcessDeletingDependents(gc::Operations& ops, const Item& item);
  // Upstream's isDangling and classifyReferences, for one reference.
  Result<Reference> Classify(gc::Operations& ops, const gc::OwnerReference& ref,
                             const gc::ObjectIdentity& item);
  Status AttemptToOrphan(client::ApiClient& api, const std::string& uid);

  client::InformerHandlers Handlers(const ApiResource& type);
  void Observe(gc::Graph::Change change, const gc::ObjectState& now, const gc::ObjectState* old);
  void VirtualDelete(const gc::ObjectIdentity& identity);
  void Enqueue(const gc::GraphActions& actions);
  // A virtual node's owner exists but no informer showed it yet: look
  // again after a backoff of its own (the queue's is reset on success).
  void RequeueUnobserved(const std::string& uid);

  void DiscoveryLoop();
  bool Resync(client::ApiClient& api);
  void OrphanWork();

  client::ClientConfig config_;
  SharedInformers& informers_;
  int workers_;
  std::chrono::seconds resync_period_;
  gc::RestMapper mapper_;
  client::EventRecorder recorder_;
  WorkQueue attempt_to_orphan_;

  mutable std::mutex graph_mu_;
  gc::Graph graph_;
  std::map<std::string, int> unobserved_retries_;  // uid -> looks

  mutable std::mutex monitors_mu_;
  bool discovered_ = false;
  std::map<std::string, const client::Informer*> monitors_;  // by list URL

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread discovery_;
  std::vector<std::thread> orphan_workers_;
};

}  // namespace berth::controlplane::controllers
