#include "controlplane/controllers/serviceaccount_controller.h"

#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kDefault[] = "default";

}  // namespace

ServiceAccountController::ServiceAccountController(client::ClientConfig config,
                                                   SharedInformers& informers, int workers)
    : Controller("serviceaccount", std::move(config), workers),
      namespaces_(informers.Register("/api/v1/namespaces", QueueActiveNamespaces())),
      service_accounts_(informers.Register(
          "/api/v1/serviceaccounts?fieldSelector=metadata.name%3Ddefault", Handlers())) {}

client::InformerHandlers ServiceAccountController::Handlers() {
  client::InformerHandlers h;
  h.deleted = [this](const bj::object& sa) {
    queue().Add(StringAt(sa, {"metadata", "namespace"}));
  };
  return h;
}

ServiceAccountController::~ServiceAccountController() {
  Stop();
}

Status ServiceAccountController::Sync(client::ApiClient& api, const std::string& key) {
  std::optional<bj::object> ns = namespaces_.Get(key);
  if (!ns || BeingDeleted(*ns)) return Ok();
  if (service_accounts_.Get(key + "/" + kDefault)) return Ok();
  const std::string url = "/api/v1/namespaces/" + key + "/serviceaccounts";
  bj::object sa{{"apiVersion", "v1"},
                {"kind", "ServiceAccount"},
                {"metadata", bj::object{{"name", kDefault}}}};
  client::ApiResponse r = BERTH_TRY(api.Do("POST", url, bj::serialize(sa)));
  // 409: the cache is behind; 404 or a terminating namespace: nothing to do.
  if (r.status == 201 || r.status == 409 || r.status == 404) return Ok();
  if (r.status == 403 && HasStatusCause(r, "NamespaceTerminating")) return Ok();
  return HttpError("POST", url, r);
}

}  // namespace berth::controlplane::controllers
