#include "controlplane/controllers/csr_approving_controller.h"

#include <algorithm>
#include <set>

#include "common/log.h"
#include "common/time.h"
#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kCsrs[] = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

client::InformerHandlers QueueCsrs(WorkQueue& queue) {
  client::InformerHandlers h;
  h.added = [&queue](const bj::object& csr) { queue.Add(StringAt(csr, {"metadata", "name"})); };
  h.updated = [&queue](const bj::object&, const bj::object& csr) {
    queue.Add(StringAt(csr, {"metadata", "name"}));
  };
  return h;
}

}  // namespace

CsrApprovingController::CsrApprovingController(client::ClientConfig config,
                                               SharedInformers& informers, int workers)
    : Controller("csrapproving", std::move(config), workers),
      csrs_(informers.Register(kCsrs, QueueCsrs(queue()))),
      nodes_(informers.Register("/api/v1/nodes", {})) {}

CsrApprovingController::~CsrApprovingController() {
  Stop();
}

Status CsrApprovingController::Sync(client::ApiClient& api, const std::string& key) {
  std::optional<bj::object> csr = csrs_.Get(key);
  if (!csr || HasCondition(*csr, "Approved") || HasCondition(*csr, "Denied")) return Ok();
  Result<CsrSpec> spec = ReadCsrSpec(*csr);
  if (!spec.ok()) {
    // Not ours to decide; the signer marks it Failed if it is approved.
    BLOG(kInfo) << "csrapproving: " << spec.error().str();
    return Ok();
  }
  if (spec->signer_name == kKubeletClientSigner) {
    if (!KubeletClientProblem(*spec).empty()) return Ok();
    // Upstream's recognisers, in order: a node renewing its own
    // certificate, then any node client request.
    struct Recogniser {
      bool applies;
      const char* subresource;
      const char* message;
    };
    const Recogniser recognisers[] = {
        {spec->request.common_name == spec->username, "selfnodeclient",
         "Auto approving self kubelet client certificate after SubjectAccessReview."},
        {true, "nodeclient",
         "Auto approving kubelet client certificate after SubjectAccessReview."},
    };
    for (const Recogniser& r : recognisers) {
      if (!r.applies) continue;
      if (BERTH_TRY(Allowed(api, *spec, r.subresource))) return Approve(api, *csr, r.message);
    }
    // A later RBAC change may allow it: look again with backoff.
    return Error(Errc::kPermissionDenied,
                 "certificatesigningrequest " + key + " from " + spec->username +
                     " is a kubelet client request, but no SubjectAccessReview allowed it");
  }
  if (spec->signer_name == kKubeletServingSigner) {
    bool node_itself = spec->username == spec->request.common_name &&
                       std::ranges::find(spec->groups, "system:nodes") != spec->groups.end();
    if (!node_itself || !KubeletServingProblem(*spec).empty()) return Ok();
    if (std::string problem = ServingSansProblem(*spec); !problem.empty()) {
      return Error(Errc::kFailedPrecondition, "certificatesigningrequest " + key + ": " + problem);
    }
    return Approve(api, *csr,
                   "Auto approving kubelet serving certificate for node " +
                       spec->request.common_name.substr(sizeof "system:node:" - 1) + ".");
  }
  return Ok();
}

Result<bool> CsrApprovingController::Allowed(client::ApiClient& api, const CsrSpec& csr,
                                             const std::string& subresource) {
  bj::array groups;
  for (const std::string& g : csr.groups)
    groups.emplace_back(g);
  bj::object review{{"apiVersion", "authorization.k8s.io/v1"},
                    {"kind", "SubjectAccessReview"},
                    {"spec", bj::object{{"user", csr.username},
                                        {"groups", std::move(groups)},
                                        {"uid", csr.uid},
                                        {"resourceAttributes",
                                         bj::object{{"group", "certificates.k8s.io"},
                                                    {"resource", "certificatesigningrequests"},
                                                    {"verb", "create"},
                                                    {"subresource", subresource}}}}}};
  const std::string url = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
  client::ApiResponse r = BERTH_TRY(api.Do("POST", url, bj::serialize(review)));
  if (r.status != 201 && r.status != 200) return HttpError("POST", url, r);
  bj::value v = r.Json();
  const bj::value* allowed =
      v.is_object() && v.as_object().contains("status") && v.at("status").is_object()
          ? v.at("status").as_object().if_contains("allowed")
          : nullptr;
  return allowed != nullptr && allowed->is_bool() && allowed->as_bool();
}

std::string CsrApprovingController::ServingSansProblem(const CsrSpec& csr) const {
  std::string node = csr.request.common_name.substr(sizeof "system:node:" - 1);
  std::optional<bj::object> obj = nodes_.Get(node);
  if (!obj) return "node " + node + " is not registered yet";
  std::set<std::string> names;
  std::set<std::string> ips;
  const bj::value* status = obj->if_contains("status");
  const bj::value* addresses = status != nullptr && status->is_object()
                                   ? status->as_object().if_contains("addresses")
                                   : nullptr;
  if (addresses != nullptr && addresses->is_array()) {
    for (const bj::value& a : addresses->as_array()) {
      if (!a.is_object()) continue;
      std::string type = StringAt(a.as_object(), {"type"});
      std::string address = StringAt(a.as_object(), {"address"});
      if (type == "InternalIP" || type == "ExternalIP") ips.insert(address);
      if (type == "Hostname" || type == "InternalDNS" || type == "ExternalDNS") {
        names.insert(address);
      }
    }
  }
  for (const std::string& dns : csr.request.dns_names) {
    if (!names.contains(dns)) return "DNS name " + dns + " is not an address of node " + node;
  }
  for (const std::string& ip : csr.request.ip_addresses) {
    if (!ips.contains(ip)) return "IP address " + ip + " is not an address of node " + node;
  }
  return "";
}

Status CsrApprovingController::Approve(client::ApiClient& api, bj::object csr,
                                       const std::string& message) {
  const std::string name = StringAt(csr, {"metadata", "name"});
  std::string now = FormatRfc3339(WallClockNow().tv_sec);
  bj::value& status = csr["status"];
  if (!status.is_object()) status = bj::object{};
  bj::value& conds = status.as_object()["conditions"];
  if (!conds.is_array()) conds = bj::array{};
  conds.as_array().push_back(bj::object{{"type", "Approved"},
                                        {"status", "True"},
                                        {"reason", "AutoApproved"},
                                        {"message", message},
                                        {"lastUpdateTime", now},
                                        {"lastTransitionTime", now}});
  const std::string url = std::string(kCsrs) + "/" + name + "/approval";
  client::ApiResponse r = BERTH_TRY(api.Do("PUT", url, bj::serialize(csr)));
  if (r.status == 200 || r.status == 404) return Ok();
  return HttpError("PUT", url, r);  // 409: the cache is behind; retried
}

}  // namespace berth::controlplane::controllers
