#include "agent/container/environment.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <utility>

#include "agent/container/object_fields.h"
#include "agent/container/service_env.h"
#include "common/base64.h"
#include "common/strings.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using fields::ArrayAt;
using fields::BoolAt;
using fields::ObjectAt;
using fields::StringAt;

// Variables by name in the position of their first definition.
class OrderedEnv {
 public:
  void Set(const std::string& name, std::string value) {
    auto [it, inserted] = index_.try_emplace(name, vars_.size());
    if (inserted) {
      vars_.push_back({name, std::move(value)});
    } else {
      vars_[it->second].value = std::move(value);
    }
  }
  const std::string* Find(std::string_view name) const {
    auto it = index_.find(std::string(name));
    return it == index_.end() ? nullptr : &vars_[it->second].value;
  }
  std::vector<EnvVar> Take() { return std::move(vars_); }

 private:
  std::vector<EnvVar> vars_;
  std::unordered_map<std::string, size_t> index_;
};

// The ConfigMaps and Secrets one container refers to, each fetched once.
class Sources {
 public:
  Sources(const EnvContext& ctx, std::string ns) : ctx_(ctx), ns_(std::move(ns)) {}

  // The object's data as strings; nullptr when it is absent and `optional`.
  Result<const std::map<std::string, std::string>*> ConfigMap(const std::string& name,
                                                              bool optional) {
    return Get(ctx_.config_map, "configmap", "configMap", name, optional, &config_maps_);
  }
  Result<const std::map<std::string, std::string>*> Secret(const std::string& name, bool optional) {
    return Get(ctx_.secret, "secret", "secret", name, optional, &secrets_);
  }
  const std::string& ns() const { return ns_; }

 private:
  using Data = std::map<std::string, std::string>;
  using Fetch = std::function<Result<bj::object>(const std::string&, const std::string&)>;

  Result<const Data*> Get(const Fetch& fetch, std::string_view resource, std::string_view noun,
                          const std::string& name, bool optional,
                          std::map<std::string, Data>* cache) {
    if (auto it = cache->find(name); it != cache->end()) return &it->second;
    if (!fetch) {
      return Error(Errc::kFailedPrecondition, "couldn't get " + std::string(noun) + " " + ns_ +
                                                  "/" + name + ", no kubeClient defined");
    }
    Result<bj::object> obj = fetch(ns_, name);
    if (!obj.ok()) {
      if (obj.error().code() != Errc::kNotFound) return std::move(obj).error();
      if (optional) return static_cast<const Data*>(nullptr);
      return Error(Errc::kNotFound, std::string(resource) + " \"" + name + "\" not found");
    }
    Data data = BERTH_TRY(DataOf(*obj, resource == "secret", name));
    return &cache->emplace(name, std::move(data)).first->second;
  }

  Result<Data> DataOf(const bj::object& obj, bool base64, const std::string& name) const {
    Data out;
    const bj::object* data = ObjectAt(&obj, "data");
    if (data == nullptr) return out;
    for (const auto& [key, value] : *data) {
      if (!value.is_string()) continue;
      if (!base64) {
        out.emplace(key, value.get_string());
        continue;
      }
      std::optional<std::string> decoded = Base64Decode(value.get_string());
      if (!decoded) {
        return Error(Errc::kInvalidArgument, "secret " + ns_ + "/" + name + ": key " +
                                                 std::string(key) + ": invalid base64");
      }
      out.emplace(key, std::move(*decoded));
    }
    return out;
  }

  const EnvContext& ctx_;
  std::string ns_;
  std::map<std::string, Data> config_maps_, secrets_;
};

Status AddEnvFrom(const bj::object& source, Sources& sources, OrderedEnv& env) {
  std::string prefix = StringAt(&source, "prefix");
  const bj::object* ref = ObjectAt(&source, "configMapRef");
  bool secret = ref == nullptr;
  if (secret) ref = ObjectAt(&source, "secretRef");
  if (ref == nullptr) return Ok();
  std::string name = StringAt(ref, "name");
  bool optional = BoolAt(ref, "optional").value_or(false);
  const std::map<std::string, std::string>* data =
      secret ? BERTH_TRY(sources.Secret(name, optional))
             : BERTH_TRY(sources.ConfigMap(name, optional));
  if (data == nullptr) return Ok();
  // Upstream (since 1.30) passes every key on: the apiserver's key rules
  // already keep out what would break an environment ('=').
  for (const auto& [key, value] : *data)
    env.Set(prefix + key, value);
  return Ok();
}

Result<std::string> FirstOrError(const std::vector<std::string>& ips, std::string_view field) {
  if (ips.empty()) {
    return Error(Errc::kUnavailable, std::string(field) + ": the node's IPs are not known yet");
  }
  return ips.front();
}

