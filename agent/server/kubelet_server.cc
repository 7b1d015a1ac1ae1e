#include "agent/server/kubelet_server.h"

#include <algorithm>

#include "agent/server/log_query.h"
#include "agent/server/server_impl.h"
#include "agent/server/serving_cert.h"
#include "agent/server/summary.h"
#include "common/log.h"
#include "common/strings.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using namespace kubelet;  // NOLINT(google-build-using-namespace): this file implements it

std::string Str(const bj::object& o, std::string_view a, std::string_view b) {
  const bj::value* v = o.if_contains(a);
  if (v == nullptr || !v->is_object()) return "";
  const bj::value* s = v->as_object().if_contains(b);
  return s != nullptr && s->is_string() ? std::string(s->as_string()) : "";
}

// The apiserver client's review calls; without one, every review fails
// (and so every request not allowed another way).
ReviewPoster PosterOf(controlplane::client::ApiClient* api) {
  if (api != nullptr) return ReviewPosterFor(*api);
  return [](const std::string& path, const bj::object&) -> Result<bj::object> {
    return Error(Errc::kFailedPrecondition, "POST " + path + ": no apiserver client");
  };
}

AuthzMode ModeOf(KubeletServerOptions::Authz a) {
  return a == KubeletServerOptions::Authz::kAlwaysAllow ? AuthzMode::kAlwaysAllow
                                                        : AuthzMode::kWebhook;
}

std::string GoList(const std::vector<std::string>& v) {
  return "[" + Join(v, " ") + "]";
}

}  // namespace

namespace kubelet {

void SendText(Response& w, int status, const std::string& text) {
  (void)w.Send(status, kTextPlain, text, {{"X-Content-Type-Options", "nosniff"}});
}

}  // namespace kubelet

KubeletServer::Impl::Impl(KubeletServerOptions o, KubeletServerDeps d)
    : options(std::move(o)),
      deps(std::move(d)),
      authenticator(
          AuthnConfig{!options.client_ca_pem.empty(), options.webhook_authn, options.anonymous},
          PosterOf(deps.api)),
      authorizer(ModeOf(options.authz), PosterOf(deps.api)),
      runtime(*deps.cri),
      stats(*deps.cri, options.node_name, options.root_dir) {}

std::optional<bj::object> KubeletServer::Impl::FindPod(const std::string& ns,
                                                       const std::string& name) const {
  if (!deps.pods) return std::nullopt;
  for (bj::object& pod : deps.pods()) {
    if (Str(pod, "metadata", "namespace") == ns && Str(pod, "metadata", "name") == name) {
      return std::move(pod);
    }
  }
  return std::nullopt;
}

void KubeletServer::Impl::Serve(const Request& req, Response& w) {
  HttpMetrics::InFlight counted(http_metrics, req.method, req.path);

  AuthnResult who = authenticator.Authenticate(req.peer, req.Header("authorization"));
  if (!who.user) {
    BLOG(kInfo) << "kubelet API: " << req.method << " " << req.path << " from "
                << req.remote_address << ": unauthorized: " << who.failure;
    return SendText(w, 401, "Unauthorized");
  }
  // Any one of the subresources upstream derives from the path allows it.
  Attributes a;
  a.user = *who.user;
  a.verb = ApiVerb(req.method);
  a.name = options.node_name;
  a.path = PercentDecode(req.path, false);
  std::vector<std::string> subresources = AuthzSubresources(req.path);
  bool allowed = false;
  for (const std::string& sub : subresources) {
    a.subresource = sub;
    Result<bool> ok = authorizer.Authorize(a);
    if (!ok.ok()) {
      BLOG(kError) << "kubelet API: authorization error for " << a.user.name << ": "
                   << ok.error().str();
      return SendText(w, 500,
                      "Authorization error (user=" + a.user.name + ", verb=" + a.verb +
                          ", resource=" + a.resource + ", subresource=" + sub + ")");
    }
    if (*ok) {
      allowed = true;
      break;
    }
  }
  if (!allowed) {
    return SendText(w, 403,
                    "Forbidden (user=" + a.user.name + ", verb=" + a.verb + ", resource=" +
                        a.resource + ", subresource(s)=" + GoList(subresources) + ")\n");
  }

  Route r = ParseRoute(req.method, req.path);
  switch (r.endpoint) {
    case Endpoint::kNotFound:
      return SendText(w, 404, "404: Page Not Found");
    case Endpoint::kMethodNotAllowed:
      return SendText(w, 405, "405: Method Not Allowed");
    case Endpoint::kHealthz:
      return Healthz(req, w, r.healthz_check);
    case Endpoint::kPods:
      return Pods(w);
    case Endpoint::kRunningPods:
      return RunningPods(w);
    case Endpoint::kContainerLogs:
      return ContainerLogs(req, w, r);
    case Endpoint::kExec:
      return ExecOrAttach(req, w, r, true);
    case Endpoint::kAttach:
      return ExecOrAttach(req, w, r, false);
    case Endpoint::kPortForward:
      return PortForward(req, w, r);
    case Endpoint::kRun:
      return Run(req, w, r);
    case Endpoint::kMetrics:
      return Metrics(w);
    case Endpoint::kMetricsResource:
      return ResourceMetrics(w);
    case Endpoint::kStatsSummary:
      return StatsSummary(req, w);
  }
}

