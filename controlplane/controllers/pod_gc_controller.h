#pragma once
// The pod garbage collector (upstream's "podgc", pkg/controller/podgc).
// Every period it force-deletes (gracePeriodSeconds=0, after marking the
// pod Failed):
//   - pods bound to a node that no longer exists: one missing from the
//     node cache for the quarantine period and then confirmed gone by a
//     GET, with the DisruptionTarget condition "DeletionByPodGC" (this
//     includes pods in graceful deletion there: no kubelet will finish
//     them);
//   - terminating pods on a node that is not ready and tainted
//     node.kubernetes.io/out-of-service (non-graceful node shutdown);
//   - terminating pods bound to no node;
//   - the oldest terminated pods (evicted ones first) beyond
//     --terminated-pod-gc-threshold.
// As upstream, a terminating pod on a node that exists but is merely
// unreachable is left alone: its kubelet may still be running it.

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/shared_informers.h"

namespace berth::controlplane::controllers {

struct PodGcOptions {
  // --terminated-pod-gc-threshold (0: terminated pods are kept).
  int terminated_pod_threshold = 12500;
  // How often pods are looked at and how long a node must be missing
  // before its pods go: upstream's gcCheckPeriod and quarantineTime.
  std::chrono::milliseconds period{20000};
  std::chrono::milliseconds quarantine{40000};
};

class PodGcController : public Controller {
 public:
  PodGcController(client::ClientConfig config, SharedInformers& informers, PodGcOptions options);
  ~PodGcController() override;

 protected:
  // One key, "gc": the periodic pass.
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override { return nodes_.Synced() && pods_.Synced(); }

 private:
  // Collects the failures of one pass.
  struct Failures {
    size_t count = 0;
    std::optional<Error> first;
    void Add(Status s);
  };
  using Pods = std::vector<boost::json::object>;
  using Nodes = std::map<std::string, boost::json::object>;

  void GcTerminated(client::ApiClient& api, const Pods& pods, Failures& failures);
  void GcTerminating(client::ApiClient& api, const Pods& pods, const Nodes& nodes,
                     Failures& failures);
  void GcOrphaned(client::ApiClient& api, const Pods& pods, const Nodes& nodes, Failures& failures);
  void GcUnscheduledTerminating(client::ApiClient& api, const Pods& pods, Failures& failures);
  // Sets phase Failed (and `condition`) unless the pod finished, then
  // deletes it with no grace period.
  Status MarkFailedAndDelete(client::ApiClient& api, const boost::json::object& pod,
                             const std::optional<boost::json::object>& condition);

  PodGcOptions options_;
  // Nodes pods are bound to but the cache lacks -> since when (only the
  // "gc" key's worker touches it).
  std::map<std::string, std::chrono::steady_clock::time_point> missing_since_;
  const client::Informer& nodes_;
  const client::Informer& pods_;
};

}  // namespace berth::controlplane::controllers
