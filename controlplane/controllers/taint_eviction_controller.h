#pragma once
// The taint eviction controller (upstream's "taint-eviction-controller",
// pkg/controller/tainteviction): a pod bound to a node with NoExecute
// taints is evicted (DELETE, with its own grace period, after the
// DisruptionTarget condition is set) at once when it does not tolerate
// one of them, when its tolerationSeconds have passed when it tolerates
// them for a while, and never when it tolerates them for good. A pending
// eviction is cancelled when the taints go or the pod comes to tolerate
// them. Events (component "taint-eviction-controller"):
// TaintManagerEviction "Marking for deletion Pod <ns>/<name>" and
// "Cancelling deletion of Pod <ns>/<name>".
//
// Unlike upstream, which counts tolerationSeconds from when it saw the
// taint, the time counts from the taint's timeAdded (when it has one,
// as the node lifecycle controller's taints do), so a restarted
// controller does not start the count over; eviction is decided from the
// caches each time a pod or its node changes, and a pod waiting for its
// time is looked at again then.

#include <boost/json.hpp>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "controlplane/client/event_recorder.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/api_time.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/pods_by_node.h"
#include "controlplane/controllers/shared_informers.h"
#include "controlplane/controllers/taints.h"

namespace berth::controlplane::controllers {

class TaintEvictionController : public Controller {
 public:
  TaintEvictionController(client::ClientConfig config, SharedInformers& informers, int workers);
  ~TaintEvictionController() override;

 protected:
  // Keys: "node:<name>" (its NoExecute taints changed: its pods are
  // queued) and "pod:<ns>/<name>".
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override { return nodes_.Synced() && pods_.Synced(); }

 private:
  client::InformerHandlers NodeHandlers();
  client::InformerHandlers PodHandlers();

  void SyncNode(const std::string& name);
  Status SyncPod(client::ApiClient& api, const std::string& key);
  // The node's NoExecute taints and since when each counts.
  std::vector<TaintSince> NoExecuteTaintsSince(const boost::json::object& node);
  // Forgets a pending eviction of the pod, with the event that says so.
  void Cancel(const std::string& key, const std::string& uid);
  Status Evict(client::ApiClient& api, const std::string& key, const boost::json::object& pod);

  client::EventRecorder recorder_;
  PodsByNode pods_by_node_;

  std::mutex mu_;
  // node -> taint -> when first seen, for taints without timeAdded.
  std::map<std::string, std::map<std::string, WallTime>> first_seen_;
  std::map<std::string, WallTime> pending_;  // pod key -> when it is to be evicted

  // Last: their handlers use the members above.
  const client::Informer& nodes_;
  const client::Informer& pods_;
};

}  // namespace berth::controlplane::controllers
