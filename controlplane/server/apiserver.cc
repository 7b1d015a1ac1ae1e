#include "controlplane/server/apiserver.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <boost/json.hpp>

#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"
#include "controlplane/server/api/body.h"
#include "controlplane/server/api/discovery.h"
#include "controlplane/server/api/kinds.h"
#include "controlplane/server/api/openapi.h"
#include "controlplane/server/api/request_info.h"
#include "controlplane/server/api/status.h"
#include "controlplane/server/authn.h"
#include "controlplane/storage/etcd_store.h"
#include "controlplane/storage/sqlite_store.h"
#include "generated/version.h"

namespace berth::controlplane {
namespace {

// The host's own addresses, for the serving certificate's SANs.
std::vector<std::string> HostAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || (a->ifa_flags & IFF_LOOPBACK) != 0) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ifa_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      const in6_addr& addr = reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr;
      if (IN6_IS_ADDR_LINKLOCAL(&addr)) continue;
      inet_ntop(AF_INET6, &addr, text, sizeof text);
    } else {
      continue;
    }
    out.emplace_back(text);
  }
  ::freeifaddrs(list);
  return out;
}

Status CheckNodePortRange(const std::string& range) {
  unsigned lo = 0, hi = 0;
  char tail = 0;
  if (std::sscanf(range.c_str(), "%u-%u%c", &lo, &hi, &tail) != 2 || lo == 0 || lo > hi ||
      hi > 65535) {
    return Error(Errc::kInvalidArgument, "--service-node-port-range `" + range +
                                             "`: want <first>-<last>, e.g. 30000-32767");
  }
  return Ok();
}

Result<std::unique_ptr<storage::Store>> OpenStore(const ApiServerOptions& o) {
  const std::string& endpoint = o.datastore_endpoint;
  if (endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
    storage::EtcdStoreOptions etcd;
    etcd.endpoint = endpoint;
    etcd.key_prefix = "/registry";
    return Result<std::unique_ptr<storage::Store>>(
        BERTH_TRY_CTX(storage::EtcdStore::Open(etcd), "--datastore-endpoint " + endpoint));
  }
  storage::SqliteStoreOptions sqlite;
  if (endpoint.empty()) {
    BERTH_TRY(MkdirAll(o.data_dir + "/db", 0700));
    sqlite.path = o.data_dir + "/db/state.db";
  } else if (endpoint.starts_with("sqlite://")) {
    sqlite.path = endpoint.substr(std::string("sqlite://").size());
  } else {
    return Error(Errc::kInvalidArgument, "--datastore-endpoint `" + endpoint +
                                             "`: want http(s)://host:port (etcd) or sqlite://path");
  }
  return Result<std::unique_ptr<storage::Store>>(
      BERTH_TRY_CTX(storage::SqliteStore::Open(sqlite), "--datastore-endpoint " + sqlite.path));
}

std::string VersionJson() {
  boost::json::object v;
  v["major"] = kKubernetesMajor;
  v["minor"] = kKubernetesMinor;
  v["gitVersion"] =
      std::string("v") + kKubernetesMajor + "." + kKubernetesMinor + ".0+berth-" + BERTH_VERSION;
  v["gitCommit"] = BERTH_GIT_COMMIT;
  v["gitTreeState"] = "clean";
  v["buildDate"] = "1970-01-01T00:00:00Z";
  v["goVersion"] = "none (C++)";
  v["compiler"] = "gcc";
  v["platform"] = "linux/amd64";
  return boost::json::serialize(v);
}

void Reply(http::Response& w, const api::ApiStatus& status) {
  (void)w.Send(status.code, "application/json", api::StatusJson(status));
}

}  // namespace

