#pragma once
// Which namespaced resource types a server serves, from its discovery
// documents (GET /api/v1, GET /apis, and GET /apis/<group>/<version> for
// each group's preferred version), as the namespace controller needs
// them: types that can be listed and deleted, without subresources
// ("pods/status"). events.k8s.io events are left out: they are the core/v1
// events' objects under another API.

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "controlplane/client/api_client.h"

namespace berth::controlplane::controllers {

struct ApiResource {
  std::string group;  // "" for core
  std::string version;
  std::string resource;  // plural: "deployments"
  std::vector<std::string> verbs;

  bool Can(std::string_view verb) const;
  // The collection in namespace `ns`: "/apis/apps/v1/namespaces/ns/deployments".
  std::string Collection(const std::string& ns) const;
  // As upstream names a GroupVersionResource's group and resource in
  // messages: "deployments.apps", and "pods." for the core group.
  std::string Display() const;
};

struct Discovery {
  std::vector<ApiResource> resources;
  // Groups whose resource list could not be read, each with why; what
  // they serve is missing from `resources`.
  std::vector<std::string> failed_groups;
};

// Fails only when /api/v1 or /apis cannot be read.
Result<Discovery> DiscoverNamespacedResources(client::ApiClient& api);

}  // namespace berth::controlplane::controllers
