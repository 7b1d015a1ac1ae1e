#include "controlplane/controllers/gc_operations.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers::gc {
namespace {

namespace bj = boost::json;

constexpr std::string_view kStrategicMergePatch = "application/strategic-merge-patch+json";
constexpr std::string_view kMergePatch = "application/merge-patch+json";
// client-go's retry.DefaultBackoff, with which upstream removes finalizers.
constexpr int kConflictRetries = 5;
constexpr std::chrono::milliseconds kConflictDelay{10};

bj::object MetadataPatch(bj::object metadata) {
  return bj::object{{"metadata", std::move(metadata)}};
}

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

}  // namespace

std::string GroupVersion(const ApiResource& type) {
  return type.group.empty() ? type.version : type.group + "/" + type.version;
}

std::string ListUrl(const ApiResource& type) {
  std::string base =
      type.group.empty() ? "/api/" + type.version : "/apis/" + type.group + "/" + type.version;
  return base + "/" + type.resource;
}

std::string ObjectUrl(const ApiResource& type, const std::string& ns, const std::string& name) {
  if (!type.namespaced) return ListUrl(type) + "/" + name;
  return type.Collection(ns) + "/" + name;
}

void RestMapper::Update(const std::vector<ApiResource>& types, bool complete) {
  std::map<std::pair<std::string, std::string>, ApiResource> fresh;
  for (const ApiResource& t : types) {
    if (t.kind.empty()) continue;
    fresh.try_emplace({GroupVersion(t), t.kind}, t);
  }
  std::lock_guard lock(mu_);
  if (!complete) fresh.merge(types_);  // what fresh has wins
  types_ = std::move(fresh);
}

Result<ApiResource> RestMapper::Map(const std::string& api_version, const std::string& kind) const {
  std::lock_guard lock(mu_);
  auto it = types_.find({api_version, kind});
  if (it == types_.end()) {
    return Error(Errc::kFailedPrecondition,
                 "unable to get REST mapping for " + api_version + "/" + kind);
  }
  return it->second;
}

Result<std::string> Operations::Url(const ObjectIdentity& identity) const {
  ApiResource type = BERTH_TRY(mapper_.Map(identity.api_version, identity.kind));
  return ObjectUrl(type, identity.namespace_, identity.name);
}

Result<client::ApiResponse> Operations::Send(std::string_view method, const std::string& url,
                                             const bj::object& body,
                                             std::string_view content_type) {
  return api_.Do(method, url, bj::serialize(body), content_type);
}

Result<std::optional<bj::object>> Operations::Get(const ObjectIdentity& identity) {
  ApiResource type = BERTH_TRY(mapper_.Map(identity.api_version, identity.kind));
  return Get(type, identity.namespace_, identity.name);
}

Result<std::optional<bj::object>> Operations::Get(const ApiResource& type, const std::string& ns,
                                                  const std::string& name) {
  const std::string url = ObjectUrl(type, ns, name);
  client::ApiResponse r = BERTH_TRY(api_.Do("GET", url));
  if (r.status == 404) return std::optional<bj::object>();
  if (r.status != 200) return HttpError("GET", url, r);
  bj::value v = r.Json();
  if (!v.is_object()) return Error(Errc::kDataLoss, "GET " + url + ": not a JSON object");
  return std::optional<bj::object>(std::move(v.as_object()));
}

Status Operations::Delete(const ObjectIdentity& identity, const std::string& resource_version,
                          const std::vector<OwnerReference>& owners_at_version,
                          std::string_view policy) {
  const std::string url = BERTH_TRY(Url(identity));
  bj::object preconditions{{"uid", identity.uid}};
  if (!resource_version.empty()) preconditions["resourceVersion"] = resource_version;
  bj::object options{{"kind", "DeleteOptions"},
                     {"apiVersion", "v1"},
                     {"propagationPolicy", policy},
                     {"preconditions", preconditions}};
  client::ApiResponse r = BERTH_TRY(Send("DELETE", url, options, "application/json"));
  if (r.status == 409 && !resource_version.empty()) {
    // Updates that leave the ownerReferences alone must not starve the
    // collector: delete on the uid alone when they are what it judged.
    std::optional<bj::object> live = BERTH_TRY(Get(identity));
    if (!live) return Ok();
    if (StringAt(*live, {"metadata", "uid"}) == identity.uid &&
        StringAt(*live, {"metadata", "resourceVersion"}) != resource_version &&
        OwnerReferencesOf(*live) == owners_at_version) {
      options["preconditions"].as_object().erase("resourceVersion");
      r = BERTH_TRY(Send("DELETE", url, options, "application/json"));
    }
  }
  if (r.status == 200 || r.status == 202) return Ok();
  return HttpError("DELETE", url, r);
}

