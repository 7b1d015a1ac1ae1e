#pragma once
// The resource types berth server serves: for each, what discovery says
// about it (group, version, plural, kind, scope, verbs, short names,
// categories, subresources) and where its objects live in the store.
// Per-kind behaviour (defaulting, validation, fields, table columns) is
// the Kind of kinds.h; a type without one (the reviews) is served by hand.

#include <string>
#include <string_view>
#include <vector>

namespace berth::controlplane::api {

class Kind;

struct Subresource {
  std::string name;     // "status", "scale", ...
  std::string kind;     // the kind it takes and returns
  std::string group;    // the kind's group when not the parent's ("autoscaling" for scale)
  std::string version;  // likewise
  std::vector<std::string> verbs;
};

struct ResourceType {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural, lower case: "pods"
  std::string singular;
  std::string kind;
  bool namespaced = true;
  std::vector<std::string> verbs;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  std::vector<Subresource> subresources;
  // Objects live under this store prefix ("/pods/"): kube-apiserver's
  // /registry layout without the "/registry" (the etcd store adds it).
  std::string storage_prefix;
  const Kind* behaviour = nullptr;  // null: not stored (the reviews, reviews.h)

  std::string GroupVersion() const { return group.empty() ? version : group + "/" + version; }
  const Subresource* FindSubresource(std::string_view name) const;
};

// Every served type, core group first, then the groups in discovery order.
const std::vector<ResourceType>& AllResources();
const ResourceType* FindResource(std::string_view group, std::string_view version,
                                 std::string_view resource);
// The served groups' names, in discovery order ("" first).
std::vector<std::string> ServedGroups();

}  // namespace berth::controlplane::api
