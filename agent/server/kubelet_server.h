#pragma once
// The kubelet API on :10250, what the apiserver's kubelet proxy
// (pods/log, exec, attach, portforward), metrics-server and `kubectl get
// --raw /api/v1/nodes/<n>/proxy/...` talk to:
//   /healthz[/ping|/log|/syncloop]   /pods   /runningpods/
//   /containerLogs/{ns}/{pod}/{container}
//   /exec|/attach/{ns}/{pod}[/{uid}]/{container}   /portForward/{ns}/{pod}[/{uid}]
//   /run/{ns}/{pod}[/{uid}]/{container}   /metrics   /metrics/resource   /stats/summary
// HTTPS only; every request is authenticated (client certificate, bearer
// token through TokenReview, or anonymous when enabled) and authorized
// (SubjectAccessReview on nodes/<subresource>, or AlwaysAllow) as upstream
// kubelet does. Exec, attach and port-forward are proxied to the CRI
// runtime's streaming server.

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/cri/cri_client.h"
#include "common/error.h"

namespace berth::controlplane::client {
class ApiClient;
}

namespace berth::agent {

struct KubeletServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 10250;  // 0: any free port (tests)
  // Empty: a self-signed certificate for the node's name and IPs, kept in
  // <root_dir>/pki/kubelet.{crt,key} (as kubelet does without
  // tlsCertFile/tlsPrivateKeyFile).
  std::string tls_cert_pem;
  std::string tls_key_pem;
  std::string root_dir;
  std::string node_name;
  std::vector<std::string> node_ips;
  // authentication.x509.clientCAFile: client certificates are verified
  // against it. Empty: none are requested.
  std::string client_ca_pem;
  bool anonymous = false;     // authentication.anonymous.enabled (kubeadm: false)
  bool webhook_authn = true;  // authentication.webhook.enabled: bearer tokens via TokenReview
  enum class Authz { kWebhook, kAlwaysAllow } authz = Authz::kWebhook;
  std::string pod_logs_dir = "/var/log/pods";
};

// What the server needs from the rest of the agent.
struct KubeletServerDeps {
  CriClient* cri = nullptr;  // logs, exec/attach/portForward URLs, /run, stats
  controlplane::client::ApiClient* api = nullptr;  // TokenReview, SubjectAccessReview
  // The pods the agent runs (/pods, and the pods the other endpoints
  // accept), as API objects with their status. Called from the server's
  // connection threads, concurrently.
  std::function<std::vector<boost::json::object>()> pods;
  // Optional (and called concurrently, like `pods`): why the sync loop is
  // unhealthy (/healthz/syncloop); an empty function or OK is healthy.
  std::function<Status()> syncloop_healthy;
  // Optional: more metric families (Prometheus text) for /metrics.
  std::function<std::string()> extra_metrics;
};

class KubeletServer {
 public:
  static Result<std::unique_ptr<KubeletServer>> Start(KubeletServerOptions options,
                                                      KubeletServerDeps deps);
  ~KubeletServer();  // Stop()
  KubeletServer(const KubeletServer&) = delete;
  KubeletServer& operator=(const KubeletServer&) = delete;

  uint16_t port() const;
  // Stops accepting and ends every connection, streams included.
  void Stop();

  struct Impl;

 private:
  explicit KubeletServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::agent
