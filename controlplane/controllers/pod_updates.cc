#include "controlplane/controllers/pod_updates.h"

#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

std::string PodUrl(const std::string& ns, const std::string& name) {
  return "/api/v1/namespaces/" + ns + "/pods/" + name;
}

}  // namespace

bool UpdatePodCondition(bj::object& status, bj::object condition, WallTime now) {
  condition["lastTransitionTime"] = ApiTime(now);
  bj::value& list = status["conditions"];
  if (!list.is_array()) list = bj::array();
  const std::string type = StringAt(condition, {"type"});
  for (bj::value& c : list.as_array()) {
    if (!c.is_object() || StringAt(c.as_object(), {"type"}) != type) continue;
    const bj::object& old = c.as_object();
    if (StringAt(old, {"status"}) == StringAt(condition, {"status"})) {
      const bj::value* kept = old.if_contains("lastTransitionTime");
      condition["lastTransitionTime"] = kept != nullptr ? *kept : bj::value(nullptr);
    }
    bool same = true;
    for (std::string_view field :
         {"status", "reason", "message", "lastProbeTime", "lastTransitionTime"}) {
      same = same && StringAt(old, {field}) == StringAt(condition, {field});
    }
    c = std::move(condition);
    return !same;
  }
  list.as_array().push_back(std::move(condition));
  return true;
}

Status PatchPodStatus(client::ApiClient& api, const std::string& ns, const std::string& name,
                      const bj::object& status) {
  const std::string url = PodUrl(ns, name) + "/status";
  bj::object patch{{"status", status}};
  client::ApiResponse r = BERTH_TRY(
      api.Do("PATCH", url, bj::serialize(patch), "application/strategic-merge-patch+json"));
  if (r.status == 200) return Ok();
  return HttpError("PATCH", url, r);
}

Status DeletePod(client::ApiClient& api, const std::string& ns, const std::string& name,
                 std::optional<int> grace_seconds) {
  std::string url = PodUrl(ns, name);
  if (grace_seconds) url += "?gracePeriodSeconds=" + std::to_string(*grace_seconds);
  client::ApiResponse r = BERTH_TRY(api.Do("DELETE", url));
  if (r.status == 200 || r.status == 202 || r.status == 404) return Ok();
  return HttpError("DELETE", url, r);
}

}  // namespace berth::controlplane::controllers
