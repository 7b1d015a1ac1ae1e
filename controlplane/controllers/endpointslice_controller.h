#pragma once
// The EndpointSlice controller, as upstream's "endpointslice": for every
// Service with a selector (and not of type ExternalName), EndpointSlices
// (discovery.k8s.io/v1) listing the pods it selects, labelled
// kubernetes.io/service-name=<Service> and
// endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io,
// owned by the Service (endpointslice_reconciler.h says what they hold).
// Services without a selector are left to their users, and so are slices
// the controller does not manage.
//
// Keys are Services (namespace/name), queued on Service events, on pod
// events that concern them (service_pods.h), and a second after a
// managed slice changed behind the controller's back (its own writes are
// told apart by endpointslice_tracker.h). A sync whose slice cache is
// behind the controller's own writes is retried (soon: the watch event of
// the write is normally on its way). Failed syncs record a
// FailedToUpdateEndpointSlices Warning on the Service and are retried
// with upstream's backoff (1 s doubling).

#include <boost/json.hpp>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "controlplane/client/event_recorder.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/endpointslice_reconciler.h"
#include "controlplane/controllers/endpointslice_tracker.h"
#include "controlplane/controllers/key_index.h"
#include "controlplane/controllers/service_pods.h"
#include "controlplane/controllers/shared_informers.h"
#include "controlplane/controllers/trigger_time_tracker.h"

namespace berth::controlplane::controllers {

class EndpointSliceController : public Controller {
 public:
  // `max_endpoints_per_slice`: upstream's --max-endpoints-per-slice.
  EndpointSliceController(client::ClientConfig config, SharedInformers& informers, int workers,
                          size_t max_endpoints_per_slice);
  ~EndpointSliceController() override;

 protected:
  // `key`: a Service (namespace/name).
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override {
    return service_pods_.Synced() && nodes_.Synced() && slices_.Synced();
  }

 private:
  client::InformerHandlers SliceHandlers();
  void QueueForSlice(const boost::json::object& slice);
  // The cached slices the controller manages for a Service.
  std::vector<boost::json::object> ManagedSlices(const std::string& service_key) const;
  // Carries out `plan`; the first write that failed.
  Status Apply(client::ApiClient& api, const boost::json::object& service, EndpointSlicePlan& plan,
               const std::string& trigger_time);
  Status DeleteSlicesOfDeletedService(client::ApiClient& api, const std::string& key);
  // The slice cache is behind the controller's writes: look again soon.
  Status RetryStale(const std::string& key);
  void ForgetStale(const std::string& key);

  size_t max_endpoints_per_slice_;
  client::EventRecorder events_;
  TriggerTimeTracker trigger_times_;
  EndpointSliceTracker tracker_;
  KeyIndex slices_by_service_;  // managed slices, by Service key
  std::mutex mu_;
  std::map<std::string, int> stale_retries_;  // by Service key
  // Last: their handlers use the members above.
  ServicePods service_pods_;
  const client::Informer& nodes_;
  const client::Informer& slices_;
};

}  // namespace berth::controlplane::controllers
