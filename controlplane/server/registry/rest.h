#pragma once
// The generic REST of every stored resource type over the Store, as
// kube-apiserver's generic registry does it: get, list (label and field
// selectors, limit/continue, resourceVersion semantics), watch (chunked
// JSON events, bookmarks, timeoutSeconds, 410 for compacted history),
// create (generateName, uid, creationTimestamp, generation), update
// (optimistic concurrency on resourceVersion), patch (JSON, merge,
// strategic), delete (preconditions, graceful pod deletion, finalizers;
// a namespace stays Terminating until the namespace controller has
// emptied it and removed its spec.finalizers through /finalize) and
// deletecollection; plus the status, scale and binding subresources.
// Per-kind behaviour comes from api::Kind; Table output from api/table.h.

#include <atomic>
#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "controlplane/server/admission/default_toleration_seconds.h"
#include "controlplane/server/api/request_info.h"
#include "controlplane/server/api/resources.h"
#include "controlplane/server/api/status.h"
#include "controlplane/server/http/https_server.h"
#include "controlplane/server/registry/allocator.h"
#include "controlplane/server/registry/call.h"
#include "controlplane/storage/store.h"

namespace berth::controlplane::registry {

class Rest {
 public:
  // kMain: a client's update of the object (status kept, validated);
  // kStatus: only status changes; kFinalize: only a namespace's
  // spec.finalizers change (namespaces/<name>/finalize); kSystem: the
  // server's own change (binding), stored as made.
  enum class UpdateMode { kMain, kStatus, kFinalize, kSystem };

  // `tolerations`: the DefaultTolerationSeconds admission's, for pods created.
  Rest(storage::Store& store, ServiceAllocator& allocator,
       admission::TolerationDefaults tolerations = {});

  // Serves a resource request (info.is_resource_request).
  void Serve(const UserInfo& user, const api::RequestInfo& info, const api::Query& query,
             const http::Request& req, http::Response& w);
  // Creates the namespaces every cluster has, when missing. (Their
  // `default` ServiceAccounts are the service account controller's.)
  Status EnsureNamespaces(const std::vector<std::string>& names);
  // The `kubernetes` Service in default (`ip`:443) and its Endpoints
  // (`endpoint`:`port`), made or brought up to date.
  Status EnsureKubernetesService(const std::string& ip, const std::string& endpoint, uint16_t port);
  // Ends running watches (server shutdown).
  void Stop() { stopping_ = true; }

  // Store access for other server parts (the kubernetes Service, reviews).
  Result<std::optional<boost::json::object>> Read(const api::ResourceType& type,
                                                  const std::string& ns, const std::string& name);

 private:
  void Get(Call& c);
  void List(Call& c);
  void Watch(Call& c);
  void Create(Call& c);
  void Update(Call& c);
  void Patch(Call& c);
  void Delete(Call& c);
  void DeleteCollection(Call& c);
  void Scale(Call& c);
  void Bind(Call& c, const std::string& pod_name, const boost::json::object& binding);

  ApiResult<boost::json::object> PrepareCreate(Call& c, boost::json::object obj);
  // 404 for a missing namespace, 403 for one being deleted.
  std::optional<api::ApiStatus> CheckNamespaceOpen(const std::string& ns);
  // The objects of a list call, selectors applied (no paging).
  ApiResult<std::vector<boost::json::object>> Select(const Call& c);

  // Reads, changes with `mutate` and writes back; retried when another
  // write raced this one (mutate decides about client preconditions).
  using Mutation = std::function<ApiResult<boost::json::object>(const boost::json::object& old)>;
  ApiResult<boost::json::object> GuaranteedUpdate(const Call& c, const std::string& name,
                                                  const Mutation& mutate, UpdateMode mode);
  // Validates and stores an update of `old` (with its resourceVersion) to
  // `obj`; nothing is written when nothing changed. `raced`: the store
  // refused because the key moved on.
  ApiResult<boost::json::object> StoreUpdate(const Call& c, const std::string& key,
                                             boost::json::object obj,
                                             const boost::json::object& old, UpdateMode mode,
                                             bool& raced);
  ApiResult<boost::json::object> DeleteOne(const Call& c, const std::string& name,
                                           const DeleteOptions& options, bool& deleted);
  void ReleaseOnDelete(const Call& c, const boost::json::object& obj);

  storage::Store& store_;
  ServiceAllocator& allocator_;
  admission::TolerationDefaults tolerations_;
  std::atomic<bool> stopping_{false};
};

}  // namespace berth::controlplane::registry
