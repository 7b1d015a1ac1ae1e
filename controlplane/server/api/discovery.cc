#include "controlplane/server/api/discovery.h"

#include <boost/json.hpp>

#include "controlplane/server/api/resources.h"

namespace berth::controlplane::api {
namespace {

namespace bj = boost::json;

bj::array Strings(const std::vector<std::string>& list) {
  bj::array out;
  for (const std::string& s : list)
    out.emplace_back(s);
  return out;
}

bj::object GroupObject(const std::string& group) {
  bj::object version{{"groupVersion", group + "/v1"}, {"version", "v1"}};
  return bj::object{
      {"name", group}, {"versions", bj::array{version}}, {"preferredVersion", version}};
}

}  // namespace

std::string ApiVersionsJson(const std::string& server_address) {
  bj::object o{
      {"kind", "APIVersions"},
      {"versions", bj::array{"v1"}},
      {"serverAddressByClientCIDRs",
       bj::array{bj::object{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
  return bj::serialize(o);
}

std::string ApiGroupListJson() {
  bj::array groups;
  for (const std::string& g : ServedGroups())
    if (!g.empty()) groups.push_back(GroupObject(g));
  return bj::serialize(
      bj::object{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", std::move(groups)}});
}

std::optional<std::string> ApiGroupJson(const std::string& group) {
  for (const std::string& g : ServedGroups()) {
    if (!g.empty() && g == group) {
      bj::object o = GroupObject(group);
      o["kind"] = "APIGroup";
      o["apiVersion"] = "v1";
      return bj::serialize(o);
    }
  }
  return std::nullopt;
}

std::optional<std::string> ApiResourceListJson(const std::string& group,
                                               const std::string& version) {
  bj::array resources;
  for (const ResourceType& t : AllResources()) {
    if (t.group != group || t.version != version) continue;
    bj::object r{{"name", t.resource},
                 {"singularName", t.singular},
                 {"namespaced", t.namespaced},
                 {"kind", t.kind},
                 {"verbs", Strings(t.verbs)}};
    if (!t.short_names.empty()) r["shortNames"] = Strings(t.short_names);
    if (!t.categories.empty()) r["categories"] = Strings(t.categories);
    resources.push_back(std::move(r));
    for (const Subresource& s : t.subresources) {
      bj::object sub{{"name", t.resource + "/" + s.name},
                     {"singularName", ""},
                     {"namespaced", t.namespaced},
                     {"kind", s.kind},
                     {"verbs", Strings(s.verbs)}};
      if (!s.group.empty()) {
        sub["group"] = s.group;
        sub["version"] = s.version;
      }
      resources.push_back(std::move(sub));
    }
  }
  if (resources.empty()) return std::nullopt;
  std::string group_version = group.empty() ? version : group + "/" + version;
  return bj::serialize(bj::object{{"kind", "APIResourceList"},
                                  {"apiVersion", "v1"},
                                  {"groupVersion", group_version},
                                  {"resources", std::move(resources)}});
}

}  // namespace berth::controlplane::api
