#include "controlplane/controllers/ttl_after_finished_controller.h"

#include "common/time.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/job_util.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

// A finished Job with a TTL.
bool NeedsCleanup(const bj::object& job) {
  const bj::value* ttl = api::Lookup(job, {"spec", "ttlSecondsAfterFinished"});
  return ttl != nullptr && ttl->is_int64() && IsJobFinished(job);
}

}  // namespace

TtlAfterFinishedController::TtlAfterFinishedController(client::ClientConfig config,
                                                       SharedInformers& informers, int workers)
    : Controller("ttl-after-finished", std::move(config), workers),
      jobs_(informers.Register("/apis/batch/v1/jobs", Handlers())) {}

TtlAfterFinishedController::~TtlAfterFinishedController() {
  Stop();
}

client::InformerHandlers TtlAfterFinishedController::Handlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& job) {
    if (!BeingDeleted(job) && NeedsCleanup(job)) queue().Add(client::ObjectKey(job));
  };
  h.updated = [this](const bj::object&, const bj::object& job) {
    if (!BeingDeleted(job) && NeedsCleanup(job)) queue().Add(client::ObjectKey(job));
  };
  return h;
}

Result<bool> TtlAfterFinishedController::Expired(const std::string& key, const bj::object& job) {
  if (BeingDeleted(job) || !NeedsCleanup(job)) return false;
  const bj::object* done = TrueCondition(job, "Complete");
  if (done == nullptr) done = TrueCondition(job, "Failed");
  time_t finished = api::ParseRfc3339(StringAt(*done, {"lastTransitionTime"}));
  if (finished < 0) {
    return Error(Errc::kFailedPrecondition,
                 "job " + key + ": unable to find the time when the Job finished");
  }
  int64_t ttl = api::LookupInt(job, {"spec", "ttlSecondsAfterFinished"});
  int64_t left = finished + ttl - WallClockNow().tv_sec;
  if (left <= 0) return true;
  queue().AddAfter(key, std::chrono::seconds(left));
  return false;
}

Status TtlAfterFinishedController::Sync(client::ApiClient& api, const std::string& key) {
  std::optional<bj::object> cached = jobs_.Get(key);
  if (!cached || !BERTH_TRY(Expired(key, *cached))) return Ok();
  // The cache may be stale (the TTL edited): look again before deleting.
  const std::string url = "/apis/batch/v1/namespaces/" +
                          StringAt(*cached, {"metadata", "namespace"}) + "/jobs/" +
                          StringAt(*cached, {"metadata", "name"});
  client::ApiResponse got = BERTH_TRY(api.Do("GET", url));
  if (got.status == 404) return Ok();
  if (got.status != 200) return HttpError("GET", url, got);
  bj::value fresh = got.Json();
  if (!fresh.is_object()) return Error(Errc::kDataLoss, "GET " + url + ": not a JSON object");
  if (!BERTH_TRY(Expired(key, fresh.as_object()))) return Ok();
  bj::object options{
      {"kind", "DeleteOptions"},
      {"apiVersion", "v1"},
      {"propagationPolicy", "Foreground"},
      {"preconditions", bj::object{{"uid", StringAt(fresh.as_object(), {"metadata", "uid"})}}}};
  client::ApiResponse r = BERTH_TRY(api.Do("DELETE", url, bj::serialize(options)));
  if (r.status == 200 || r.status == 202 || r.status == 404) return Ok();
  return HttpError("DELETE", url, r);
}

}  // namespace berth::controlplane::controllers
