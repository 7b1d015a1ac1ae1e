#pragma once
// KubeletServer's insides, shared by kubelet_server.cc (authentication,
// authorization, dispatch, node endpoints) and pod_endpoints.cc (logs,
// exec, attach, port-forward, run).

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>

#include "agent/server/auth.h"
#include "agent/server/https_front.h"
#include "agent/server/kubelet_server.h"
#include "agent/server/metrics.h"
#include "agent/server/pod_runtime.h"
#include "agent/server/routes.h"
#include "agent/server/stats.h"

namespace berth::agent {

struct KubeletServer::Impl {
  Impl(KubeletServerOptions o, KubeletServerDeps d);

  void Serve(const kubelet::Request& req, kubelet::Response& w);

  // Node endpoints (kubelet_server.cc).
  void Healthz(const kubelet::Request& req, kubelet::Response& w, const std::string& check) const;
  void Pods(kubelet::Response& w) const;
  void RunningPods(kubelet::Response& w);
  void Metrics(kubelet::Response& w) const;
  void ResourceMetrics(kubelet::Response& w);
  void StatsSummary(const kubelet::Request& req, kubelet::Response& w);

  // Pod endpoints (pod_endpoints.cc).
  void ContainerLogs(const kubelet::Request& req, kubelet::Response& w, const kubelet::Route& r);
  void ExecOrAttach(const kubelet::Request& req, kubelet::Response& w, const kubelet::Route& r,
                    bool exec);
  void PortForward(const kubelet::Request& req, kubelet::Response& w, const kubelet::Route& r);
  void Run(const kubelet::Request& req, kubelet::Response& w, const kubelet::Route& r);

  std::optional<boost::json::object> FindPod(const std::string& ns, const std::string& name) const;

  KubeletServerOptions options;
  KubeletServerDeps deps;
  kubelet::Authenticator authenticator;
  kubelet::Authorizer authorizer;
  kubelet::PodRuntime runtime;
  kubelet::StatsCollector stats;
  kubelet::HttpMetrics http_metrics;
  std::unique_ptr<https::HttpsServer> front;
};

namespace kubelet {

inline constexpr const char* kTextPlain = "text/plain; charset=utf-8";

// Answers as kubelet's handlers write errors (plain text).
void SendText(Response& w, int status, const std::string& text);

}  // namespace kubelet

}  // namespace berth::agent
