#include "controlplane/controllers/kubelet_csr.h"

#include <algorithm>
#include <set>

#include "common/base64.h"
#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kNodePrefix[] = "system:node:";

// `usages` holds every one of `required` and nothing outside `allowed`.
bool UsagesFit(const std::vector<std::string>& usages, const std::set<std::string>& required,
               const std::set<std::string>& allowed) {
  std::set<std::string> have(usages.begin(), usages.end());
  return std::ranges::includes(have, required) && std::ranges::includes(allowed, have);
}

std::string NodeSubjectProblem(const CsrSpec& csr) {
  if (csr.request.organizations != std::vector<std::string>{"system:nodes"}) {
    return "subject organization is not exactly [system:nodes]";
  }
  if (!csr.request.common_name.starts_with(kNodePrefix) ||
      csr.request.common_name.size() == sizeof kNodePrefix - 1) {
    return "subject common name does not begin with \"system:node:\"";
  }
  return "";
}

}  // namespace

Result<CsrSpec> ReadCsrSpec(const bj::object& csr) {
  CsrSpec out;
  out.name = StringAt(csr, {"metadata", "name"});
  out.signer_name = StringAt(csr, {"spec", "signerName"});
  out.username = StringAt(csr, {"spec", "username"});
  out.groups = StringsAt(csr, {"spec", "groups"});
  out.uid = StringAt(csr, {"spec", "uid"});
  out.usages = StringsAt(csr, {"spec", "usages"});
  if (const bj::value* e = csr.contains("spec") && csr.at("spec").is_object()
                               ? csr.at("spec").as_object().if_contains("expirationSeconds")
                               : nullptr;
      e != nullptr && e->is_int64()) {
    out.expiration_seconds = e->as_int64();
  }
  std::optional<std::string> pem = Base64Decode(StringAt(csr, {"spec", "request"}));
  if (!pem || pem->empty()) {
    return Error(Errc::kInvalidArgument,
                 "certificatesigningrequest " + out.name + ": spec.request is not base64");
  }
  out.request_pem = std::move(*pem);
  Result<pki::CsrInfo> info = pki::InspectCertificateRequest(out.request_pem);
  if (!info.ok()) {
    return std::move(info).error().Wrap("certificatesigningrequest " + out.name + ": spec.request");
  }
  out.request = std::move(*info);
  return out;
}

std::string KubeletClientProblem(const CsrSpec& csr) {
  if (std::string p = NodeSubjectProblem(csr); !p.empty()) return p;
  if (!csr.request.dns_names.empty() || !csr.request.ip_addresses.empty() ||
      csr.request.other_names > 0) {
    return "a kubelet client certificate has no subject alternative names";
  }
  if (!UsagesFit(csr.usages, {"digital signature", "client auth"},
                 {"digital signature", "key encipherment", "client auth"})) {
    return "usages must be digital signature and client auth (key encipherment allowed)";
  }
  return "";
}

std::string KubeletServingProblem(const CsrSpec& csr) {
  if (std::string p = NodeSubjectProblem(csr); !p.empty()) return p;
  if (csr.request.dns_names.empty() && csr.request.ip_addresses.empty()) {
    return "a kubelet serving certificate needs at least one DNS or IP subject alternative name";
  }
  if (csr.request.other_names > 0) return "only DNS and IP subject alternative names are allowed";
  if (!UsagesFit(csr.usages, {"digital signature", "server auth"},
                 {"digital signature", "key encipherment", "server auth"})) {
    return "usages must be digital signature and server auth (key encipherment allowed)";
  }
  return "";
}

bool HasCondition(const bj::object& csr, const std::string& type) {
  const bj::value* status = csr.if_contains("status");
  const bj::value* conds = status != nullptr && status->is_object()
                               ? status->as_object().if_contains("conditions")
                               : nullptr;
  if (conds == nullptr || !conds->is_array()) return false;
  return std::ranges::any_of(conds->as_array(), [&](const bj::value& c) {
    return c.is_object() && StringAt(c.as_object(), {"type"}) == type &&
           StringAt(c.as_object(), {"status"}) != "False";
  });
}

}  // namespace berth::controlplane::controllers
