#pragma once
// The Endpoints controller, as upstream's "endpoint": for every Service
// with a selector (and not of type ExternalName), the core/v1 Endpoints
// object of its name listing the pods it selects (endpoints_subsets.h),
// with the Service's labels (plus service.kubernetes.io/headless for a
// headless Service), the endpoints.kubernetes.io/last-change-trigger-time
// annotation, and endpoints.kubernetes.io/over-capacity when cut to 1000
// addresses. The Endpoints of a Service without a selector are its
// user's; those of a deleted Service are deleted. At start every
// Endpoints object is looked at once, so that one left behind by a
// Service deleted while the controller was down goes too.
//
// Keys are Services (namespace/name), queued on Service events, on pod
// events that concern them (service_pods.h) and when their Endpoints are
// deleted. A write that fails records FailedToCreateEndpoint or
// FailedToUpdateEndpoint on the Endpoints and is retried.

#include <boost/json.hpp>
#include <map>
#include <mutex>
#include <string>

#include "controlplane/client/event_recorder.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/service_pods.h"
#include "controlplane/controllers/shared_informers.h"
#include "controlplane/controllers/trigger_time_tracker.h"

namespace berth::controlplane::controllers {

class EndpointsController : public Controller {
 public:
  EndpointsController(client::ClientConfig config, SharedInformers& informers, int workers);
  ~EndpointsController() override;

 protected:
  // `key`: a Service (namespace/name), or "" for the look at every
  // Endpoints object at start.
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override { return service_pods_.Synced() && endpoints_.Synced(); }

 private:
  client::InformerHandlers EndpointsHandlers();
  void QueueEveryEndpoints();
  Status SyncService(client::ApiClient& api, const std::string& key,
                     const boost::json::object& service);
  // The cached Endpoints are older than this controller's last update.
  bool Stale(const std::string& key, const boost::json::object& cached);
  void Forget(const std::string& key);

  client::EventRecorder events_;
  TriggerTimeTracker trigger_times_;
  std::mutex mu_;
  // Of Endpoints this controller updated: the resourceVersion it replaced
  // (upstream's staleEndpointsTracker: seen again, the cache is behind).
  std::map<std::string, std::string> replaced_;
  // Last: their handlers use the members above.
  ServicePods service_pods_;
  const client::Informer& endpoints_;
};

}  // namespace berth::controlplane::controllers
