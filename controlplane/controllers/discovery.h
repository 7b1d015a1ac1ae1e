#pragma once
// Which resource types a server serves, from its discovery documents
// (GET /api/v1, GET /apis, and GET /apis/<group>/<version> for each
// group's preferred version, or every version), without subresources
// ("pods/status"): all of them for the garbage collector, and the
// namespaced ones as the namespace controller needs them: types that can
// be listed and deleted, events.k8s.io events left out (they are the
// core/v1 events' objects under another API).

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
  std::string kind;      // "Deployment"
  bool namespaced = true;
  bool preferred = true;  // of its group's preferred version
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
// Every type of both scopes, of each group's preferred version and, with
// `all_versions`, of the other versions it serves too. Fails only when
// /api/v1 or /apis cannot be read.
Result<Discovery> DiscoverResources(client::ApiClient& api, bool all_versions);

}  // namespace berth::controlplane::controllers
