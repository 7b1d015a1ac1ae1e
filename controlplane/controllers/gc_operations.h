#pragma once
// The garbage collector's requests to objects known by identity
// (apiVersion, kind, namespace, name): the kind mapped to its resource
// through discovery (RestMapper, upstream's REST mapper), each request
// as upstream's collector makes it.

#include <boost/json.hpp>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "controlplane/controllers/discovery.h"
#include "controlplane/controllers/gc_graph.h"

namespace berth::controlplane::controllers::gc {

// "apps/v1"; "v1" for the core group.
std::string GroupVersion(const ApiResource& type);
// The type's objects in every namespace: "/apis/apps/v1/deployments".
std::string ListUrl(const ApiResource& type);
// One object; `ns` is ignored for a cluster-scoped type.
std::string ObjectUrl(const ApiResource& type, const std::string& ns, const std::string& name);

class RestMapper {
 public:
  // What is known from now on: a discovery's types, every version; with
  // `complete` false (some groups failed), added to what was known.
  void Update(const std::vector<ApiResource>& types, bool complete);
  // The type of `api_version` and `kind`; kFailedPrecondition when
  // discovery has not shown it (yet).
  Result<ApiResource> Map(const std::string& api_version, const std::string& kind) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, ApiResource> types_;  // (apiVersion, kind)
};

class Operations {
 public:
  Operations(client::ApiClient& api, const RestMapper& mapper) : api_(api), mapper_(mapper) {}

  // The object at `identity`'s coordinates; nullopt when there is none.
  Result<std::optional<boost::json::object>> Get(const ObjectIdentity& identity);
  Result<std::optional<boost::json::object>> Get(const ApiResource& type, const std::string& ns,
                                                 const std::string& name);
  // Deletes the object with `policy` ("Background", "Foreground",
  // "Orphan") on the preconditions of its uid and `resource_version`;
  // when only the version is stale and the ownerReferences are still
  // `owners_at_version`, deletes again on the uid alone. kNotFound when
  // the object is gone.
  Status Delete(const ObjectIdentity& identity, const std::string& resource_version,
                const std::vector<OwnerReference>& owners_at_version, std::string_view policy);
  // Removes the object's references to `owner_uids`. kNotFound when the
  // object is gone.
  Status RemoveOwnerReferences(const ObjectIdentity& identity,
                               const std::vector<std::string>& owner_uids);
  // Sets blockOwnerDeletion=false on those of `owners` (the object's
  // references) that block.
  Status UnblockOwnerReferences(const ObjectIdentity& identity,
                                const std::vector<OwnerReference>& owners);
  // Removes `finalizer` from the object, if it is still there.
  Status RemoveFinalizer(const ObjectIdentity& identity, std::string_view finalizer);

 private:
  Result<std::string> Url(const ObjectIdentity& identity) const;
  // A strategic merge patch, or where the server does not take one (415)
  // the JSON merge patch `fallback` makes from the live object.
  Status Patch(const ObjectIdentity& identity, const boost::json::object& strategic,
               const std::function<boost::json::object(const boost::json::object&)>& fallback);
  Result<client::ApiResponse> Send(std::string_view method, const std::string& url,
                                   const boost::json::object& body, std::string_view content_type);

  client::ApiClient& api_;
  const RestMapper& mapper_;
};

}  // namespace berth::controlplane::controllers::gc
