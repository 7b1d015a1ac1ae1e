#include "controlplane/controllers/csr_signing_controller.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "common/base64.h"
#include "common/time.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/kubelet_csr.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kCsrs[] = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
constexpr int64_t kMinimumExpirationSeconds = 600;

bool Signed(const bj::object& csr) {
  return !StringAt(csr, {"status", "certificate"}).empty();
}

// The signer's validation; "" when the request is fine for it.
std::string SignerProblem(const CsrSpec& csr, bool& server_auth, bool& client_auth) {
  if (csr.signer_name == kKubeletClientSigner) {
    client_auth = true;
    return KubeletClientProblem(csr);
  }
  if (csr.signer_name == kKubeletServingSigner) {
    server_auth = true;
    return KubeletServingProblem(csr);
  }
  // kube-apiserver-client: any subject; client auth usages only.
  client_auth = true;
  std::set<std::string> allowed = {"digital signature", "key encipherment", "client auth"};
  bool has_client = false;
  for (const std::string& u : csr.usages) {
    if (!allowed.contains(u)) return "usage \"" + u + "\" is not allowed for " + csr.signer_name;
    has_client |= u == "client auth";
  }
  return has_client ? "" : "usages must include client auth";
}

}  // namespace

CsrSigningController::CsrSigningController(client::ClientConfig config, SharedInformers& informers,
                                           int workers, pki::Credential ca,
                                           std::chrono::seconds signing_duration)
    : Controller("csrsigning", std::move(config), workers),
      csrs_(informers.Register(
          kCsrs, client::InformerHandlers{[this](const bj::object& c) {
                                            queue().Add(StringAt(c, {"metadata", "name"}));
                                          },
                                          [this](const bj::object&, const bj::object& c) {
                                            queue().Add(StringAt(c, {"metadata", "name"}));
                                          },
                                          nullptr})),
      ca_(std::move(ca)),
      signing_duration_(signing_duration) {}

CsrSigningController::~CsrSigningController() {
  Stop();
}

Status CsrSigningController::Sync(client::ApiClient& api, const std::string& key) {
  std::optional<bj::object> csr = csrs_.Get(key);
  if (!csr || !HasCondition(*csr, "Approved") || HasCondition(*csr, "Failed") || Signed(*csr)) {
    return Ok();
  }
  const std::string signer = StringAt(*csr, {"spec", "signerName"});
  if (signer != kKubeletClientSigner && signer != kKubeletServingSigner &&
      signer != kApiserverClientSigner) {
    return Ok();  // another signer's
  }
  bool server_auth = false;
  bool client_auth = false;
  Result<CsrSpec> spec = ReadCsrSpec(*csr);
  std::string problem =
      spec.ok() ? SignerProblem(*spec, server_auth, client_auth) : spec.error().str();
  bj::object& status = (*csr)["status"].is_object() ? (*csr)["status"].as_object()
                                                    : ((*csr)["status"] = bj::object{}).as_object();
  if (!problem.empty()) {
    std::string now = FormatRfc3339(WallClockNow().tv_sec);
    bj::value& conds = status["conditions"];
    if (!conds.is_array()) conds = bj::array{};
    conds.as_array().push_back(bj::object{{"type", "Failed"},
                                          {"status", "True"},
                                          {"reason", "SignerValidationFailure"},
                                          {"message", problem},
                                          {"lastUpdateTime", now},
                                          {"lastTransitionTime", now}});
    return WriteStatus(api, *csr);
  }
  std::chrono::seconds validity = signing_duration_;
  if (spec->expiration_seconds > 0) {
    validity = std::min(validity, std::chrono::seconds(std::max(spec->expiration_seconds,
                                                                kMinimumExpirationSeconds)));
  }
  pki::CertInfo ca = BERTH_TRY(pki::Inspect(ca_.cert_pem));
  std::time_t now = WallClockNow().tv_sec;
  validity = std::min(validity, std::chrono::seconds(std::max<std::time_t>(ca.not_after - now, 0)));
  pki::CertSpec cert;
  cert.common_name = spec->request.common_name;
  cert.organizations = spec->request.organizations;
  cert.dns_names = spec->request.dns_names;
  cert.ip_addresses = spec->request.ip_addresses;
  cert.server_auth = server_auth;
  cert.client_auth = client_auth;
  cert.validity = validity;
  std::string pem = BERTH_TRY(pki::SignCertificateRequest(ca_, spec->request_pem, cert));
  status["certificate"] = Base64Encode(pem);
  return WriteStatus(api, *csr);
}

Status CsrSigningController::WriteStatus(client::ApiClient& api, const bj::object& csr) {
  const std::string url =
      std::string(kCsrs) + "/" + StringAt(csr, {"metadata", "name"}) + "/status";
  client::ApiResponse r = BERTH_TRY(api.Do("PUT", url, bj::serialize(csr)));
  if (r.status == 200 || r.status == 404) return Ok();
  return HttpError("PUT", url, r);
}

}  // namespace berth::controlplane::controllers
