#include "controlplane/controllers/controller_ref.h"

#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kStrategicMerge[] = "application/strategic-merge-patch+json";

}  // namespace

std::optional<OwnerRef> ControllerOf(const bj::object& obj) {
  const bj::value* meta = obj.if_contains("metadata");
  const bj::value* refs = meta != nullptr && meta->is_object()
                              ? meta->as_object().if_contains("ownerReferences")
                              : nullptr;
  if (refs == nullptr || !refs->is_array()) return std::nullopt;
  for (const bj::value& ref : refs->as_array()) {
    if (!ref.is_object()) continue;
    const bj::value* controller = ref.as_object().if_contains("controller");
    if (controller == nullptr || !controller->is_bool() || !controller->as_bool()) continue;
    const bj::object& r = ref.as_object();
    return OwnerRef{StringAt(r, {"apiVersion"}), StringAt(r, {"kind"}), StringAt(r, {"name"}),
                    StringAt(r, {"uid"})};
  }
  return std::nullopt;
}

bj::object ControllerRefTo(const bj::object& owner, std::string_view api_version,
                           std::string_view kind) {
  return bj::object{{"apiVersion", api_version},
                    {"kind", kind},
                    {"name", StringAt(owner, {"metadata", "name"})},
                    {"uid", StringAt(owner, {"metadata", "uid"})},
                    {"controller", true},
                    {"blockOwnerDeletion", true}};
}

RefManager::RefManager(client::ApiClient& api, bj::object owner, std::string api_version,
                       std::string kind, std::string owner_url, api::LabelSelector selector,
                       std::function<std::string(const bj::object&)> url_of)
    : api_(api),
      owner_(std::move(owner)),
      api_version_(std::move(api_version)),
      kind_(std::move(kind)),
      owner_url_(std::move(owner_url)),
      uid_(StringAt(owner_, {"metadata", "uid"})),
      selector_(std::move(selector)),
      url_of_(std::move(url_of)) {}

Result<std::vector<bj::object>> RefManager::Claim(const std::vector<bj::object>& candidates) {
  std::vector<bj::object> claimed;
  std::optional<Error> first_error;
  for (const bj::object& obj : candidates) {
    Result<bool> mine = ClaimOne(obj);
    if (!mine.ok()) {
      if (!first_error) first_error = mine.error();
      continue;
    }
    if (*mine) claimed.push_back(obj);
  }
  if (first_error) return *first_error;
  return claimed;
}

Result<bool> RefManager::ClaimOne(const bj::object& obj) {
  const bj::value* labels_value = obj.if_contains("metadata");
  const bj::object* labels = nullptr;
  if (labels_value != nullptr && labels_value->is_object()) {
    const bj::value* l = labels_value->as_object().if_contains("labels");
    labels = l != nullptr ? l->if_object() : nullptr;
  }
  bool matches = selector_.Matches(labels);
  if (std::optional<OwnerRef> ref = ControllerOf(obj)) {
    if (ref->uid != uid_) return false;  // someone else's
    if (matches) return true;
    if (BeingDeleted(owner_)) return false;
    BERTH_TRY(Release(obj));
    return false;
  }
  // An orphan.
  if (BeingDeleted(owner_) || !matches || BeingDeleted(obj)) return false;
  if (StringAt(obj, {"metadata", "namespace"}) != StringAt(owner_, {"metadata", "namespace"})) {
    return false;
  }
  Status adopted = Adopt(obj);
  if (!adopted.ok()) {
    if (adopted.error().code() == Errc::kNotFound) return false;
    return adopted.error();
  }
  return true;
}

Status RefManager::CanAdopt() {
  if (can_adopt_) return *can_adopt_;
  can_adopt_ = [&]() -> Status {
    client::ApiResponse r = BERTH_TRY(api_.Do("GET", owner_url_));
    if (r.status != 200) return HttpError("GET", owner_url_, r);
    bj::value fresh = r.Json();
    if (!fresh.is_object()) return Error(Errc::kDataLoss, "GET " + owner_url_ + ": not an object");
    std::string uid = StringAt(fresh.as_object(), {"metadata", "uid"});
    std::string what = kind_ + " " + StringAt(owner_, {"metadata", "namespace"}) + "/" +
                       StringAt(owner_, {"metadata", "name"});
    if (uid != uid_) {
      return Error(Errc::kAborted,
                   "original " + what + " is gone: got uid " + uid + ", wanted " + uid_);
    }
    if (BeingDeleted(fresh.as_object())) {
      return Error(Errc::kAborted,
                   what + " has just been deleted at " +
                       StringAt(fresh.as_object(), {"metadata", "deletionTimestamp"}));
    }
    return Ok();
  }();
  return *can_adopt_;
}

Status RefManager::Adopt(const bj::object& obj) {
  BERTH_TRY(CanAdopt());
  // As upstream's, the patch carries the object's uid: an apiserver that
  // keeps uids immutable refuses it for a namesake made since the list.
  bj::object patch{
      {"metadata",
       bj::object{{"ownerReferences", bj::array{ControllerRefTo(owner_, api_version_, kind_)}},
                  {"uid", StringAt(obj, {"metadata", "uid"})}}}};
  return Patch(obj, patch, false);
}

Status RefManager::Release(const bj::object& obj) {
  bj::object patch{
      {"metadata",
       bj::object{{"ownerReferences", bj::array{bj::object{{"$patch", "delete"}, {"uid", uid_}}}},
                  {"uid", StringAt(obj, {"metadata", "uid"})}}}};
  return Patch(obj, patch, true);
}

Status RefManager::Patch(const bj::object& obj, const bj::object& patch, bool releasing) {
  const std::string url = url_of_(obj);
  client::ApiResponse r = BERTH_TRY(api_.Do("PATCH", url, bj::serialize(patch), kStrategicMerge));
  if (r.status == 200) return Ok();
  // Nothing to release: gone, or made again under the same name (422).
  if (releasing && (r.status == 404 || r.status == 422)) return Ok();
  return HttpError("PATCH", url, r);
}

}  // namespace berth::controlplane::controllers
