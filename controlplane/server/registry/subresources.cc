// The scale subresource (autoscaling/v1 Scale over spec.replicas) and pod
// binding (pods/<name>/binding and core/v1 bindings): how the scheduler
// and `kubectl scale` act on objects without rewriting them.

#include <algorithm>

#include "controlplane/server/api/body.h"
#include "controlplane/server/api/kinds.h"
#include "controlplane/server/api/patch.h"
#include "controlplane/server/api/selectors.h"
#include "controlplane/server/registry/meta.h"
#include "controlplane/server/registry/rest.h"

namespace berth::controlplane::registry {
namespace {

namespace bj = boost::json;

// The Scale view of a workload.
bj::object ScaleOf(const bj::object& obj) {
  bj::object meta;
  for (const char* key : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (const bj::value* v = api::Lookup(obj, {"metadata", key})) meta[key] = *v;
  }
  std::string selector;
  if (const bj::value* ml = api::Lookup(obj, {"spec", "selector", "matchLabels"});
      ml != nullptr && ml->is_object()) {
    for (const auto& [k, v] : ml->as_object())
      selector += (selector.empty() ? "" : ",") + std::string(k) + "=" +
                  (v.is_string() ? std::string(v.as_string()) : "");
  }
  return bj::object{{"kind", "Scale"},
                    {"apiVersion", "autoscaling/v1"},
                    {"metadata", std::move(meta)},
                    {"spec", bj::object{{"replicas", api::LookupInt(obj, {"spec", "replicas"})}}},
                    {"status", bj::object{{"replicas", api::LookupInt(obj, {"status", "replicas"})},
                                          {"selector", selector}}}};
}

}  // namespace

void Rest::Scale(Call& c) {
  const std::string& verb = c.info.verb;
  if (verb == "get") {
    Result<std::optional<bj::object>> obj = Read(c.type, c.ns, c.name);
    if (!obj.ok()) return c.Fail(api::Internal(obj.error().str()));
    if (!*obj) return c.Fail(c.NotFound());
    return c.ReplyJson(200, ScaleOf(**obj));
  }
  if (verb != "update" && verb != "patch") return c.Fail(api::MethodNotAllowed());
  std::optional<api::PatchType> patch_type;
  bj::value body;
  if (verb == "patch") {
    patch_type = api::PatchTypeFor(c.req.Header("content-type"));
    if (!patch_type) return c.Fail(api::UnsupportedMediaType(c.req.Header("content-type")));
    Result<bj::value> parsed = api::ParseBody(c.req.body, "application/json");
    if (!parsed.ok()) return c.Fail(api::BadRequest(parsed.error().message()));
    body = std::move(*parsed);
  } else {
    ApiResult<bj::object> parsed = c.BodyObject();
    if (const api::ApiStatus* e = std::get_if<api::ApiStatus>(&parsed)) return c.Fail(*e);
    body = std::move(std::get<bj::object>(parsed));
  }
  Call parent = c;
  ApiResult<bj::object> out = GuaranteedUpdate(
      parent, c.name,
      [&](const bj::object& old) -> ApiResult<bj::object> {
        bj::object scale = ScaleOf(old);
        bj::value wanted = body;
        if (patch_type) {
          Result<bj::value> patched = api::ApplyPatch(*patch_type, scale, body, "Scale");
          if (!patched.ok()) return api::BadRequest(patched.error().message());
          wanted = std::move(*patched);
        }
        if (!wanted.is_object()) return api::BadRequest("a Scale must be an object");
        std::string rv = api::LookupString(wanted.as_object(), {"metadata", "resourceVersion"});
        if (!rv.empty() && rv != api::LookupString(old, {"metadata", "resourceVersion"})) {
          return c.Conflict();
        }
        const bj::value* replicas = api::Lookup(wanted.as_object(), {"spec", "replicas"});
        if (replicas == nullptr || !replicas->is_int64() || replicas->as_int64() < 0) {
          api::FieldErrors errors;
          errors.Invalid("spec.replicas", replicas != nullptr ? *replicas : bj::value(nullptr),
                         "must be greater than or equal to 0");
          return api::InvalidStatus("autoscaling", "Scale", c.name, errors.causes());
        }
        bj::object next = old;
        api::Child(next, "spec")["replicas"] = replicas->as_int64();
        return next;
      },
      UpdateMode::kMain);
  if (const api::ApiStatus* e = std::get_if<api::ApiStatus>(&out)) return c.Fail(*e);
  c.ReplyJson(200, ScaleOf(std::get<bj::object>(out)));
}

void Rest::Bind(Call& c, const std::string& pod_name, const bj::object& binding) {
  std::string node = api::LookupString(binding, {"target", "name"});
  if (node.empty()) {
    api::FieldErrors errors;
    errors.Required("target.name");
    return c.Fail(api::InvalidStatus("", "Binding", pod_name, errors.causes()));
  }
  Call pods(*api::FindResource("", "v1", "pods"), c.info, c.query, c.req, c.w);
  pods.ns = c.ns;
  pods.name = pod_name;
  ApiResult<bj::object> out = GuaranteedUpdate(
      pods, pod_name,
      [&](const bj::object& old) -> ApiResult<bj::object> {
        if (api::Lookup(old, {"metadata", "deletionTimestamp"}) != nullptr) {
          return api::Conflict("", "pods", pod_name,
                               "pod is being deleted, cannot be assigned to a host");
        }
        std::string current = api::LookupString(old, {"spec", "nodeName"});
        if (!current.empty()) {
          return api::Conflict(
              "", "pods", pod_name,
              "pod " + pod_name + " is already assigned to node \"" + current + "\"");
        }
        bj::object next = old;
        api::Child(next, "spec")["nodeName"] = node;
        bj::value& conditions = api::Child(next, "status")["conditions"];
        if (!conditions.is_array()) conditions = bj::array();
        bj::array& list = conditions.as_array();
        list.erase(std::remove_if(list.begin(), list.end(),
                                  [](const bj::value& v) {
                                    return v.is_object() &&
                                           api::LookupString(v.as_object(), {"type"}) ==
                                               "PodScheduled";
                                  }),
                   list.end());
        list.push_back(bj::object{{"type", "PodScheduled"},
                                  {"status", "True"},
                                  {"lastProbeTime", nullptr},
                                  {"lastTransitionTime", NowRfc3339()}});
        return next;
      },
      UpdateMode::kSystem);
  if (const api::ApiStatus* e = std::get_if<api::ApiStatus>(&out)) return c.Fail(*e);
  c.ReplySuccess(201);
}

}  // namespace berth::controlplane::registry
