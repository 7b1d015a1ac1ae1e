#include "controlplane/server/registry/rest.h"

#include <variant>

#include "common/strings.h"
#include "controlplane/server/admission/node_restriction.h"
#include "controlplane/server/api/body.h"
#include "controlplane/server/api/kinds.h"
#include "controlplane/server/api/patch.h"
#include "controlplane/server/api/table.h"
#include "controlplane/server/auth/node_authorizer.h"
#include "controlplane/server/authn.h"
#include "controlplane/server/registry/meta.h"
#include "controlplane/server/registry/service_addresses.h"

namespace berth::controlplane::registry {

namespace bj = boost::json;
using api::ApiStatus;

namespace {

// Upstream's CSR strategy: the request records who made it (what the
// approver's SubjectAccessReview asks about), and it cannot be created
// already approved.
void StampRequester(bj::object& csr, const UserInfo& user) {
  bj::object& spec = api::Child(csr, "spec");
  spec["username"] = user.name;
  if (user.uid.empty()) {
    spec.erase("uid");
  } else {
    spec["uid"] = user.uid;
  }
  bj::array groups;
  for (const std::string& g : user.groups)
    groups.emplace_back(g);
  spec["groups"] = std::move(groups);
  bj::object extra;
  for (const auto& [k, values] : user.extra) {
    bj::array v;
    for (const std::string& s : values)
      v.emplace_back(s);
    extra[k] = std::move(v);
  }
  if (extra.empty()) {
    spec.erase("extra");
  } else {
    spec["extra"] = std::move(extra);
  }
  csr["status"] = bj::object{};
}

// A CSR's Approved and Denied conditions change only through /approval:
// /status keeps the stored ones.
void KeepApprovalConditions(bj::object& csr, const bj::object& old) {
  auto approval = [](const bj::value& c) {
    std::string type = c.is_object() ? api::LookupString(c.as_object(), {"type"}) : "";
    return type == "Approved" || type == "Denied";
  };
  bj::array conditions;
  if (const bj::value* now = api::Lookup(csr, {"status", "conditions"}); now && now->is_array()) {
    for (const bj::value& c : now->as_array())
      if (!approval(c)) conditions.push_back(c);
  }
  if (const bj::value* was = api::Lookup(old, {"status", "conditions"}); was && was->is_array()) {
    for (const bj::value& c : was->as_array())
      if (approval(c)) conditions.push_back(c);
  }
  api::Child(csr, "status")["conditions"] = std::move(conditions);
}

Rest::UpdateMode ModeFor(const Call& c) {
  const std::string& sub = c.info.subresource;
  if (sub == "finalize") return Rest::UpdateMode::kFinalize;
  return sub == "status" || sub == "approval" ? Rest::UpdateMode::kStatus : Rest::UpdateMode::kMain;
}

bool IsNamespace(const api::ResourceType& t) {
  return t.resource == "namespaces" && t.group.empty();
}

// A namespace's spec.finalizers: what must finish before it may go.
bool HasSpecFinalizers(const bj::object& ns) {
  const bj::value* f = api::Lookup(ns, {"spec", "finalizers"});
  return f != nullptr && f->is_array() && !f->as_array().empty();
}

// As upstream's ObjectMeta (omitempty): an emptied list is no list, so
// that removing the last ownerReference leaves none, not "[]".
void DropEmptyMetaLists(bj::object& meta) {
  for (const char* list : {"ownerReferences", "finalizers"}) {
    const bj::value* v = meta.if_contains(list);
    if (v != nullptr && v->is_array() && v->as_array().empty()) meta.erase(list);
  }
}

// An object being deleted goes from the store once nothing holds it: no
// metadata.finalizers, and for a namespace no spec.finalizers either. A
// pod still in its grace period waits for its kubelet's final delete
// (upstream's ShouldDeleteDuringUpdate).
bool ReadyToGo(const api::ResourceType& t, const bj::object& obj) {
  if (api::Lookup(obj, {"metadata", "deletionTimestamp"}) == nullptr) return false;
  if (HasFinalizers(obj)) return false;
  const bj::value* grace = api::Lookup(obj, {"metadata", "deletionGracePeriodSeconds"});
  if (grace != nullptr && grace->is_int64() && grace->as_int64() > 0) return false;
  return !IsNamespace(t) || !HasSpecFinalizers(obj);
}

// The finalize subresource changes spec.finalizers and nothing else.
ApiResult<bj::object> Finalized(const api::ResourceType& t, const bj::object& obj,
                                const bj::object& old) {
  const bj::value* wanted = api::Lookup(obj, {"spec", "finalizers"});
  bj::array finalizers;
  if (wanted != nullptr && !wanted->is_null()) {
    api::FieldErrors errors;
    if (!wanted->is_array()) {
      errors.Invalid("spec.finalizers", *wanted, "must be a list of finalizer names");
    } else {
      for (const bj::value& f : wanted->as_array()) {
        if (!f.is_string() || f.as_string().empty()) {
          errors.Invalid("spec.finalizers", f, "must be a finalizer name");
        } else {
          finalizers.push_back(f);
        }
      }
    }
    if (!errors.empty()) {
      return api::InvalidStatus(t.group, t.kind, api::NameOf(old), errors.causes());
    }
  }
  bj::object next = old;
  api::Child(next, "spec")["finalizers"] = std::move(finalizers);
  return next;
}

}  // namespace

Rest::Rest(storage::Store& store, ServiceAllocator& allocator,
           admission::TolerationDefaults tolerations)
    : store_(store), allocator_(allocator), tolerations_(tolerations) {}

void Rest::Serve(const UserInfo& user, const api::RequestInfo& info, const api::Query& query,
                 const http::Request& req, http::Response& w) {
  const api::ResourceType* type = api::FindResource(info.group, info.version, info.resource);
  if (type == nullptr) return Reply(w, api::NotFoundPath(info.path));
  Call c{*type, info, query, req, w};
  c.user = &user;
  const std::string& verb = info.verb;
  if (type->namespaced && info.namespace_.empty() && verb != "list" && verb != "watch") {
    return Reply(w, api::NotFoundPath(info.path));
  }
  if (type->storage_prefix.empty()) {  // core/v1 bindings; the reviews are reviews.h's
    if (verb != "create" || type->resource != "bindings") return Reply(w, api::MethodNotAllowed());
    ApiResult<bj::object> body = c.BodyObject();
    if (const ApiStatus* e = std::get_if<ApiStatus>(&body)) return Reply(w, *e);
    const bj::object& binding = std::get<bj::object>(body);
    return Bind(c, api::LookupString(binding, {"metadata", "name"}), binding);
  }
  if (!info.subresource.empty()) {
    const api::Subresource* sub = type->FindSubresource(info.subresource);
    if (sub == nullptr) return Reply(w, api::NotFoundPath(info.path));
    if (info.subresource == "scale") return Scale(c);
    if (info.subresource == "binding" && verb == "create") {
      ApiResult<bj::object> body = c.BodyObject();
      if (const ApiStatus* e = std::get_if<ApiStatus>(&body)) return Reply(w, *e);
      return Bind(c, info.name, std::get<bj::object>(body));
    }
    if (info.subresource == "eviction" && verb == "create") return Delete(c);
    bool status_like = info.subresource == "status" || info.subresource == "approval" ||
                       info.subresource == "finalize";
    if (!status_like) return Reply(w, api::MethodNotAllowed());
    if (verb == "get") return Get(c);
    if (verb == "update") return Update(c);
    if (verb == "patch") return Patch(c);
    return Reply(w, api::MethodNotAllowed());
  }
  if (std::find(type->verbs.begin(), type->verbs.end(), verb) == type->verbs.end()) {
    return Reply(w, api::MethodNotAllowed());
  }
  if (verb == "get") return Get(c);
  if (verb == "list") return List(c);
  if (verb == "watch") return Watch(c);
  if (verb == "create") return Create(c);
  if (verb == "update") return Update(c);
  if (verb == "patch") return Patch(c);
  if (verb == "delete") return Delete(c);
  if (verb == "deletecollection") return DeleteCollection(c);
  Reply(w, api::MethodNotAllowed());
}

Result<std::optional<bj::object>> Rest::Read(const api::ResourceType& type, const std::string& ns,
                                             const std::string& name) {
  return ReadObject(store_, type, ns, name);
}

Status Rest::EnsureNamespaces(const std::vector<std::string>& names) {
  const api::ResourceType& type = *api::FindResource("", "v1", "namespaces");
  for (const std::string& name : names) {
    bj::object ns{
        {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", bj::object{{"name", name}}}};
    bj::object& meta = ns["metadata"].as_object();
    meta["uid"] = NewUid();
    meta["creationTimestamp"] = NowRfc3339();
    type.behaviour->Default(ns);
    type.behaviour->PrepareForCreate(ns);
    Result<storage::KeyValue> made = store_.Create(StorageKey(type, "", name), Encode(ns));
    if (!made.ok() && made.error().code() != Errc::kAlreadyExists) {
      return std::move(made).error().Wrap("create namespace " + name);
    }
  }
  return Ok();
}

Status Rest::EnsureKubernetesService(const std::string& ip, const std::string& endpoint,
                                     uint16_t port) {
  auto put = [&](const api::ResourceType& type, bj::object obj) -> Status {
    bj::object& meta = obj["metadata"].as_object();
    std::string key = StorageKey(type, "default", "kubernetes");
    std::optional<storage::KeyValue> old = BERTH_TRY(store_.Get(key));
    if (old) {
      bj::object current = BERTH_TRY(Decode(*old));
      meta["uid"] = current["metadata"].as_object()["uid"];
      meta["creationTimestamp"] = current["metadata"].as_object()["creationTimestamp"];
      SetResourceVersion(obj, old->mod_revision);
      if (obj == current) return Ok();
      BERTH_TRY(store_.Update(key, Encode(obj), old->mod_revision));
      return Ok();
    }
    meta["uid"] = NewUid();
    meta["creationTimestamp"] = NowRfc3339();
    BERTH_TRY(store_.Create(key, Encode(obj)));
    return Ok();
  };
  Result<std::string> taken = allocator_.AllocateIp(ip, "default/kubernetes");
  if (!taken.ok() && taken.error().code() != Errc::kAlreadyExists) return std::move(taken).error();
  bj::object labels{{"component", "apiserver"}, {"provider", "kubernetes"}};
  bj::object service{
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata",
       bj::object{{"name", "kubernetes"}, {"namespace", "default"}, {"labels", labels}}},
      {"spec", bj::object{{"type", "ClusterIP"},
                          {"clusterIP", ip},
                          {"clusterIPs", bj::array{bj::string(ip)}},
                          {"ipFamilies", bj::array{"IPv4"}},
                          {"ipFamilyPolicy", "SingleStack"},
                          {"internalTrafficPolicy", "Cluster"},
                          {"sessionAffinity", "None"},
                          {"ports", bj::array{bj::object{{"name", "https"},
                                                         {"port", 443},
                                                         {"protocol", "TCP"},
                                                         {"targetPort", port}}}}}},
      {"status", bj::object{{"loadBalancer", bj::object()}}}};
  BERTH_TRY_CTX(put(*api::FindResource("", "v1", "services"), std::move(service)),
                "the kubernetes Service");
  auto metadata = [](bj::object labels) {
    return bj::object{{"name", "kubernetes"}, {"namespace", "default"}, {"labels", labels}};
  };
  const bj::object https_port{{"name", "https"}, {"port", port}, {"protocol", "TCP"}};
  bj::object endpoints{
      {"apiVersion", "v1"},
      {"kind", "Endpoints"},
      {"metadata", metadata({{"endpointslice.kubernetes.io/skip-mirror", "true"}})},
      {"subsets", bj::array{bj::object{{"addresses", bj::array{bj::object{{"ip", endpoint}}}},
                                       {"ports", bj::array{https_port}}}}}};
  BERTH_TRY_CTX(put(*api::FindResource("", "v1", "endpoints"), std::move(endpoints)),
                "the kubernetes Endpoints");
  // kube-apiserver writes the slice itself too (the Endpoints carry
  // skip-mirror): proxies read EndpointSlices, not Endpoints.
  bj::object slice{
      {"apiVersion", "discovery.k8s.io/v1"},
      {"kind", "EndpointSlice"},
      {"metadata", metadata({{"kubernetes.io/service-name", "kubernetes"}})},
      {"addressType", endpoint.find(':') == std::string::npos ? "IPv4" : "IPv6"},
      {"endpoints", bj::array{bj::object{{"addresses", bj::array{bj::string(endpoint)}},
                                         {"conditions", bj::object{{"ready", true}}}}}},
      {"ports", bj::array{https_port}}};
  BERTH_TRY_CTX(
      put(*api::FindResource("discovery.k8s.io", "v1", "endpointslices"), std::move(slice)),
      "the kubernetes EndpointSlice");
  return Ok();
}

void Rest::Get(Call& c) {
  int64_t revision = 0;
  if (std::string rv = c.Param("resourceVersion"); !rv.empty() && rv != "0") {
    std::optional<int64_t> parsed = ParseResourceVersion(rv);
    if (!parsed) return c.Fail(api::BadRequest("invalid resource version: " + rv));
    if (c.Param("resourceVersionMatch") == "Exact") revision = *parsed;
  }
  Result<std::optional<storage::KeyValue>> kv = store_.Get(c.Key(), revision);
  if (!kv.ok()) return c.Fail(StoreError(c, kv.error()));
  if (!*kv) return c.Fail(c.NotFound());
  Result<bj::object> obj = Decode(c.type, **kv);
  if (!obj.ok()) return c.Fail(api::Internal(obj.error().str()));
  c.ReplyObject(200, *obj);
}

ApiResult<bj::object> Rest::PrepareCreate(Call& c, bj::object obj) {
  const api::ResourceType& t = c.type;
  std::string api_version = t.GroupVersion();
  if (const bj::value* v = obj.if_contains("apiVersion");
      v && v->is_string() && v->as_string() != api_version) {
    return api::BadRequest("the API version in the data (" + std::string(v->as_string()) +
                           ") does not match the expected API version (" + api_version + ")");
  }
  if (const bj::value* k = obj.if_contains("kind");
      k && k->is_string() && !k->as_string().empty() && k->as_string() != t.kind) {
    return api::BadRequest("the kind in the data (" + std::string(k->as_string()) +
                           ") does not match the expected kind (" + t.kind + ")");
  }
  obj["apiVersion"] = api_version;
  obj["kind"] = t.kind;
  if (const bj::value* m = obj.if_contains("metadata"); m && !m->is_object() && !m->is_null()) {
    return api::BadRequest("metadata: must be an object");
  }
  bj::object& meta = api::Child(obj, "metadata");
  std::string body_ns = api::LookupString(meta, {"namespace"});
  if (t.namespaced) {
    if (!body_ns.empty() && body_ns != c.info.namespace_) {
      return api::BadRequest(
          "the namespace of the provided object does not match the namespace sent on the "
          "request");
    }
    meta["namespace"] = c.info.namespace_;
  } else {
    meta.erase("namespace");
  }
  std::string name = api::LookupString(meta, {"name"});
  std::string generate = api::LookupString(meta, {"generateName"});
  if (name.empty() && !generate.empty()) {
    // Upstream trims the prefix so the whole name stays a valid length.
    name = generate.substr(0, std::min<size_t>(generate.size(), 58)) + NameSuffix();
    meta["name"] = name;
  }
  if (std::string rv = api::LookupString(meta, {"resourceVersion"}); !rv.empty()) {
    return api::BadRequest("resourceVersion should not be set on objects to be created");
  }
  meta.erase("resourceVersion");
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  meta.erase("managedFields");
  meta.erase("selfLink");
  DropEmptyMetaLists(meta);
  meta["uid"] = NewUid();
  meta["creationTimestamp"] = NowRfc3339();
  if (t.behaviour->tracks_generation()) {
    meta["generation"] = 1;
  } else {
    meta.erase("generation");
  }
  t.behaviour->Default(obj);
  // Mutating admission, before the strategy's create preparation as upstream.
  if (t.group.empty() && t.resource == "pods") {
    admission::DefaultTolerationSeconds(obj, tolerations_);
    if (std::string node = c.user != nullptr ? auth::NodeName(*c.user) : ""; !node.empty()) {
      if (std::optional<std::string> why = admission::NodeRestrictPodCreate(obj, node)) {
        return api::Forbidden(*why, t.group, t.resource, name);
      }
    }
  }
  t.behaviour->PrepareForCreate(obj);
  if (c.user != nullptr && t.resource == "certificatesigningrequests") StampRequester(obj, *c.user);
  api::FieldErrors errors;
  ValidateMeta(t, obj, errors);
  t.behaviour->Validate(obj, nullptr, errors);
  if (!errors.empty()) return api::InvalidStatus(t.group, t.kind, name, errors.causes());
  return obj;
}

void Rest::Create(Call& c) {
  ApiResult<bj::object> body = c.BodyObject();
  if (const ApiStatus* e = std::get_if<ApiStatus>(&body)) return c.Fail(*e);
  ApiResult<bj::object> prepared = PrepareCreate(c, std::move(std::get<bj::object>(body)));
  if (const ApiStatus* e = std::get_if<ApiStatus>(&prepared)) return c.Fail(*e);
  bj::object& obj = std::get<bj::object>(prepared);
  std::string name = api::NameOf(obj);
  c.name = name;
  if (c.type.namespaced) {
    if (std::optional<ApiStatus> e = CheckNamespaceOpen(c.info.namespace_)) return c.Fail(*e);
  }
  if (c.DryRun()) return c.ReplyObject(201, obj);
  bool is_service = c.type.resource == "services" && c.type.group.empty();
  if (is_service) {
    ApiResult<bj::object> allocated = AllocateServiceAddresses(allocator_, std::move(obj), nullptr);
    if (const ApiStatus* e = std::get_if<ApiStatus>(&allocated)) return c.Fail(*e);
    obj = std::move(std::get<bj::object>(allocated));
  }
  Result<storage::KeyValue> made = store_.Create(c.Key(), Encode(c.type, obj));
  if (!made.ok()) {
    if (is_service) ReleaseServiceAddresses(allocator_, obj, nullptr);
    return c.Fail(StoreError(c, made.error()));
  }
  SetResourceVersion(obj, made->mod_revision);
  c.ReplyObject(201, obj);
}

std::optional<ApiStatus> Rest::CheckNamespaceOpen(const std::string& ns) {
  Result<std::optional<bj::object>> found =
      Read(*api::FindResource("", "v1", "namespaces"), "", ns);
  if (!found.ok()) return api::Internal(found.error().str());
  if (!*found) return api::NotFound("", "namespaces", ns);
  if (api::Lookup(**found, {"metadata", "deletionTimestamp"}) != nullptr) {
    ApiStatus refused = api::Forbidden(
        "unable to create new content in namespace " + ns + " because it is being terminated", "",
        "namespaces", ns);
    // Controllers tell this refusal from others by the cause, as upstream.
    refused.causes.push_back(
        {"NamespaceTerminating", "namespace " + ns + " is being terminated", "metadata.namespace"});
    return refused;
  }
  return std::nullopt;
}

void Rest::Update(Call& c) {
  ApiResult<bj::object> body = c.BodyObject();
  if (const ApiStatus* e = std::get_if<ApiStatus>(&body)) return c.Fail(*e);
  bj::object obj = std::move(std::get<bj::object>(body));
  std::string body_name = api::LookupString(obj, {"metadata", "name"});
  if (body_name != c.info.name) {
    return c.Fail(api::BadRequest("the name of the object (" + body_name +
                                  ") does not match the name on the URL (" + c.info.name + ")"));
  }
  std::string rv_text = api::LookupString(obj, {"metadata", "resourceVersion"});
  std::optional<int64_t> expected;
  if (!rv_text.empty()) {
    expected = ParseResourceVersion(rv_text);
    if (!expected) {
      api::FieldErrors errors;
      errors.Invalid("metadata.resourceVersion", bj::string(rv_text), "must be an integer");
      return c.Fail(api::InvalidStatus(c.type.group, c.type.kind, c.info.name, errors.causes()));
    }
  }
  ApiResult<bj::object> out = GuaranteedUpdate(
      c, c.info.name,
      [&](const bj::object& old) -> ApiResult<bj::object> {
        if (expected && *expected != ResourceVersionOf(old)) return c.Conflict();
        bj::object next = obj;
        SetResourceVersion(next, ResourceVersionOf(old));
        return next;
      },
      ModeFor(c));
  if (const ApiStatus* e = std::get_if<ApiStatus>(&out)) return c.Fail(*e);
  c.ReplyObject(200, std::get<bj::object>(out));
}

void Rest::Patch(Call& c) {
  std::string content_type = c.req.Header("content-type");
  std::optional<api::PatchType> type = api::PatchTypeFor(content_type);
  if (!type) return c.Fail(api::UnsupportedMediaType(content_type));
  Result<bj::value> patch = api::ParseBody(c.req.body, "application/json");
  if (!patch.ok()) return c.Fail(api::BadRequest(patch.error().message()));
  ApiResult<bj::object> out = GuaranteedUpdate(
      c, c.info.name,
      [&](const bj::object& old) -> ApiResult<bj::object> {
        Result<bj::value> patched = api::ApplyPatch(*type, old, *patch, c.type.kind);
        if (!patched.ok()) return api::BadRequest(patched.error().message());
        if (!patched->is_object()) return api::BadRequest("the patch did not yield an object");
        bj::object next = std::move(patched->as_object());
        std::string rv = api::LookupString(next, {"metadata", "resourceVersion"});
        if (rv != std::to_string(ResourceVersionOf(old))) return c.Conflict();
        return next;
      },
      ModeFor(c));
  if (const ApiStatus* e = std::get_if<ApiStatus>(&out)) return c.Fail(*e);
  c.ReplyObject(200, std::get<bj::object>(out));
}

ApiResult<bj::object> Rest::GuaranteedUpdate(const Call& c, const std::string& name,
                                             const Mutation& mutate, UpdateMode mode) {
  std::string key = StorageKey(c.type, c.ns, name);
  for (int attempt = 0;; ++attempt) {
    Result<std::optional<storage::KeyValue>> kv = store_.Get(key);
    if (!kv.ok()) return StoreError(c, kv.error());
    if (!*kv) return api::NotFound(c.type.group, c.type.resource, name);
    Result<bj::object> old = Decode(c.type, **kv);
    if (!old.ok()) return api::Internal(old.error().str());
    ApiResult<bj::object> next = mutate(*old);
    if (const ApiStatus* e = std::get_if<ApiStatus>(&next)) return *e;
    bool raced = false;
    ApiResult<bj::object> stored =
        StoreUpdate(c, key, std::get<bj::object>(std::move(next)), *old, mode, raced);
    if (!raced || attempt >= 16) return stored;
  }
}

ApiResult<bj::object> Rest::StoreUpdate(const Call& c, const std::string& key, bj::object obj,
                                        const bj::object& old, UpdateMode mode, bool& raced) {
  bool status_only = mode == UpdateMode::kStatus;
  const api::ResourceType& t = c.type;
  int64_t old_rv = ResourceVersionOf(old);
  std::string name = api::NameOf(old);
  if (status_only) {
    bj::object merged = old;
    if (const bj::value* s = obj.if_contains("status")) merged["status"] = *s;
    if (t.group == "apps" && t.resource == "deployments") {
      // Upstream's deployment status strategy keeps only spec and labels:
      // the deployment controller records its revision annotation here.
      bj::object& meta = api::Child(merged, "metadata");
      if (const bj::value* a = api::Lookup(obj, {"metadata", "annotations"})) {
        meta["annotations"] = *a;
      } else {
        meta.erase("annotations");
      }
    }
    if (c.info.subresource == "approval") {
      // Approval changes only the conditions.
      bj::object& status = api::Child(merged, "status");
      const bj::value* conditions = api::Lookup(obj, {"status", "conditions"});
      bj::object old_status = api::Lookup(old, {"status"}) && old.at("status").is_object()
                                  ? old.at("status").as_object()
                                  : bj::object();
      old_status["conditions"] = conditions != nullptr ? *conditions : bj::value(bj::array());
      status = old_status;
    }
    if (t.resource == "certificatesigningrequests" && c.info.subresource == "status") {
      KeepApprovalConditions(merged, old);
    }
    obj = std::move(merged);
  } else if (mode == UpdateMode::kFinalize) {
    ApiResult<bj::object> finalized = Finalized(t, obj, old);
    if (const ApiStatus* e = std::get_if<ApiStatus>(&finalized)) return *e;
    obj = std::move(std::get<bj::object>(finalized));
  } else if (mode == UpdateMode::kMain) {
    obj["apiVersion"] = t.GroupVersion();
    obj["kind"] = t.kind;
    bj::object& meta = api::Child(obj, "metadata");
    const bj::object& old_meta = old.at("metadata").as_object();
    for (const char* keep : {"uid", "creationTimestamp", "deletionTimestamp",
                             "deletionGracePeriodSeconds", "generation"}) {
      if (const bj::value* v = old_meta.if_contains(keep)) {
        meta[keep] = *v;
      } else {
        meta.erase(keep);
      }
    }
    meta.erase("managedFields");
    DropEmptyMetaLists(meta);
    if (t.namespaced)
      meta["namespace"] = c.ns;
    else
      meta.erase("namespace");
    if (t.FindSubresource("status") != nullptr) {
      if (const bj::value* s = old.if_contains("status"))
        obj["status"] = *s;
      else
        obj.erase("status");
    }
    if (IsNamespace(t)) {
      // As upstream: spec.finalizers change only through /finalize.
      const bj::value* kept = api::Lookup(old, {"spec", "finalizers"});
      api::Child(obj, "spec")["finalizers"] = kept != nullptr ? *kept : bj::value(bj::array());
    }
    t.behaviour->Default(obj);
    api::FieldErrors errors;
    ValidateMeta(t, obj, errors);
    t.behaviour->Validate(obj, &old, errors);
    if (!errors.empty()) return api::InvalidStatus(t.group, t.kind, name, errors.causes());
    if (t.behaviour->tracks_generation() && SpecChanged(obj, old)) {
      meta["generation"] = api::LookupInt(old, {"metadata", "generation"}) + 1;
    }
  }
  SetResourceVersion(obj, old_rv);
  // The last finalizer gone from an object being deleted: delete it.
  if (ReadyToGo(t, obj)) {
    if (c.DryRun()) return obj;
    Result<storage::KeyValue> gone = store_.Delete(key, old_rv);
    if (!gone.ok()) {
      raced = gone.error().code() == Errc::kAborted;
      return StoreError(c, gone.error(), name);
    }
    ReleaseOnDelete(c, old);  // what was stored holds the addresses
    return obj;
  }
  if (obj == old || c.DryRun()) return obj;
  bool is_service = t.resource == "services" && t.group.empty() && !status_only;
  if (is_service) {
    ApiResult<bj::object> allocated = AllocateServiceAddresses(allocator_, std::move(obj), &old);
    if (const ApiStatus* e = std::get_if<ApiStatus>(&allocated)) return *e;
    obj = std::move(std::get<bj::object>(allocated));
  }
  Result<storage::KeyValue> written = store_.Update(key, Encode(t, obj), old_rv);
  if (!written.ok()) {
    if (is_service) ReleaseServiceAddresses(allocator_, obj, &old);
    raced = written.error().code() == Errc::kAborted;
    return StoreError(c, written.error(), name);
  }
  if (is_service) ReleaseServiceAddresses(allocator_, old, &obj);
  SetResourceVersion(obj, written->mod_revision);
  return obj;
}

void Rest::ReleaseOnDelete(const Call& c, const bj::object& obj) {
  if (c.type.resource == "services" && c.type.group.empty()) {
    ReleaseServiceAddresses(allocator_, obj, nullptr);
  }
}

void Rest::Delete(Call& c) {
  DeleteOptions options;
  if (std::optional<ApiStatus> e = ParseDeleteOptions(c, options)) return c.Fail(*e);
  bool deleted = false;
  ApiResult<bj::object> out = DeleteOne(c, c.info.name, options, deleted);
  if (const ApiStatus* e = std::get_if<ApiStatus>(&out)) return c.Fail(*e);
  if (c.info.subresource == "eviction") return c.ReplySuccess(201);
  (void)deleted;  // upstream answers 200 whether the object went now or later
  c.ReplyObject(200, std::get<bj::object>(out));
}

ApiResult<bj::object> Rest::DeleteOne(const Call& c, const std::string& name,
                                      const DeleteOptions& options, bool& deleted) {
  std::string key = StorageKey(c.type, c.ns, name);
  for (int attempt = 0;; ++attempt) {
    Result<std::optional<storage::KeyValue>> kv = store_.Get(key);
    if (!kv.ok()) return StoreError(c, kv.error(), name);
    if (!*kv) return api::NotFound(c.type.group, c.type.resource, name);
    Result<bj::object> read = Decode(c.type, **kv);
    if (!read.ok()) return api::Internal(read.error().str());
    bj::object obj = std::move(*read);
    int64_t rv = ResourceVersionOf(obj);
    if (options.uid && *options.uid != api::LookupString(obj, {"metadata", "uid"})) {
      return api::Conflict(
          c.type.group, c.type.resource, name,
          "Precondition failed: UID in precondition: " + *options.uid +
              ", UID in object meta: " + api::LookupString(obj, {"metadata", "uid"}));
    }
    if (options.resource_version && *options.resource_version != rv) {
      return api::Conflict(c.type.group, c.type.resource, name,
                           "Precondition failed: ResourceVersion in precondition: " +
                               std::to_string(*options.resource_version) +
                               ", ResourceVersion in object meta: " + std::to_string(rv));
    }
    bj::object& meta = obj["metadata"].as_object();
    bool graceful = false;
    if (c.type.resource == "pods" && c.type.group.empty()) {
      int64_t grace = options.grace_period
                          ? *options.grace_period
                          : api::LookupInt(obj, {"spec", "terminationGracePeriodSeconds"});
      std::string phase = api::LookupString(obj, {"status", "phase"});
      if (api::LookupString(obj, {"spec", "nodeName"}).empty() || phase == "Succeeded" ||
          phase == "Failed") {
        grace = 0;
      }
      if (grace > 0) {
        const bj::value* current = meta.if_contains("deletionGracePeriodSeconds");
        if (current != nullptr && current->is_int64() && current->as_int64() <= grace) {
          return obj;  // already terminating, at least as soon
        }
        meta["deletionTimestamp"] = Rfc3339After(grace);
        meta["deletionGracePeriodSeconds"] = grace;
        meta["generation"] = api::LookupInt(obj, {"metadata", "generation"}) + 1;
        graceful = true;
      }
    }
    if (IsNamespace(c.type)) {
      // Upstream's namespace registry: the first delete only marks the
      // namespace Terminating; the namespace controller empties it and
      // clears spec.finalizers through /finalize, which deletes it.
      bool finalizing = HasSpecFinalizers(obj);
      if (meta.if_contains("deletionTimestamp") != nullptr && finalizing) {
        return api::Conflict("", "namespaces", name,
                             "The system is ensuring all content is removed from this "
                             "namespace.  Upon completion, this namespace will automatically be "
                             "purged by the system.");
      }
      if (meta.if_contains("deletionTimestamp") == nullptr) {
        meta["deletionTimestamp"] = NowRfc3339();
        api::Child(obj, "status")["phase"] = "Terminating";
        graceful = finalizing;
      }
    }
    if (!graceful) {
      if (options.propagation == "Foreground") AddFinalizer(obj, "foregroundDeletion");
      if (options.propagation == "Orphan") AddFinalizer(obj, "orphan");
      if (HasFinalizers(obj)) {
        // Also a pod whose grace period is cut short (the kubelet's final
        // delete): it goes as soon as its finalizers do.
        if (meta.if_contains("deletionTimestamp") == nullptr ||
            api::LookupInt(obj, {"metadata", "deletionGracePeriodSeconds"}) > 0) {
          meta["deletionTimestamp"] = NowRfc3339();
          meta["deletionGracePeriodSeconds"] = 0;
        }
        graceful = true;
      }
    }
    if (c.DryRun()) {
      deleted = !graceful;
      return obj;
    }
    if (graceful) {
      Result<storage::KeyValue> written = store_.Update(key, Encode(c.type, obj), rv);
      if (!written.ok()) {
        if (written.error().code() == Errc::kAborted && attempt < 16) continue;
        return StoreError(c, written.error(), name);
      }
      SetResourceVersion(obj, written->mod_revision);
      return obj;
    }
    Result<storage::KeyValue> gone = store_.Delete(key, rv);
    if (!gone.ok()) {
      if (gone.error().code() == Errc::kAborted && attempt < 16) continue;
      return StoreError(c, gone.error(), name);
    }
    ReleaseOnDelete(c, obj);
    deleted = true;
    return obj;
  }
}

void Rest::DeleteCollection(Call& c) {
  DeleteOptions options;
  if (std::optional<ApiStatus> e = ParseDeleteOptions(c, options)) return c.Fail(*e);
  ApiResult<std::vector<bj::object>> items = Select(c);
  if (const ApiStatus* e = std::get_if<ApiStatus>(&items)) return c.Fail(*e);
  bj::array deleted;
  for (const bj::object& obj : std::get<std::vector<bj::object>>(items)) {
    Call one = c;
    one.ns = api::LookupString(obj, {"metadata", "namespace"});
    bool gone = false;
    ApiResult<bj::object> out = DeleteOne(one, api::NameOf(obj), options, gone);
    if (const ApiStatus* e = std::get_if<ApiStatus>(&out)) {
      if (e->code == 404) continue;
      return c.Fail(*e);
    }
    deleted.push_back(std::get<bj::object>(out));
  }
  bj::object list{{"kind", c.type.kind + "List"},
                  {"apiVersion", c.type.GroupVersion()},
                  {"metadata", bj::object()},
                  {"items", std::move(deleted)}};
  c.ReplyJson(200, list);
}

}  // namespace berth::controlplane::registry
