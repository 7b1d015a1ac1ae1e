#pragma once
// The API objects pods draw on — ConfigMaps, Secrets, Services, service
// account tokens — read for the pod worker and the volume manager.
// ConfigMaps and Secrets are straight reads each time: a changed ConfigMap
// reaches env of the next container start and the next volume refresh.
// Services come from an informer, as kubelet's service lister: every
// Service with a cluster IP (headless ones are not watched), listed once
// and kept current by a watch, so a container start costs no API call.

#include <boost/json.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "controlplane/client/informer.h"
#include "volumes/sources.h"

namespace berth::agent {

class ApiSources {
 public:
  using Getter =
      std::function<Result<boost::json::object>(const std::string& ns, const std::string& name)>;
  explicit ApiSources(controlplane::client::ApiClient& api) : api_(api) {}
  ~ApiSources();  // StopServices()
  ApiSources(const ApiSources&) = delete;
  ApiSources& operator=(const ApiSources&) = delete;

  Getter ConfigMapGetter();
  Getter SecretGetter();

  // Starts the Service informer (list, then watch, on its own thread).
  void StartServices();
  void StopServices();
  // True once the informer has listed (kubelet's serviceHasSynced); until
  // then an API pod's container must not start without its variables.
  bool ServicesSynced() const;
  // Services of `ns` plus default/kubernetes, for the link variables, from
  // the informer's cache (empty before it synced).
  std::vector<boost::json::object> ServicesFor(const std::string& ns) const;

  // Everything the volume manager needs but the node's allocatable.
  volumes::Sources ForVolumes();

 private:
  // kNotFound with upstream's message (`configmap "x" not found`).
  Result<boost::json::object> Get(const std::string& resource, const std::string& singular,
                                  const std::string& ns, const std::string& name);
  void ServiceSeen(const boost::json::object& service);
  void ServiceGone(const boost::json::object& service);

  controlplane::client::ApiClient& api_;
  mutable std::mutex services_mu_;
  // namespace -> name -> Service, as the informer's handlers report them.
  std::map<std::string, std::map<std::string, boost::json::object>> services_;
  std::unique_ptr<controlplane::client::Informer> service_informer_;
};

}  // namespace berth::agent
