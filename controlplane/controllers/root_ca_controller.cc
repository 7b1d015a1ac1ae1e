#include "controlplane/controllers/root_ca_controller.h"

#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kName[] = "kube-root-ca.crt";
constexpr char kDescriptionAnnotation[] = "kubernetes.io/description";
// Upstream's wording.
constexpr char kDescription[] =
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters.";

std::string NamespaceOf(const bj::object& obj) {
  return StringAt(obj, {"metadata", "namespace"});
}

}  // namespace

RootCaController::RootCaController(client::ClientConfig config, SharedInformers& informers,
                                   std::string ca_pem, int workers)
    : Controller("root-ca-cert-publisher", std::move(config), workers),
      ca_pem_(std::move(ca_pem)),
      namespaces_(informers.Register("/api/v1/namespaces", QueueActiveNamespaces())),
      config_maps_(informers.Register(
          std::string("/api/v1/configmaps?fieldSelector=metadata.name%3D") + kName, Handlers())) {}

client::InformerHandlers RootCaController::Handlers() {
  client::InformerHandlers h;
  h.updated = [this](const bj::object&, const bj::object& cm) { queue().Add(NamespaceOf(cm)); };
  h.deleted = [this](const bj::object& cm) { queue().Add(NamespaceOf(cm)); };
  return h;
}

RootCaController::~RootCaController() {
  Stop();
}

Status RootCaController::Sync(client::ApiClient& api, const std::string& key) {
  std::optional<bj::object> ns = namespaces_.Get(key);
  if (!ns || BeingDeleted(*ns)) return Ok();
  if (std::optional<bj::object> cm = config_maps_.Get(key + "/" + kName)) {
    return Repair(api, key, std::move(*cm));
  }
  const std::string collection = "/api/v1/namespaces/" + key + "/configmaps";
  bj::object cm{
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata", bj::object{{"name", kName},
                              {"annotations", bj::object{{kDescriptionAnnotation, kDescription}}}}},
      {"data", bj::object{{"ca.crt", ca_pem_}}}};
  client::ApiResponse r = BERTH_TRY(api.Do("POST", collection, bj::serialize(cm)));
  if (r.status == 201 || r.status == 404) return Ok();
  if (r.status == 403 && HasStatusCause(r, "NamespaceTerminating")) return Ok();
  if (r.status != 409) return HttpError("POST", collection, r);
  // It exists and the cache is behind: check the stored one.
  const std::string url = collection + "/" + kName;
  client::ApiResponse got = BERTH_TRY(api.Do("GET", url));
  if (got.status == 404) return Error(Errc::kAborted, "GET " + url + ": gone again, retry");
  if (got.status != 200) return HttpError("GET", url, got);
  bj::value stored = got.Json();
  if (!stored.is_object()) return Error(Errc::kDataLoss, "GET " + url + ": not a JSON object");
  return Repair(api, key, std::move(stored.as_object()));
}

Status RootCaController::Repair(client::ApiClient& api, const std::string& ns, bj::object cm) {
  bj::object want{{"ca.crt", ca_pem_}};
  const bj::value* data = cm.if_contains("data");
  bool data_right = data != nullptr && data->is_object() && data->as_object() == want;
  if (data_right && !StringAt(cm, {"metadata", "annotations", kDescriptionAnnotation}).empty()) {
    return Ok();
  }
  cm["data"] = std::move(want);
  bj::value& meta = cm["metadata"];
  if (!meta.is_object()) meta = bj::object();
  bj::value& annotations = meta.as_object()["annotations"];
  if (!annotations.is_object()) annotations = bj::object();
  annotations.as_object()[kDescriptionAnnotation] = kDescription;
  // The resourceVersion it carries makes a concurrent edit a 409, retried.
  const std::string url = "/api/v1/namespaces/" + ns + "/configmaps/" + kName;
  client::ApiResponse r = BERTH_TRY(api.Do("PUT", url, bj::serialize(cm)));
  if (r.status == 200) return Ok();
  return HttpError("PUT", url, r);
}

}  // namespace berth::controlplane::controllers