void KubeletServer::Impl::Healthz(const Request& req, Response& w, const std::string& check) const {
  // The checks kubelet installs: ping and log always pass; syncloop asks
  // the agent.
  auto syncloop = [&]() -> Status {
    return deps.syncloop_healthy ? deps.syncloop_healthy() : Ok();
  };
  if (check == "ping" || check == "log") return SendText(w, 200, "ok");
  if (check == "syncloop") {
    Status s = syncloop();
    return s.ok() ? SendText(w, 200, "ok")
                  : SendText(w, 500, "internal server error: " + s.error().message() + "\n");
  }
  if (!check.empty()) return SendText(w, 404, "404: Page Not Found");
  Query q(req.query);
  std::vector<std::string> excluded = q.All("exclude");
  auto is_excluded = [&](const std::string& n) {
    return std::find(excluded.begin(), excluded.end(), n) != excluded.end();
  };
  std::string report;
  bool failed = false;
  for (const char* name : {"ping", "log", "syncloop"}) {
    if (is_excluded(name)) {
      report += std::string("[+]") + name + " excluded: ok\n";
      continue;
    }
    Status s = std::string(name) == "syncloop" ? syncloop() : Ok();
    if (s.ok()) {
      report += std::string("[+]") + name + " ok\n";
    } else {
      failed = true;
      report += std::string("[-]") + name + " failed: reason withheld\n";
    }
  }
  if (failed) return SendText(w, 500, report + "healthz check failed\n");
  if (q.Has("verbose")) return SendText(w, 200, report + "healthz check passed\n");
  SendText(w, 200, "ok");
}

void KubeletServer::Impl::Pods(Response& w) const {
  bj::array items;
  if (deps.pods) {
    for (bj::object& pod : deps.pods())
      items.emplace_back(std::move(pod));
  }
  bj::object list{{"kind", "PodList"},
                  {"apiVersion", "v1"},
                  {"metadata", bj::object()},
                  {"items", std::move(items)}};
  (void)w.Send(200, "application/json", bj::serialize(list));
}

void KubeletServer::Impl::RunningPods(Response& w) {
  Result<bj::array> pods = runtime.RunningPods();
  if (!pods.ok()) return SendText(w, 500, pods.error().str());
  bj::object list{{"kind", "PodList"},
                  {"apiVersion", "v1"},
                  {"metadata", bj::object()},
                  {"items", std::move(*pods)}};
  (void)w.Send(200, "application/json", bj::serialize(list));
}

void KubeletServer::Impl::Metrics(Response& w) const {
  PromText out;
  http_metrics.Write(out);
  if (Status s = WriteRuntimeMetrics(*deps.cri, out); !s.ok()) {
    BLOG(kWarn) << "kubelet API /metrics: " << s.error().str();
  }
  WriteProcessMetrics(out);
  std::string text = out.str();
  if (deps.extra_metrics) text += deps.extra_metrics();
  (void)w.Send(200, kPrometheusContentType, std::move(text));
}

void KubeletServer::Impl::ResourceMetrics(Response& w) {
  Result<StatsSample> sample = stats.Collect(true);
  if (!sample.ok()) BLOG(kWarn) << "kubelet API /metrics/resource: " << sample.error().str();
  std::string text =
      sample.ok() ? ResourceMetricsText(*sample, false) : ResourceMetricsText(StatsSample(), true);
  (void)w.Send(200, kPrometheusContentType, std::move(text));
}

void KubeletServer::Impl::StatsSummary(const Request& req, Response& w) {
  Query q(req.query);
  std::vector<std::string> only = q.All("only_cpu_and_memory");
  bool cpu_and_memory = only.size() == 1 && only[0] == "true";
  Result<StatsSample> sample = stats.Collect(cpu_and_memory);
  if (!sample.ok()) {
    return SendText(w, 500, "Internal Error: failed to get summary stats: " + sample.error().str());
  }
  (void)w.Send(200, "application/json", bj::serialize(SummaryJson(*sample, cpu_and_memory)));
}

KubeletServer::KubeletServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KubeletServer::~KubeletServer() {
  Stop();
}

Result<std::unique_ptr<KubeletServer>> KubeletServer::Start(KubeletServerOptions options,
                                                            KubeletServerDeps deps) {
  if (deps.cri == nullptr) return Error(Errc::kInvalidArgument, "kubelet API: no CRI client");
  if (options.node_name.empty()) return Error(Errc::kInvalidArgument, "kubelet API: no node name");
  https::ServerOptions front;
  front.name = "kubelet API";
  front.bind_address = options.address;
  front.port = options.port;
  front.max_header_bytes = 1 << 20;               // kubelet's MaxHeaderBytes
  front.idle_timeout = std::chrono::seconds(90);  // kubelet's IdleTimeout
  front.client_ca_pem = options.client_ca_pem;
  if (options.tls_cert_pem.empty() != options.tls_key_pem.empty()) {
    return Error(Errc::kInvalidArgument,
                 "kubelet API: a serving certificate needs both the certificate and the key");
  }
  if (options.tls_cert_pem.empty()) {
    if (options.root_dir.empty()) {
      return Error(Errc::kInvalidArgument,
                   "kubelet API: no serving certificate and no root dir to keep one in");
    }
    pki::Credential self = BERTH_TRY_CTX(
        kubelet::EnsureSelfSignedServingCert(options.root_dir, options.node_name, options.node_ips),
        "kubelet API serving certificate");
    front.cert_pem = self.cert_pem;
    front.key_pem = self.key_pem;
  } else {
    front.cert_pem = options.tls_cert_pem;
    front.key_pem = options.tls_key_pem;
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(deps));
  Impl* raw = impl.get();
  impl->front = BERTH_TRY(https::HttpsServer::Start(
      front, [raw](const Request& req, Response& w) { raw->Serve(req, w); }));
  return std::unique_ptr<KubeletServer>(new KubeletServer(std::move(impl)));
}

uint16_t KubeletServer::port() const {
  return impl_->front ? impl_->front->port() : 0;
}

void KubeletServer::Stop() {
  if (impl_ && impl_->front) impl_->front->Stop();
}

}  // namespace berth::agent
