#include "controlplane/server/registry/call.h"

#include <charconv>

#include "common/json.h"
#include "common/time.h"
#include "controlplane/server/api/body.h"
#include "controlplane/server/api/kinds.h"
#include "controlplane/server/api/table.h"
#include "controlplane/server/api/validation.h"

namespace berth::controlplane::registry {

namespace bj = boost::json;

void Reply(http::Response& w, const api::ApiStatus& status) {
  (void)w.Send(status.code, "application/json", api::StatusJson(status));
}

std::string Call::Param(std::string_view key) const {
  auto it = query.find(key);
  return it == query.end() ? "" : it->second;
}

std::string Call::Key() const {
  return StorageKey(type, ns, name);
}

std::string StorageKey(const api::ResourceType& type, const std::string& ns,
                       const std::string& name) {
  return type.storage_prefix + (type.namespaced ? ns + "/" : "") + name;
}

Result<std::optional<bj::object>> ReadObject(storage::Store& store, const api::ResourceType& type,
                                             const std::string& ns, const std::string& name) {
  std::optional<storage::KeyValue> kv = BERTH_TRY(store.Get(StorageKey(type, ns, name)));
  if (!kv) return std::optional<bj::object>();
  return std::optional<bj::object>(BERTH_TRY(Decode(type, *kv)));
}

ApiResult<bj::object> Call::BodyObject() const {
  if (req.body.empty()) return api::BadRequest("the request body is empty");
  Result<bj::value> parsed = api::ParseBody(req.body, req.Header("content-type"));
  if (!parsed.ok() && parsed.error().code() == Errc::kUnimplemented) {
    api::ApiStatus s = api::UnsupportedMediaType(req.Header("content-type"));
    s.message = parsed.error().message();
    return s;
  }
  if (!parsed.ok()) return api::BadRequest(parsed.error().message());
  if (!parsed->is_object()) {
    return api::BadRequest(std::string("the request body must be a JSON object, not ") +
                           json::KindName(*parsed));
  }
  return std::move(parsed->as_object());
}

api::ApiStatus Call::NotFound() const {
  return api::NotFound(type.group, type.resource, name);
}

api::ApiStatus Call::Conflict() const {
  return api::Conflict(type.group, type.resource, name,
                       "the object has been modified; please apply your changes to the latest "
                       "version and try again");
}

void Call::ReplyObject(int code, const bj::object& obj) const {
  if (req.method == "GET" && api::WantsTable(req.Header("accept"))) {
    api::TableOptions options;
    options.include = api::ParseIncludeObject(Param("includeObject"));
    options.resource_version = api::LookupString(obj, {"metadata", "resourceVersion"});
    return ReplyJson(code, api::ToTable(*type.behaviour, {&obj}, options, WallClockNow().tv_sec));
  }
  ReplyJson(code, obj);
}

void Call::ReplyJson(int code, const bj::value& body) const {
  (void)w.Send(code, "application/json", bj::serialize(body));
}

void Call::ReplySuccess(int code) const {
  bj::object status{{"kind", "Status"},
                    {"apiVersion", "v1"},
                    {"metadata", bj::object()},
                    {"status", "Success"},
                    {"code", code}};
  ReplyJson(code, status);
}

Result<bj::object> Decode(const storage::KeyValue& kv) {
  Result<bj::value> v = json::Parse(kv.value, kv.key);
  if (!v.ok()) return std::move(v).error();
  if (!v->is_object()) return Error(Errc::kDataLoss, kv.key + ": stored value is not an object");
  bj::object obj = std::move(v->as_object());
  SetResourceVersion(obj, kv.mod_revision);
  return obj;
}

std::string Encode(bj::object obj) {
  if (bj::value* meta = obj.if_contains("metadata"); meta != nullptr && meta->is_object()) {
    meta->as_object().erase("resourceVersion");
  }
  return bj::serialize(obj);
}

Result<bj::object> Decode(const api::ResourceType& type, const storage::KeyValue& kv) {
  bj::object obj = BERTH_TRY(Decode(kv));
  if (type.behaviour != nullptr) type.behaviour->FromStorage(obj);
  obj["apiVersion"] = type.GroupVersion();
  obj["kind"] = type.kind;
  return obj;
}

std::string Encode(const api::ResourceType& type, bj::object obj) {
  if (type.behaviour != nullptr) type.behaviour->ToStorage(obj);
  return Encode(std::move(obj));
}

void SetResourceVersion(bj::object& obj, int64_t revision) {
  api::Child(obj, "metadata")["resourceVersion"] = std::to_string(revision);
}

int64_t ResourceVersionOf(const bj::object& obj) {
  return ParseResourceVersion(api::LookupString(obj, {"metadata", "resourceVersion"})).value_or(0);
}

std::optional<int64_t> ParseResourceVersion(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

api::ApiStatus StoreError(const Call& c, const Error& error, const std::string& name) {
  const std::string& who = name.empty() ? c.name : name;
  switch (error.code()) {
    case Errc::kNotFound:
      return api::NotFound(c.type.group, c.type.resource, who);
    case Errc::kAlreadyExists:
      return api::AlreadyExists(c.type.group, c.type.resource, who);
    case Errc::kAborted:
      return c.Conflict();
    case Errc::kOutOfRange:
      return api::Expired(error.message());
    default:
      return api::Internal(error.str());
  }
}

bool HasFinalizers(const bj::object& obj) {
  const bj::value* f = api::Lookup(obj, {"metadata", "finalizers"});
  return f != nullptr && f->is_array() && !f->as_array().empty();
}

void AddFinalizer(bj::object& obj, const std::string& finalizer) {
  bj::value& list = api::Child(obj, "metadata")["finalizers"];
  if (!list.is_array()) list = bj::array();
  for (const bj::value& f : list.as_array())
    if (f.is_string() && f.as_string() == finalizer) return;
  list.as_array().emplace_back(finalizer);
}

bool SpecChanged(const bj::object& a, const bj::object& b) {
  auto strip = [](bj::object o) {
    o.erase("metadata");
    o.erase("status");
    return o;
  };
  return strip(a) != strip(b);
}

void ValidateMeta(const api::ResourceType& type, const bj::object& obj, api::FieldErrors& errors) {
  const bj::value* metav = obj.if_contains("metadata");
  if (metav == nullptr || !metav->is_object()) return errors.Required("metadata");
  const bj::object& meta = metav->as_object();
  std::string name = api::LookupString(meta, {"name"});
  if (name.empty()) {
    errors.Required("metadata.name", "name or generateName is required");
  } else {
    std::string why;
    switch (type.behaviour->name_rule()) {
      case api::Kind::NameRule::kSubdomain:
        why = api::Dns1123SubdomainError(name);
        break;
      case api::Kind::NameRule::kLabel:
        why = api::Dns1123LabelError(name);
        break;
      case api::Kind::NameRule::kPathSegment:
        why = api::PathSegmentNameError(name);
        break;
    }
    if (!why.empty()) errors.Invalid("metadata.name", bj::string(name), why);
  }
  api::ValidateLabelsAndAnnotations(meta, "metadata", errors);
}

std::optional<api::ApiStatus> ParseDeleteOptions(const Call& c, DeleteOptions& options) {
  if (!c.req.body.empty()) {
    Result<bj::value> body = api::ParseBody(c.req.body, c.req.Header("content-type"));
    if (!body.ok()) return api::BadRequest(body.error().message());
    if (!body->is_object()) return api::BadRequest("DeleteOptions must be a JSON object");
    const bj::object& o = body->as_object();
    if (const bj::value* g = o.if_contains("gracePeriodSeconds"); g && g->is_int64()) {
      options.grace_period = g->as_int64();
    }
    options.propagation = api::LookupString(o, {"propagationPolicy"});
    if (const bj::value* uid = api::Lookup(o, {"preconditions", "uid"}); uid && uid->is_string()) {
      options.uid = std::string(uid->as_string());
    }
    if (std::string rv = api::LookupString(o, {"preconditions", "resourceVersion"}); !rv.empty()) {
      options.resource_version = ParseResourceVersion(rv);
      if (!options.resource_version) {
        return api::BadRequest("preconditions.resourceVersion: not a resource version: " + rv);
      }
    }
    if (const bj::value* o2 = o.if_contains("orphanDependents"); o2 && o2->is_bool()) {
      if (options.propagation.empty())
        options.propagation = o2->as_bool() ? "Orphan" : "Background";
    }
  }
  if (std::string g = c.Param("gracePeriodSeconds"); !g.empty()) {
    std::optional<int64_t> v = ParseResourceVersion(g);
    if (!v) return api::BadRequest("gracePeriodSeconds: not a non-negative integer: " + g);
    options.grace_period = v;
  }
  if (std::string p = c.Param("propagationPolicy"); !p.empty()) options.propagation = p;
  if (!options.propagation.empty() && options.propagation != "Background" &&
      options.propagation != "Foreground" && options.propagation != "Orphan") {
    return api::BadRequest("propagationPolicy: Unsupported value: \"" + options.propagation +
                           "\": supported values: \"Foreground\", \"Background\", \"Orphan\"");
  }
  return std::nullopt;
}

}  // namespace berth::controlplane::registry
