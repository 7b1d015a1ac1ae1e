#pragma once
// The namespace controller: upstream's namespace lifecycle. The apiserver
// only marks a deleted namespace Terminating (deletionTimestamp, with
// "kubernetes" in spec.finalizers); this controller then empties it
// (namespace_content.h), keeping its deletion conditions current
// (namespace_conditions.h), and looks again while anything remains (pods
// in their grace period, objects held by finalizers). Once it is empty
// it removes "kubernetes" from spec.finalizers through
// PUT /api/v1/namespaces/<name>/finalize, upon which the server deletes
// the namespace; a namespace found finalized but still there (a server
// that waits for another DELETE, as upstream's does) is deleted.

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/namespace_content.h"
#include "controlplane/controllers/shared_informers.h"

namespace berth::controlplane::controllers {

class NamespaceController : public Controller {
 public:
  NamespaceController(client::ClientConfig config, SharedInformers& informers, int workers);
  ~NamespaceController() override;

 protected:
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override { return namespaces_.Synced(); }

 private:
  client::InformerHandlers Handlers();
  // The namespace as stored after its conditions were brought up to date.
  Result<boost::json::object> UpdateConditions(client::ApiClient& api, boost::json::object ns,
                                               const ContentReport& report);
  Status Finalize(client::ApiClient& api, boost::json::object ns);
  Status DeleteFinalized(client::ApiClient& api, const boost::json::object& ns);
  // When to look again at a namespace with content left: 1 s for the
  // first four looks, then doubling every four up to 30 s, so that a
  // namespace stuck on a pod whose node is gone costs little.
  std::chrono::milliseconds RecheckDelay(const std::string& name);
  void ForgetRechecks(const std::string& name);

  std::mutex mu_;
  std::map<std::string, int> rechecks_;  // namespace -> looks that found content left
  const client::Informer& namespaces_;   // last: its handlers use the members above
};

}  // namespace berth::controlplane::controllers
