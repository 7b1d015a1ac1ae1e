#include "controlplane/controllers/discovery.h"

#include <algorithm>
#include <utility>

#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

Result<bj::object> GetObject(client::ApiClient& api, const std::string& url) {
  client::ApiResponse r = BERTH_TRY(api.Do("GET", url));
  if (r.status != 200) return HttpError("GET", url, r);
  bj::value v = r.Json();
  if (!v.is_object()) return Error(Errc::kDataLoss, "GET " + url + ": not a JSON object");
  return std::move(v.as_object());
}

// The resources of an APIResourceList, without subresources.
void AddResources(const bj::object& list, const std::string& group, const std::string& version,
                  bool preferred, std::vector<ApiResource>& out) {
  const bj::value* resources = list.if_contains("resources");
  if (resources == nullptr || !resources->is_array()) return;
  for (const bj::value& v : resources->as_array()) {
    if (!v.is_object()) continue;
    const bj::object& r = v.as_object();
    std::string name = StringAt(r, {"name"});
    const bj::value* namespaced = r.if_contains("namespaced");
    if (name.empty() || name.find('/') != std::string::npos) continue;
    if (namespaced == nullptr || !namespaced->is_bool()) continue;
    ApiResource resource;
    resource.group = group;
    resource.version = version;
    resource.resource = name;
    resource.kind = StringAt(r, {"kind"});
    resource.namespaced = namespaced->as_bool();
    resource.preferred = preferred;
    if (const bj::value* verbs = r.if_contains("verbs"); verbs && verbs->is_array()) {
      for (const bj::value& verb : verbs->as_array())
        if (verb.is_string()) resource.verbs.emplace_back(verb.as_string());
    }
    out.push_back(std::move(resource));
  }
}

}  // namespace

bool ApiResource::Can(std::string_view verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

std::string ApiResource::Collection(const std::string& ns) const {
  std::string base = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  return base + "/namespaces/" + ns + "/" + resource;
}

std::string ApiResource::Display() const {
  return resource + "." + group;
}

Result<Discovery> DiscoverNamespacedResources(client::ApiClient& api) {
  Discovery d = BERTH_TRY(DiscoverResources(api, false));
  std::erase_if(d.resources, [](const ApiResource& r) {
    return !r.namespaced || !r.Can("list") || !r.Can("delete") ||
           (r.group == "events.k8s.io" && r.resource == "events");
  });
  return d;
}

Result<Discovery> DiscoverResources(client::ApiClient& api, bool all_versions) {
  Discovery d;
  bj::object core = BERTH_TRY_CTX(GetObject(api, "/api/v1"), "discover the core API");
  AddResources(core, "", "v1", true, d.resources);
  bj::object groups = BERTH_TRY_CTX(GetObject(api, "/apis"), "discover the API groups");
  const bj::value* list = groups.if_contains("groups");
  if (list == nullptr || !list->is_array()) return d;
  for (const bj::value& g : list->as_array()) {
    if (!g.is_object()) continue;
    std::string name = StringAt(g.as_object(), {"name"});
    std::string group_version = StringAt(g.as_object(), {"preferredVersion", "groupVersion"});
    std::string version = StringAt(g.as_object(), {"preferredVersion", "version"});
    if (name.empty() || group_version.empty() || version.empty()) {
      d.failed_groups.push_back((name.empty() ? "<unnamed>" : name) +
                                ": no preferred version in /apis");
      continue;
    }
    std::vector<std::pair<std::string, std::string>> versions = {{group_version, version}};
    const bj::value* served = g.as_object().if_contains("versions");
    if (all_versions && served != nullptr && served->is_array()) {
      for (const bj::value& v : served->as_array()) {
        if (!v.is_object()) continue;
        std::string gv = StringAt(v.as_object(), {"groupVersion"});
        std::string ver = StringAt(v.as_object(), {"version"});
        if (!gv.empty() && !ver.empty() && gv != group_version) versions.emplace_back(gv, ver);
      }
    }
    for (const auto& [gv, ver] : versions) {
      Result<bj::object> resources = GetObject(api, "/apis/" + gv);
      if (!resources.ok()) {
        d.failed_groups.push_back(gv + ": " + resources.error().str());
        continue;
      }
      AddResources(*resources, name, ver, gv == group_version, d.resources);
    }
  }
  return d;
}

}  // namespace berth::controlplane::controllers