Result<std::string> FirstServiceIp(const std::string& cidr) {
  auto bad = [&](const std::string& why) {
    return Error(Errc::kInvalidArgument, "--service-cluster-ip-range `" + cidr + "`: " + why);
  };
  size_t slash = cidr.find('/');
  if (slash == std::string::npos) return bad("want <address>/<prefix length>");
  std::string base = cidr.substr(0, slash);
  int bits = std::atoi(cidr.c_str() + slash + 1);
  in_addr v4{};
  if (inet_pton(AF_INET, base.c_str(), &v4) == 1) {
    if (bits < 8 || bits > 30) return bad("an IPv4 prefix length must be 8-30");
    uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
    uint32_t first = (ntohl(v4.s_addr) & mask) + 1;
    in_addr out{htonl(first)};
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &out, text, sizeof text);
    return std::string(text);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, base.c_str(), &v6) == 1) {
    if (bits < 64 || bits > 126) return bad("an IPv6 prefix length must be 64-126");
    for (int i = bits; i < 128; ++i)
      v6.s6_addr[i / 8] &= static_cast<uint8_t>(~(0x80 >> (i % 8)));
    v6.s6_addr[15] |= 1;
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &v6, text, sizeof text);
    return std::string(text);
  }
  return bad("not an IP network");
}

Result<std::unique_ptr<ApiServer>> ApiServer::Start(const ApiServerOptions& options) {
  std::unique_ptr<ApiServer> s(new ApiServer());
  s->options_ = options;
  std::string service_ip = BERTH_TRY(FirstServiceIp(options.service_cluster_ip_range));
  BERTH_TRY(CheckNodePortRange(options.service_node_port_range));
  if (!options.token_auth_file.empty()) {
    s->tokens_ = BERTH_TRY(TokenFile::Load(options.token_auth_file));
  }

  ClusterPkiOptions pki;
  pki.data_dir = options.data_dir;
  pki.serving_ips = HostAddresses();
  pki.serving_ips.push_back(service_ip);
  if (options.bind_address != "0.0.0.0" && options.bind_address != "::") {
    pki.serving_ips.push_back(options.bind_address);
  }
  s->pki_ = BERTH_TRY(EnsureClusterPki(pki));
  s->store_ = BERTH_TRY(OpenStore(options));
  s->allocator_ = BERTH_TRY(registry::ServiceAllocator::Make(
      *s->store_, options.service_cluster_ip_range, options.service_node_port_range));
  s->rest_ = std::make_unique<registry::Rest>(
      *s->store_, *s->allocator_,
      admission::TolerationDefaults{options.default_not_ready_toleration_seconds,
                                    options.default_unreachable_toleration_seconds});
  s->service_account_tokens_ =
      BERTH_TRY(auth::ServiceAccountTokens::Load(options.data_dir + "/pki/sa.key"));
  s->authenticator_ = std::make_unique<Authenticator>(
      s->tokens_ ? &*s->tokens_ : nullptr, &*s->service_account_tokens_, s->store_.get(),
      std::vector<std::string>{s->service_account_tokens_->issuer()});
  s->node_authorizer_ = std::make_unique<auth::NodeAuthorizer>(*s->store_);
  s->rbac_ = std::make_unique<auth::RbacAuthorizer>(*s->store_);
  s->authorizer_ = std::make_unique<auth::ChainAuthorizer>(
      std::vector<auth::Authorizer*>{s->node_authorizer_.get(), s->rbac_.get()});
  s->reviews_ = std::make_unique<Reviews>(*s->authenticator_, *s->authorizer_,
                                          *s->service_account_tokens_, *s->store_);
  s->kubelet_proxy_ = std::make_unique<KubeletProxy>(*s->store_, s->pki_.kubelet_client);
  BERTH_TRY(auth::EnsureBootstrapPolicy(*s->store_));
  s->compactor_ = std::make_unique<Compactor>(*s->store_, options.compaction_interval);

  http::ServerOptions https;
  https.name = "apiserver";
  https.max_body_bytes = 3 << 20;  // kube-apiserver's limit for a request body
  https.idle_timeout = std::chrono::seconds(300);
  https.bind_address = options.bind_address;
  https.port = options.secure_port;
  https.cert_pem = s->pki_.serving.cert_pem + s->pki_.ca.cert_pem;
  https.key_pem = s->pki_.serving.key_pem;
  https.client_ca_pem = s->pki_.ca.cert_pem;
  ApiServer* raw = s.get();
  s->https_ = BERTH_TRY(http::HttpsServer::Start(
      https, [raw](const http::Request& req, http::Response& w) { raw->Handle(req, w); }));

  BERTH_TRY(s->Bootstrap());
  std::string url = "https://" + options.advertise_host + ":" + std::to_string(s->port());
  BERTH_TRY(WriteAdminKubeconfig(s->pki_, url));
  return s;
}

