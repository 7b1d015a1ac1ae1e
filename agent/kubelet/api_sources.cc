#include "agent/kubelet/api_sources.h"

#include <ctime>

#include "controlplane/client/api_util.h"

namespace berth::agent {

namespace bj = boost::json;
using controlplane::client::StatusMessage;
using controlplane::client::StringAt;

Result<bj::object> ApiSources::Get(const std::string& resource, const std::string& singular,
                                   const std::string& ns, const std::string& name) {
  std::string target = "/api/v1/namespaces/" + ns + "/" + resource + "/" + name;
  controlplane::client::ApiResponse r = BERTH_TRY(api_.Do("GET", target));
  if (r.status == 404) return Error(Errc::kNotFound, singular + " \"" + name + "\" not found");
  if (r.status != 200) return Error(Errc::kUnavailable, StatusMessage(r, "GET", target));
  bj::value v = r.Json();
  if (!v.is_object()) return Error(Errc::kDataLoss, "GET " + target + ": not a JSON object");
  return std::move(v.get_object());
}

ApiSources::Getter ApiSources::ConfigMapGetter() {
  return [this](const std::string& ns, const std::string& name) {
    return Get("configmaps", "configmap", ns, name);
  };
}

ApiSources::Getter ApiSources::SecretGetter() {
  return [this](const std::string& ns, const std::string& name) {
    return Get("secrets", "secret", ns, name);
  };
}

std::vector<bj::object> ApiSources::ServicesFor(const std::string& ns) {
  std::vector<bj::object> out;
  for (const std::string& from : {ns, std::string("default")}) {
    std::string target = "/api/v1/namespaces/" + from + "/services";
    Result<controlplane::client::ApiResponse> r = api_.Do("GET", target);
    if (!r.ok() || r->status != 200) continue;
    bj::value v = r->Json();
    const bj::value* items = v.is_object() ? v.get_object().if_contains("items") : nullptr;
    if (items == nullptr || !items->is_array()) continue;
    for (const bj::value& s : items->get_array()) {
      if (!s.is_object()) continue;
      if (from != ns && StringAt(s.get_object(), {"metadata", "name"}) != "kubernetes") continue;
      out.push_back(s.get_object());
    }
    if (from == ns && ns == "default") break;
  }
  return out;
}

volumes::Sources ApiSources::ForVolumes() {
  volumes::Sources s;
  s.config_map = ConfigMapGetter();
  s.secret = SecretGetter();
  s.token = [this](const std::string& ns, const std::string& service_account,
                   const std::string& audience, int64_t expiration_seconds,
                   const std::string& pod_name, const std::string& pod_uid)
      -> Result<std::pair<std::string, std::chrono::system_clock::time_point>> {
    std::string target =
        "/api/v1/namespaces/" + ns + "/serviceaccounts/" + service_account + "/token";
    bj::array audiences;
    if (!audience.empty()) audiences.push_back(bj::string(audience));
    bj::object request{{"apiVersion", "authentication.k8s.io/v1"},
                       {"kind", "TokenRequest"},
                       {"spec", bj::object{{"audiences", std::move(audiences)},
                                           {"expirationSeconds", expiration_seconds},
                                           {"boundObjectRef", bj::object{{"apiVersion", "v1"},
                                                                         {"kind", "Pod"},
                                                                         {"name", pod_name},
                                                                         {"uid", pod_uid}}}}}};
    controlplane::client::ApiResponse r =
        BERTH_TRY(api_.Do("POST", target, bj::serialize(request)));
    if (r.status != 200 && r.status != 201) {
      return Error(Errc::kUnavailable, StatusMessage(r, "POST", target));
    }
    bj::value v = r.Json();
    std::string token = v.is_object() ? StringAt(v.get_object(), {"status", "token"}) : "";
    std::string expires =
        v.is_object() ? StringAt(v.get_object(), {"status", "expirationTimestamp"}) : "";
    if (token.empty()) return Error(Errc::kDataLoss, "POST " + target + ": no status.token");
    std::tm tm{};
    auto when = std::chrono::system_clock::now() + std::chrono::seconds(expiration_seconds);
    if (::strptime(expires.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) != nullptr) {
      when = std::chrono::system_clock::from_time_t(::timegm(&tm));
    }
    return std::make_pair(token, when);
  };
  return s;
}

}  // namespace berth::agent
