#pragma once
// The API objects pods draw on — ConfigMaps, Secrets, Services, service
// account tokens — read for the pod worker and the volume manager.
// Straight reads each time: a changed ConfigMap reaches env of the next
// container start and the next volume refresh.

#include <boost/json.hpp>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "volumes/sources.h"

namespace berth::agent {

class ApiSources {
 public:
  using Getter =
      std::function<Result<boost::json::object>(const std::string& ns, const std::string& name)>;
  explicit ApiSources(controlplane::client::ApiClient& api) : api_(api) {}

  Getter ConfigMapGetter();
  Getter SecretGetter();
  // Services of `ns` plus default/kubernetes, for the link variables.
  std::vector<boost::json::object> ServicesFor(const std::string& ns);
  // Everything the volume manager needs but the node's allocatable.
  volumes::Sources ForVolumes();

 private:
  // kNotFound with upstream's message (`configmap "x" not found`).
  Result<boost::json::object> Get(const std::string& resource, const std::string& singular,
                                  const std::string& ns, const std::string& name);

  controlplane::client::ApiClient& api_;
};

}  // namespace berth::agent
