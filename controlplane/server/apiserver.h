#pragma once
// `berth server`: the apiserver, assembled. Start makes (or loads) the
// cluster PKI under --data-dir, opens the store (SQLite under --data-dir,
// or etcd at --datastore-endpoint), serves HTTPS and writes the admin
// kubeconfig pointing at the bound port.
//
// Served to authenticated clients: /version, /healthz, /livez, /readyz,
// discovery (/api, /apis, ...) and the REST of every resource type in
// api/resources.cc (registry/rest.h); any other path is a 404 Status.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "common/error.h"
#include "controlplane/server/auth/node_authorizer.h"
#include "controlplane/server/auth/rbac.h"
#include "controlplane/server/auth/service_account_token.h"
#include "controlplane/server/authn.h"
#include "controlplane/server/cluster_pki.h"
#include "controlplane/server/compactor.h"
#include "controlplane/server/http/https_server.h"
#include "controlplane/server/kubelet_proxy.h"
#include "controlplane/server/registry/allocator.h"
#include "controlplane/server/registry/rest.h"
#include "controlplane/server/reviews.h"
#include "controlplane/server/token_file.h"
#include "controlplane/storage/store.h"

namespace berth::controlplane {

struct ApiServerOptions {
  std::string data_dir = "/var/lib/berth/server";
  std::string bind_address = "0.0.0.0";
  uint16_t secure_port = 6443;
  std::string service_cluster_ip_range = "10.96.0.0/12";
  std::string service_node_port_range = "30000-32767";
  // "" or sqlite://<path>: SQLite (default <data-dir>/db/state.db);
  // http://host:port (https://): etcd v3, as k3s reads the flag.
  std::string datastore_endpoint;
  std::string token_auth_file;
  std::string advertise_host = "127.0.0.1";  // the host the admin kubeconfig names
  // History older than one interval is compacted (0: never), as
  // --etcd-compaction-interval.
  std::chrono::seconds compaction_interval{300};
  // The DefaultTolerationSeconds admission's tolerationSeconds for the
  // not-ready and unreachable NoExecute taints
  // (--default-not-ready-toleration-seconds, --default-unreachable-...).
  int default_not_ready_toleration_seconds = 300;
  int default_unreachable_toleration_seconds = 300;
};

// The Kubernetes version this apiserver reports (and whose API it serves).
inline constexpr char kKubernetesMajor[] = "1";
inline constexpr char kKubernetesMinor[] = "33";

class ApiServer {
 public:
  static Result<std::unique_ptr<ApiServer>> Start(const ApiServerOptions& options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  uint16_t port() const { return https_->port(); }
  const std::string& admin_kubeconfig() const { return pki_.admin_kubeconfig; }
  const ClusterPki& pki() const { return pki_; }
  storage::Store& store() { return *store_; }
  void Stop();

 private:
  ApiServer() = default;
  void Handle(const http::Request& req, http::Response& w);
  // Impersonate-User/-Group/-Uid/-Extra-*: the user the request acts as,
  // when `user` may impersonate it; else the 403 to send.
  std::variant<UserInfo, api::ApiStatus> Impersonate(const http::Request& req,
                                                     const UserInfo& user);
  // NodeRestriction admission: a 403 for what a node may not do.
  std::optional<api::ApiStatus> NodeRestriction(const UserInfo& user, const api::RequestInfo& info,
                                                const http::Request& req) const;
  void ServeNonResource(const http::Request& req, const api::RequestInfo& info,
                        http::Response& w) const;
  // The namespaces and the `kubernetes` Service every cluster has.
  Status Bootstrap();

  ApiServerOptions options_;
  ClusterPki pki_;
  std::optional<TokenFile> tokens_;
  std::optional<auth::ServiceAccountTokens> service_account_tokens_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<auth::NodeAuthorizer> node_authorizer_;
  std::unique_ptr<auth::RbacAuthorizer> rbac_;
  std::unique_ptr<auth::ChainAuthorizer> authorizer_;
  std::unique_ptr<Reviews> reviews_;
  std::unique_ptr<KubeletProxy> kubelet_proxy_;
  std::unique_ptr<Compactor> compactor_;
  std::unique_ptr<registry::ServiceAllocator> allocator_;
  std::unique_ptr<registry::Rest> rest_;
  std::unique_ptr<http::HttpsServer> https_;
};

// The first address of a service CIDR (the kubernetes service's VIP), or
// an error naming the flag.
Result<std::string> FirstServiceIp(const std::string& cidr);

}  // namespace berth::controlplane
