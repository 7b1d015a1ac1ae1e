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

ApiSources::~ApiSources() {
  StopServices();
}

void ApiSources::StartServices() {
  if (service_informer_) return;
  controlplane::client::InformerHandlers handlers;
  handlers.added = [this](const bj::object& s) { ServiceSeen(s); };
  handlers.updated = [this](const bj::object&, const bj::object& s) { ServiceSeen(s); };
  handlers.deleted = [this](const bj::object& s) { ServiceGone(s); };
  // Headless Services give no variables: kubelet does not watch them
  // (fieldSelector spec.clusterIP!=None).
  service_informer_ = std::make_unique<controlplane::client::Informer>(
      api_, "/api/v1/services?fieldSelector=spec.clusterIP%21%3DNone", std::move(handlers));
  service_informer_->Start();
}

void ApiSources::StopServices() {
  if (service_informer_) service_informer_->Stop();
}

bool ApiSources::ServicesSynced() const {
  return service_informer_ && service_informer_->Synced();
}

void ApiSources::ServiceSeen(const bj::object& service) {
  std::string ns = StringAt(service, {"metadata", "namespace"});
  std::string name = StringAt(service, {"metadata", "name"});
  std::lock_guard lock(services_mu_);
  services_[ns][name] = service;
}

void ApiSources::ServiceGone(const bj::object& service) {
  std::string ns = StringAt(service, {"metadata", "namespace"});
  std::string name = StringAt(service, {"metadata", "name"});
  std::lock_guard lock(services_mu_);
  auto it = services_.find(ns);
  if (it == services_.end()) return;
  it->second.erase(name);
  if (it->second.empty()) services_.erase(it);
}

std::vector<bj::object> ApiSources::ServicesFor(const std::string& ns) const {
  std::vector<bj::object> out;
  std::lock_guard lock(services_mu_);
  if (auto it = services_.find(ns); it != services_.end()) {
    for (const auto& [name, service] : it->second)
      out.push_back(service);
  }
  if (ns != "default") {
    if (auto it = services_.find("default"); it != services_.end()) {
      if (auto k = it->second.find("kubernetes"); k != it->second.end()) out.push_back(k->second);
    }
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