Result<std::string> FieldRefValue(const bj::object& ref, const EnvContext& ctx) {
  std::string version = StringAt(&ref, "apiVersion");
  if (!version.empty() && version != "v1") {
    return Error(Errc::kInvalidArgument, "unsupported pod version: " + version);
  }
  std::string path = StringAt(&ref, "fieldPath");
  if (path == "status.hostIP") return FirstOrError(ctx.host_ips, path);
  if (path == "status.hostIPs") {
    BERTH_TRY(FirstOrError(ctx.host_ips, path));
    return Join(ctx.host_ips, ",");
  }
  if (path == "status.podIP") return ctx.pod_ips.empty() ? std::string() : ctx.pod_ips.front();
  if (path == "status.podIPs") return Join(ctx.pod_ips, ",");
  if (path == "spec.nodeName") {
    std::string name = StringAt(ObjectAt(ctx.pod, "spec"), "nodeName");
    return name.empty() ? ctx.node_name : name;
  }
  return volumes::PodFieldValue(*ctx.pod, path);
}

Result<std::string> ResourceRefValue(const bj::object& ref, const bj::object& container,
                                     const EnvContext& ctx) {
  const bj::object* target = &container;
  if (std::string name = StringAt(&ref, "containerName"); !name.empty()) {
    target = fields::FindContainer(*ctx.pod, name);
    if (target == nullptr) return Error(Errc::kNotFound, "container " + name + " not found");
  }
  std::string divisor;
  if (const bj::value* d = ref.if_contains("divisor")) {
    if (d->is_string()) {
      divisor = d->get_string();
    } else if (d->is_number()) {
      divisor = bj::serialize(*d);
    }
  }
  return volumes::ResourceFieldValue(*target, StringAt(&ref, "resource"), divisor, ctx.node);
}

// The value of one env entry; nullopt when an optional source is absent
// (the variable is then not set at all).
Result<std::optional<std::string>> ValueFrom(const bj::object& from, const bj::object& container,
                                             const EnvContext& ctx, Sources& sources) {
  if (const bj::object* ref = ObjectAt(&from, "fieldRef")) {
    return std::optional<std::string>(BERTH_TRY(FieldRefValue(*ref, ctx)));
  }
  if (const bj::object* ref = ObjectAt(&from, "resourceFieldRef")) {
    return std::optional<std::string>(BERTH_TRY(ResourceRefValue(*ref, container, ctx)));
  }
  const bj::object* ref = ObjectAt(&from, "configMapKeyRef");
  bool secret = ref == nullptr;
  if (secret) ref = ObjectAt(&from, "secretKeyRef");
  if (ref == nullptr) return std::optional<std::string>(std::string());
  std::string name = StringAt(ref, "name");
  std::string key = StringAt(ref, "key");
  bool optional = BoolAt(ref, "optional").value_or(false);
  const std::map<std::string, std::string>* data =
      secret ? BERTH_TRY(sources.Secret(name, optional))
             : BERTH_TRY(sources.ConfigMap(name, optional));
  if (data == nullptr) return std::optional<std::string>();
  auto it = data->find(key);
  if (it == data->end()) {
    if (optional) return std::optional<std::string>();
    return Error(Errc::kNotFound, "couldn't find key " + key + " in " +
                                      (secret ? "Secret " : "ConfigMap ") + sources.ns() + "/" +
                                      name);
  }
  return std::optional<std::string>(it->second);
}

}  // namespace

Result<std::vector<EnvVar>> MakeEnvironment(const bj::object& container, const EnvContext& ctx) {
  if (ctx.pod == nullptr) return Error(Errc::kInvalidArgument, "MakeEnvironment: no pod");
  const bj::object* meta = ObjectAt(ctx.pod, "metadata");
  std::string ns = StringAt(meta, "namespace");
  bool links = BoolAt(ObjectAt(ctx.pod, "spec"), "enableServiceLinks").value_or(true);
  std::vector<EnvVar> service_env = ServiceLinkVars(ServicesForPod(ctx.services, ns, links));
  std::unordered_map<std::string, std::string> service_map;
  for (const EnvVar& v : service_env)
    service_map[v.name] = v.value;

  Sources sources(ctx, ns);
  OrderedEnv env;
  if (const bj::array* from = ArrayAt(&container, "envFrom")) {
    for (const bj::value& source : *from) {
      if (const bj::object* s = source.if_object()) BERTH_TRY(AddEnvFrom(*s, sources, env));
    }
  }
  auto lookup = [&](std::string_view name) -> std::optional<std::string> {
    if (const std::string* v = env.Find(name)) return *v;
    if (auto it = service_map.find(std::string(name)); it != service_map.end()) return it->second;
    return std::nullopt;
  };
  if (const bj::array* vars = ArrayAt(&container, "env")) {
    for (const bj::value& item : *vars) {
      const bj::object* var = item.if_object();
      if (var == nullptr) continue;
      std::string name = StringAt(var, "name");
      std::string value = StringAt(var, "value");
      if (!value.empty()) {
        env.Set(name, ExpandVars(value, lookup));
      } else if (const bj::object* from = ObjectAt(var, "valueFrom")) {
        std::optional<std::string> resolved = BERTH_TRY(ValueFrom(*from, container, ctx, sources));
        if (resolved) env.Set(name, std::move(*resolved));
      } else {
        env.Set(name, "");
      }
    }
  }
  for (const EnvVar& v : service_env) {
    if (env.Find(v.name) == nullptr) env.Set(v.name, v.value);
  }
  return env.Take();
}

}  // namespace berth::agent
