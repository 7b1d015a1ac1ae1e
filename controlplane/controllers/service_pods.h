#pragma once
// The Services and pods both endpoint controllers read, and which
// Services a pod event concerns, as upstream's endpointslice util works
// them out: a pod added or deleted concerns the Services of its
// namespace whose selector matches its labels; a pod updated concerns
// them only when something its endpoints show changed (readiness,
// addresses, deletion, terminal phase) or its labels (or hostname,
// subdomain) did, in which case the Services its old labels matched are
// told too. Services with no selector (or an empty one, which the API
// stores as none) select no pods: their endpoints are the user's.

#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controlplane/client/informer.h"
#include "controlplane/controllers/key_index.h"
#include "controlplane/controllers/shared_informers.h"

namespace berth::controlplane::controllers {

// spec.selector; nullopt when it has none (absent, null or empty).
std::optional<boost::json::object> ServiceSelector(const boost::json::object& service);
// spec.clusterIP is set and not "None" (otherwise the Service is headless).
bool IsServiceIpSet(const boost::json::object& service);
// The pod's spec.hostname belongs in the Service's endpoints: it has one
// and its spec.subdomain is the Service (in the same namespace).
bool ShouldSetHostname(const boost::json::object& pod, const boost::json::object& service);

struct PodChange {
  bool endpoints = false;   // what its endpoints show changed
  bool membership = false;  // its labels, hostname or subdomain changed
};
PodChange PodEndpointsChanged(const boost::json::object& old, const boost::json::object& now);

class ServicePods {
 public:
  // `queue` is called (on informer threads) with the key (namespace/name)
  // of every Service added, updated or deleted, and of every Service a pod
  // event concerns.
  ServicePods(SharedInformers& informers, std::function<void(const std::string&)> queue);
  ServicePods(const ServicePods&) = delete;
  ServicePods& operator=(const ServicePods&) = delete;

  bool Synced() const { return services_.Synced() && pods_.Synced(); }
  std::optional<boost::json::object> Service(const std::string& key) const {
    return services_.Get(key);
  }
  // The pods of the Service's namespace its selector matches (none
  // without a selector).
  std::vector<boost::json::object> SelectedPods(const boost::json::object& service) const;

 private:
  client::InformerHandlers ServiceHandlers();
  client::InformerHandlers PodHandlers();
  // Keys of the Services in `ns` whose selector matches `pod`'s labels.
  std::set<std::string> ServicesSelecting(const boost::json::object& pod) const;

  std::function<void(const std::string&)> queue_;
  KeyIndex services_by_namespace_;
  KeyIndex pods_by_namespace_;
  // Last: their handlers use the members above.
  const client::Informer& services_;
  const client::Informer& pods_;
};

}  // namespace berth::controlplane::controllers