Status Operations::Patch(const ObjectIdentity& identity, const bj::object& strategic,
                         const std::function<bj::object(const bj::object&)>& fallback) {
  const std::string url = BERTH_TRY(Url(identity));
  client::ApiResponse r = BERTH_TRY(Send("PATCH", url, strategic, kStrategicMergePatch));
  if (r.status == 415) {
    std::optional<bj::object> live = BERTH_TRY(Get(identity));
    if (!live) return Error(Errc::kNotFound, "GET " + url + ": gone");
    r = BERTH_TRY(Send("PATCH", url, fallback(*live), kMergePatch));
  }
  if (r.status == 200) return Ok();
  return HttpError("PATCH", url, r);
}

Status Operations::RemoveOwnerReferences(const ObjectIdentity& identity,
                                         const std::vector<std::string>& owner_uids) {
  bj::array deletes;
  for (const std::string& uid : owner_uids)
    deletes.push_back(bj::object{{"$patch", "delete"}, {"uid", uid}});
  bj::object strategic =
      MetadataPatch({{"ownerReferences", std::move(deletes)}, {"uid", identity.uid}});
  return Patch(identity, strategic, [&](const bj::object& live) {
    bj::array kept;
    for (const OwnerReference& ref : OwnerReferencesOf(live))
      if (!Contains(owner_uids, ref.uid)) kept.push_back(ref.ToJson());
    bj::value refs = kept.empty() ? bj::value(nullptr) : bj::value(std::move(kept));
    return MetadataPatch({{"resourceVersion", StringAt(live, {"metadata", "resourceVersion"})},
                          {"ownerReferences", std::move(refs)}});
  });
}

Status Operations::UnblockOwnerReferences(const ObjectIdentity& identity,
                                          const std::vector<OwnerReference>& owners) {
  bj::array unblocked;
  for (OwnerReference ref : owners) {
    if (!ref.Blocks()) continue;
    ref.block_owner_deletion = false;
    unblocked.push_back(ref.ToJson());
  }
  bj::object strategic =
      MetadataPatch({{"ownerReferences", std::move(unblocked)}, {"uid", identity.uid}});
  return Patch(identity, strategic, [&](const bj::object& live) {
    bj::array all;
    for (OwnerReference ref : owners) {
      ref.block_owner_deletion = false;
      all.push_back(ref.ToJson());
    }
    return MetadataPatch({{"resourceVersion", StringAt(live, {"metadata", "resourceVersion"})},
                          {"ownerReferences", std::move(all)}});
  });
}

Status Operations::RemoveFinalizer(const ObjectIdentity& identity, std::string_view finalizer) {
  const std::string url = BERTH_TRY(Url(identity));
  for (int attempt = 1;; ++attempt) {
    std::optional<bj::object> live = BERTH_TRY(Get(identity));
    if (!live || StringAt(*live, {"metadata", "uid"}) != identity.uid) return Ok();
    std::vector<std::string> finalizers = StringsAt(*live, {"metadata", "finalizers"});
    auto it = std::find(finalizers.begin(), finalizers.end(), finalizer);
    if (it == finalizers.end()) return Ok();
    finalizers.erase(it);
    bj::value rest = nullptr;
    if (!finalizers.empty()) rest = bj::value_from(finalizers);
    // The resourceVersion makes the patch fail rather than drop a
    // finalizer added meanwhile.
    bj::object patch =
        MetadataPatch({{"resourceVersion", StringAt(*live, {"metadata", "resourceVersion"})},
                       {"finalizers", std::move(rest)}});
    client::ApiResponse r = BERTH_TRY(Send("PATCH", url, patch, kMergePatch));
    if (r.status == 200 || r.status == 404) return Ok();
    if (r.status != 409 || attempt >= kConflictRetries) {
      return HttpError("PATCH", url, r)
          .Wrap("remove the " + std::string(finalizer) + " finalizer of " + identity.str());
    }
    std::this_thread::sleep_for(kConflictDelay);
  }
}

}  // namespace berth::controlplane::controllers::gc
