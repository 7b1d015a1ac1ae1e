#include "controlplane/controllers/discovery.h"

#include <algorithm>

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

// The namespaced, listable, deletable resources of an APIResourceList.
void AddResources(const bj::object& list, const std::string& group, const std::string& version,
                  std::vector<ApiResource>& out) {
  const bj::value* resources = list.if_contains("resources");
  if (resources == nullptr || !resources->is_array()) return;
  for (const bj::value& v : resources->as_array()) {
    if (!v.is_object()) continue;
    const bj::object& r = v.as_object();
    std::string name = StringAt(r, {"name"});
    const bj::value* namespaced = r.if_contains("namespaced");
    if (name.empty() || name.find('/') != std::string::npos) continue;
    if (namespaced == nullptr || !namespaced->is_bool() || !namespaced->as_bool()) continue;
    if (group == "events.k8s.io" && name == "events") continue;
    ApiResource resource{group, version, name, {}};
    if (const bj::value* verbs = r.if_contains("verbs"); verbs && verbs->is_array()) {
      for (const bj::value& verb : verbs->as_array())
        if (verb.is_string()) resource.verbs.emplace_back(verb.as_string());
    }
    if (!resource.Can("list") || !resource.Can("delete")) continue;
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
  Discovery d;
  bj::object core = BERTH_TRY_CTX(GetObject(api, "/api/v1"), "discover the core API");
  AddResources(core, "", "v1", d.resources);
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
    Result<bj::object> resources = GetObject(api, "/apis/" + group_version);
    if (!resources.ok()) {
      d.failed_groups.push_back(group_version + ": " + resources.error().str());
      continue;
    }
    AddResources(*resources, name, version, d.resources);
  }
  return d;
}

}  // namespace berth::controlplane::controllers
