#pragma once
// The TTL-after-finished controller (upstream --controllers name
// "ttl-after-finished", pkg/controller/ttlafterfinished): a finished Job
// (Complete or Failed) with spec.ttlSecondsAfterFinished is deleted that
// many seconds after its terminal condition's lastTransitionTime, with
// propagationPolicy Foreground, so the garbage collector removes its pods
// first. Before deleting, the Job is read again uncached, and deleted
// only if its TTL (perhaps edited meanwhile) still says so, with its uid
// as a precondition.

#include <string>

#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/shared_informers.h"

namespace berth::controlplane::controllers {

class TtlAfterFinishedController : public Controller {
 public:
  TtlAfterFinishedController(client::ClientConfig config, SharedInformers& informers, int workers);
  ~TtlAfterFinishedController() override;

 protected:
  // `key`: namespace/name of a Job.
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override { return jobs_.Synced(); }

 private:
  client::InformerHandlers Handlers();
  // processTTL: true when the Job's TTL has expired; when it will expire
  // later, the key is queued for then.
  Result<bool> Expired(const std::string& key, const boost::json::object& job);

  const client::Informer& jobs_;
};

}  // namespace berth::controlplane::controllers