ApiServer::~ApiServer() {
  Stop();
}

void ApiServer::Stop() {
  if (rest_) rest_->Stop();
  if (https_) https_->Stop();
  compactor_.reset();
}

Status ApiServer::Bootstrap() {
  BERTH_TRY(rest_->EnsureNamespaces({"default", "kube-system", "kube-public", "kube-node-lease"}));
  std::vector<std::string> addresses = HostAddresses();
  std::string endpoint = options_.bind_address;
  if (endpoint == "0.0.0.0" || endpoint == "::") {
    endpoint = addresses.empty() ? "127.0.0.1" : addresses.front();
  }
  return rest_->EnsureKubernetesService(allocator_->FirstIp(), endpoint, port());
}

void ApiServer::Handle(const http::Request& req, http::Response& w) {
  std::optional<UserInfo> authenticated = authenticator_->Authenticate(req);
  if (!authenticated) return Reply(w, api::Unauthorized());
  std::variant<UserInfo, api::ApiStatus> acting = Impersonate(req, *authenticated);
  if (const api::ApiStatus* e = std::get_if<api::ApiStatus>(&acting)) return Reply(w, *e);
  const UserInfo& user = std::get<UserInfo>(acting);

  api::Query query = api::ParseQuery(req.query);
  api::RequestInfo info = api::ParseRequestInfo(req.method, req.path, query);
  if (info.is_resource_request) {
    // A cluster-scoped type exists only outside namespaces: rights in a
    // namespace must not reach it through a namespaced path.
    const api::ResourceType* type = api::FindResource(info.group, info.version, info.resource);
    bool own_namespace =
        info.group.empty() && info.resource == "namespaces" && info.name == info.namespace_;
    if (type != nullptr && !type->namespaced && !info.namespace_.empty() && !own_namespace) {
      return Reply(w, api::NotFoundPath(req.path));
    }
  }
  auth::Attributes attributes;
  attributes.user = user;
  attributes.verb = info.verb;
  attributes.resource_request = info.is_resource_request;
  attributes.group = info.group;
  attributes.resource = info.resource;
  attributes.subresource = info.subresource;
  attributes.namespace_ = info.namespace_;
  attributes.name = info.name;
  attributes.path = req.path;
  auth::Verdict verdict = authorizer_->Authorize(attributes);
  if (verdict.decision != auth::Decision::kAllow) {
    return Reply(w, api::Forbidden(auth::ForbiddenMessage(attributes, verdict.reason), info.group,
                                   info.resource, info.name));
  }
  if (!info.is_resource_request) return ServeNonResource(req, info, w);
  if (std::optional<api::ApiStatus> refused = NodeRestriction(user, info, req)) {
    return Reply(w, *refused);
  }
  if (KubeletProxy::Handles(info)) {
    const api::ResourceType& pods = *api::FindResource("", "v1", "pods");
    registry::Call c(pods, info, query, req, w);
    return kubelet_proxy_->Serve(c);
  }
  if (Reviews::Handles(info)) {
    const api::ResourceType* type = api::FindResource(info.group, info.version, info.resource);
    if (type == nullptr) return Reply(w, api::NotFoundPath(req.path));
    registry::Call c(*type, info, query, req, w);
    return reviews_->Serve(user, c);
  }
  rest_->Serve(user, info, query, req, w);
}

std::optional<api::ApiStatus> ApiServer::NodeRestriction(const UserInfo& user,
                                                         const api::RequestInfo& info,
                                                         const http::Request& req) const {
  // Upstream's NodeRestriction admission, for what the Node authorizer
  // cannot see: a node creates only its own Node object.
  std::string node = auth::NodeName(user);
  if (node.empty() || !info.group.empty() || info.resource != "nodes" || info.verb != "create") {
    return std::nullopt;
  }
  Result<boost::json::value> body = api::ParseBody(req.body, req.Header("content-type"));
  std::string name = body.ok() && body->is_object()
                         ? api::LookupString(body->as_object(), {"metadata", "name"})
                         : "";
  if (name == node) return std::nullopt;
  return api::Forbidden("node \"" + node + "\" is not allowed to create node \"" + name + "\"", "",
                        "nodes", name);
}

