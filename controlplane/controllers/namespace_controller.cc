#include "controlplane/controllers/namespace_controller.h"

#include <algorithm>

#include "common/time.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/namespace_conditions.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kFinalizer[] = "kubernetes";

std::string NamespaceUrl(const std::string& name) {
  return "/api/v1/namespaces/" + name;
}

}  // namespace

NamespaceController::NamespaceController(client::ClientConfig config, SharedInformers& informers,
                                         int workers)
    : Controller("namespace", std::move(config), workers),
      namespaces_(informers.Register("/api/v1/namespaces", Handlers())) {}

client::InformerHandlers NamespaceController::Handlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& ns) {
    if (BeingDeleted(ns)) queue().Add(StringAt(ns, {"metadata", "name"}));
  };
  h.updated = [this](const bj::object&, const bj::object& ns) {
    if (BeingDeleted(ns)) queue().Add(StringAt(ns, {"metadata", "name"}));
  };
  h.deleted = [this](const bj::object& ns) { ForgetRechecks(StringAt(ns, {"metadata", "name"})); };
  return h;
}

NamespaceController::~NamespaceController() {
  Stop();
}

Status NamespaceController::Sync(client::ApiClient& api, const std::string& key) {
  // The live object, not the cache's: a namespace must not be emptied on
  // a stale view, nor finalized with an old resourceVersion.
  const std::string url = NamespaceUrl(key);
  client::ApiResponse got = BERTH_TRY(api.Do("GET", url));
  if (got.status == 404) {
    ForgetRechecks(key);
    return Ok();
  }
  if (got.status != 200) return HttpError("GET", url, got);
  bj::value parsed = got.Json();
  if (!parsed.is_object()) return Error(Errc::kDataLoss, "GET " + url + ": not a JSON object");
  bj::object ns = std::move(parsed.as_object());
  if (!BeingDeleted(ns)) {
    ForgetRechecks(key);
    return Ok();
  }
  std::vector<std::string> finalizers = StringsAt(ns, {"spec", "finalizers"});
  if (std::find(finalizers.begin(), finalizers.end(), kFinalizer) == finalizers.end()) {
    ForgetRechecks(key);
    // Another finalizer's owner finishes it; with none left, it may go.
    return finalizers.empty() ? DeleteFinalized(api, ns) : Ok();
  }

  ContentReport report = DeleteNamespaceContent(api, key);
  ns = BERTH_TRY_CTX(UpdateConditions(api, std::move(ns), report), "namespace " + key);
  if (!report.discovery_failures.empty() || !report.errors.empty()) {
    const std::string& first =
        report.errors.empty() ? report.discovery_failures.front() : report.errors.front();
    size_t failures = report.errors.size() + report.discovery_failures.size();
    return Error(Errc::kUnavailable, "namespace " + key + ": " + std::to_string(failures) +
                                         " failure(s) emptying it, first: " + first);
  }
  if (!report.remaining.empty()) {
    queue().AddAfter(key, RecheckDelay(key));
    return Ok();
  }
  ForgetRechecks(key);
  return Finalize(api, std::move(ns));
}

Result<bj::object> NamespaceController::UpdateConditions(client::ApiClient& api, bj::object ns,
                                                         const ContentReport& report) {
  bj::value& status = ns["status"];
  if (!status.is_object()) status = bj::object();
  bj::value& conditions = status.as_object()["conditions"];
  if (!conditions.is_array()) conditions = bj::array();
  std::string now = FormatRfc3339(WallClockNow().tv_sec);
  if (!UpdateDeletionConditions(conditions.as_array(), report, now)) return ns;
  const std::string url = NamespaceUrl(StringAt(ns, {"metadata", "name"})) + "/status";
  client::ApiResponse r = BERTH_TRY(api.Do("PUT", url, bj::serialize(ns)));
  if (r.status != 200) return HttpError("PUT", url, r);
  bj::value stored = r.Json();
  if (!stored.is_object()) return Error(Errc::kDataLoss, "PUT " + url + ": not a JSON object");
  return std::move(stored.as_object());
}

Status NamespaceController::Finalize(client::ApiClient& api, bj::object ns) {
  bj::array rest;
  for (const std::string& f : StringsAt(ns, {"spec", "finalizers"}))
    if (f != kFinalizer) rest.emplace_back(f);
  if (!ns["spec"].is_object()) ns["spec"] = bj::object();
  ns["spec"].as_object()["finalizers"] = std::move(rest);
  const std::string url = NamespaceUrl(StringAt(ns, {"metadata", "name"})) + "/finalize";
  client::ApiResponse r = BERTH_TRY(api.Do("PUT", url, bj::serialize(ns)));
  if (r.status == 200 || r.status == 404) return Ok();
  return HttpError("PUT", url, r);
}

Status NamespaceController::DeleteFinalized(client::ApiClient& api, const bj::object& ns) {
  const std::string url = NamespaceUrl(StringAt(ns, {"metadata", "name"}));
  // The uid precondition spares a namespace made anew under the same name.
  bj::object options{{"kind", "DeleteOptions"},
                     {"apiVersion", "v1"},
                     {"preconditions", bj::object{{"uid", StringAt(ns, {"metadata", "uid"})}}}};
  client::ApiResponse r = BERTH_TRY(api.Do("DELETE", url, bj::serialize(options)));
  if (r.status == 200 || r.status == 202 || r.status == 404 || r.status == 409) return Ok();
  return HttpError("DELETE", url, r);
}

std::chrono::milliseconds NamespaceController::RecheckDelay(const std::string& name) {
  std::lock_guard lock(mu_);
  int looks = rechecks_[name]++;
  auto delay = std::chrono::milliseconds(1000) * (1 << std::min(looks / 4, 5));
  return std::min<std::chrono::milliseconds>(delay, std::chrono::seconds(30));
}

void NamespaceController::ForgetRechecks(const std::string& name) {
  std::lock_guard lock(mu_);
  rechecks_.erase(name);
}

}  // namespace berth::controlplane::controllers
