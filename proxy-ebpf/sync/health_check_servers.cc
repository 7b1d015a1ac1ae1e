#include "proxy-ebpf/sync/health_check_servers.h"

#include <boost/json.hpp>

#include "common/log.h"

namespace berth::proxy {

HttpAnswer HealthCheckAnswer(const HealthCheck& check) {
  size_t slash = check.service.find('/');
  boost::json::object body{
      {"service",
       boost::json::object{
           {"namespace", check.service.substr(0, slash)},
           {"name", slash == std::string::npos ? check.service : check.service.substr(slash + 1)}}},
      {"localEndpoints", check.local_endpoints},
      {"serviceProxyHealthy", true}};
  HttpAnswer answer;
  answer.status = check.local_endpoints > 0 ? 200 : 503;
  answer.content_type = "application/json";
  answer.body = boost::json::serialize(body);
  return answer;
}

void HealthCheckServers::RetryUnbound() {
  if (!unbound_.empty()) Update(std::vector<HealthCheck>(checks_));
}

void HealthCheckServers::Update(const std::vector<HealthCheck>& checks) {
  checks_ = checks;
  std::map<uint16_t, const HealthCheck*> wanted;
  for (const HealthCheck& check : checks_)
    wanted.emplace(check.node_port, &check);  // two services on one port: the first
  std::erase_if(unbound_, [&](uint16_t port) { return !wanted.count(port); });

  for (auto it = servers_.begin(); it != servers_.end();) {
    if (wanted.count(it->first)) {
      ++it;
    } else {
      it = servers_.erase(it);  // stops its thread, closes the port
    }
  }
  for (const auto& [port, check] : wanted) {
    if (auto found = servers_.find(port); found != servers_.end()) {
      std::lock_guard lock(*found->second.mu);
      *found->second.check = *check;
      continue;
    }
    Server server{std::make_shared<std::mutex>(), std::make_shared<HealthCheck>(*check), nullptr};
    auto handler = [mu = server.mu, current = server.check](const std::string&) {
      std::lock_guard lock(*mu);
      return HealthCheckAnswer(*current);
    };
    Result<std::unique_ptr<HttpEndpoint>> endpoint = HttpEndpoint::Start(address_, port, handler);
    if (!endpoint.ok()) {
      if (unbound_.insert(port).second) {
        BLOG(kWarn) << "proxy: health check server for " << check->service << " on port " << port
                    << " (retrying): " << endpoint.error().str();
      }
      continue;
    }
    if (unbound_.erase(port)) BLOG(kInfo) << "proxy: health check port " << port << " bound";
    server.endpoint = std::move(*endpoint);
    servers_.emplace(port, std::move(server));
  }
}

}  // namespace berth::proxy
