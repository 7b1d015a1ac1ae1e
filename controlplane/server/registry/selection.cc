#include "controlplane/server/registry/selection.h"

#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::registry {

bool Selection::Matches(const api::ResourceType& type, const boost::json::object& obj) const {
  const boost::json::value* labels_v = api::Lookup(obj, {"metadata", "labels"});
  if (!labels.Matches(labels_v != nullptr ? labels_v->if_object() : nullptr)) return false;
  if (fields.empty()) return true;
  Result<bool> ok =
      fields.Matches([&](std::string_view field) { return type.behaviour->Field(obj, field); });
  return ok.ok() && *ok;
}

ApiResult<Selection> SelectionFor(const Call& c) {
  Selection s;
  Result<api::LabelSelector> labels = api::LabelSelector::Parse(c.Param("labelSelector"));
  if (!labels.ok()) return api::BadRequest(labels.error().message());
  s.labels = std::move(*labels);
  Result<api::FieldSelector> fields = api::FieldSelector::Parse(c.Param("fieldSelector"));
  if (!fields.ok()) return api::BadRequest(fields.error().message());
  s.fields = std::move(*fields);
  // A name in the path (the deprecated /watch/.../<name>) selects that
  // object only, as the authorizer was told.
  if (!c.name.empty()) s.fields.Require("metadata.name", c.name);
  // Every field label must be one the kind knows, even with no objects.
  for (const api::FieldRequirement& r : s.fields.requirements()) {
    boost::json::object probe;
    if (!c.type.behaviour->Field(probe, r.field)) {
      return api::BadRequest("field label not supported: " + r.field);
    }
  }
  s.prefix = c.type.storage_prefix;
  if (c.type.namespaced && !c.ns.empty()) s.prefix += c.ns + "/";
  std::optional<std::string> ns_field = s.fields.Exact("metadata.namespace");
  if (c.type.namespaced && c.ns.empty() && ns_field) s.prefix += *ns_field + "/";
  // A pinned name narrows the scan; the selector still checks the rest.
  if (std::optional<std::string> name = s.fields.Exact("metadata.name");
      name && (!c.type.namespaced || !c.ns.empty() || ns_field)) {
    s.prefix += *name;
  }
  return s;
}

}  // namespace berth::controlplane::registry