std::variant<UserInfo, api::ApiStatus> ApiServer::Impersonate(const http::Request& req,
                                                              const UserInfo& user) {
  std::string as = req.Header("impersonate-user");
  std::string groups = req.Header("impersonate-group");
  std::string uid = req.Header("impersonate-uid");
  if (as.empty()) {
    if (!groups.empty() || !uid.empty()) {
      return api::BadRequest("requested impersonation of groups or a uid without a user");
    }
    return user;
  }
  UserInfo target{as, uid, {}, {}};
  for (const std::string& g : Split(groups, ','))
    if (std::string group(Trim(g)); !group.empty()) target.groups.push_back(group);
  auto allowed = [&](const std::string& resource, const std::string& name) {
    auth::Attributes a;
    a.user = user;
    a.verb = "impersonate";
    a.resource = resource;
    a.name = name;
    if (resource == "serviceaccounts") {
      // system:serviceaccount:<ns>:<name> is impersonated as that object.
      std::vector<std::string> parts = Split(name, ':');
      if (parts.size() == 4) {
        a.namespace_ = parts[2];
        a.name = parts[3];
      }
    }
    auth::Verdict v = authorizer_->Authorize(a);
    return v.decision == auth::Decision::kAllow
               ? std::optional<api::ApiStatus>()
               : std::optional<api::ApiStatus>(
                     api::Forbidden(auth::ForbiddenMessage(a, v.reason), "", resource, name));
  };
  bool service_account = as.starts_with("system:serviceaccount:");
  if (auto e = allowed(service_account ? "serviceaccounts" : "users", as)) return *e;
  for (const std::string& g : target.groups)
    if (auto e = allowed("groups", g)) return *e;
  if (!uid.empty()) {
    if (auto e = allowed("uids", uid)) return *e;
  }
  if (service_account) {
    std::vector<std::string> parts = Split(as, ':');
    target.groups.emplace_back("system:serviceaccounts");
    if (parts.size() == 4) target.groups.push_back("system:serviceaccounts:" + parts[2]);
  }
  if (as != "system:anonymous") target.groups.emplace_back("system:authenticated");
  return target;
}

void ApiServer::ServeNonResource(const http::Request& req, const api::RequestInfo& info,
                                 http::Response& w) const {
  const std::string& path = req.path;
  if (path == "/healthz" || path == "/livez" || path == "/readyz" ||
      path.starts_with("/healthz/") || path.starts_with("/livez/") ||
      path.starts_with("/readyz/")) {
    (void)w.Send(200, "text/plain; charset=utf-8", "ok");
    return;
  }
  if (path == "/version") {
    (void)w.Send(200, "application/json", VersionJson());
    return;
  }
  if (req.method != "GET" && req.method != "HEAD") return Reply(w, api::MethodNotAllowed());
  std::optional<std::string> doc;
  if (path == "/openapi/v2") {
    (void)w.Send(200, api::kOpenApiV2ProtobufType, api::OpenApiV2Protobuf());
    return;
  }
  if (path == "/api" || path == "/api/") {
    doc = api::ApiVersionsJson(options_.advertise_host + ":" + std::to_string(port()));
  } else if (path == "/apis" || path == "/apis/") {
    doc = api::ApiGroupListJson();
  } else if (!info.version.empty()) {
    doc = api::ApiResourceListJson(info.group, info.version);
  } else if (path.starts_with("/apis/")) {
    doc = api::ApiGroupJson(path.substr(6));
  } else if (path == "/openapi/v3" || path == "/openapi/v3/") {
    doc = api::OpenApiV3Index();
  } else if (path.starts_with("/openapi/v3/")) {
    doc = api::OpenApiV3Document(path.substr(12));
  }
  if (!doc) return Reply(w, api::NotFoundPath(path));
  (void)w.Send(200, "application/json", std::move(*doc));
}

}  // namespace berth::controlplane
