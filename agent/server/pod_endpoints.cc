// The endpoints about one pod: container logs, exec, attach, port-forward
// and /run, with kubelet's checks and error answers (server.go).

#include <chrono>

#include "agent/server/cri_log.h"
#include "agent/server/log_query.h"
#include "agent/server/server_impl.h"
#include "agent/server/stream_proxy.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/time.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using namespace kubelet;  // NOLINT(google-build-using-namespace): this file implements it

// How long /run's command may take (kubelet gives ExecSync no deadline).
constexpr auto kRunDeadline = std::chrono::minutes(10);

std::string Quote(const std::string& s) {
  return JsonQuote(s);
}

bool HasContainerSpec(const bj::object& pod, const std::string& name) {
  const bj::value* spec = pod.if_contains("spec");
  if (spec == nullptr || !spec->is_object()) return false;
  for (std::string_view list : {"containers", "initContainers", "ephemeralContainers"}) {
    const bj::value* l = spec->as_object().if_contains(list);
    if (l == nullptr || !l->is_array()) continue;
    for (const bj::value& c : l->as_array()) {
      if (!c.is_object()) continue;
      const bj::value* n = c.as_object().if_contains("name");
      if (n != nullptr && n->is_string() && n->as_string() == name) return true;
    }
  }
  return false;
}

std::string UidOf(const bj::object& pod) {
  const bj::value* meta = pod.if_contains("metadata");
  if (meta == nullptr || !meta->is_object()) return "";
  const bj::value* uid = meta->as_object().if_contains("uid");
  return uid != nullptr && uid->is_string() ? std::string(uid->as_string()) : "";
}

// kubelet's streaming.WriteError for a failed CRI call.
void SendCriError(Response& w, const Error& e) {
  if (e.code() == Errc::kNotFound) return SendText(w, 404, e.message());
  if (e.code() == Errc::kResourceExhausted) {
    (void)w.Send(429, kTextPlain, e.message(), {{"Retry-After", "60"}});
    return;
  }
  SendText(w, 500, e.message());
}

// remotecommand.NewOptions: which streams, and a tty.
struct StreamFlags {
  bool tty, in, out, err;
};

// The log goes out as chunks of the response.
class ResponseSink : public LogSink {
 public:
  explicit ResponseSink(Response& w) : w_(w) {}
  bool Write(std::string_view data) override {
    if (gone_) return false;
    gone_ = !w_.WriteChunk(data).ok();
    return !gone_;
  }
  int wait_fd() const override { return w_.socket_fd(); }
  bool Gone() const override { return gone_ || w_.PeerClosed(); }

 private:
  Response& w_;
  bool gone_ = false;
};

int64_t NowNanos() {
  timespec ts = WallClockNow();
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// portforward.NewV4Options: a WebSocket client names its ports in the
// query (SPDY opens a stream per port instead).
Result<std::vector<int32_t>> WebSocketPorts(const Request& req) {
  std::vector<int32_t> ports;
  std::string upgrade = req.Header("upgrade");
  for (char& c : upgrade)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!IsUpgradeRequest(req) || upgrade != "websocket") return ports;
  Query q(req.query);
  const std::vector<std::string>& values = q.All("port");
  if (values.empty()) return Error(Errc::kInvalidArgument, "query parameter \"port\" is required");
  for (const std::string& v : values) {
    if (v.empty()) return Error(Errc::kInvalidArgument, "query parameter \"port\" cannot be empty");
    for (const std::string& p : Split(v, ',')) {
      Result<uint16_t> port = ParseInt<uint16_t>(p, "port");
      if (!port.ok()) {
        return Error(Errc::kInvalidArgument,
                     "unable to parse " + Quote(v) + " as a port: " + port.error().message());
      }
      if (*port < 1) return Error(Errc::kInvalidArgument, "port " + Quote(v) + " must be > 0");
      ports.push_back(*port);
    }
  }
  return ports;
}

}  // namespace

void KubeletServer::Impl::ContainerLogs(const Request& req, Response& w, const Route& r) {
  Result<PodLogRequest> parsed = ParsePodLogQuery(Query(req.query), NowNanos());
  if (!parsed.ok()) {
    BLOG(kInfo) << "kubelet API containerLogs: " << parsed.error().str();
    return parsed.error().code() == Errc::kInvalidArgument
               ? SendText(w, 400, R"({"message": "Unable to decode query."})")
               : SendText(w, 422, R"({"message": "Invalid request."})");
  }
  std::optional<bj::object> pod = FindPod(r.namespace_, r.pod);
  if (!pod) return SendText(w, 404, "pod " + Quote(r.pod) + " does not exist");
  if (!HasContainerSpec(*pod, r.container)) {
    return SendText(w, 404,
                    "container " + Quote(r.container) + " not found in pod " + Quote(r.pod));
  }
  Result<std::string> id = runtime.LogContainer(*pod, r.container, parsed->previous);
  if (!id.ok()) return SendText(w, 400, id.error().message());
  Result<std::string> path = runtime.LogPath(*id, options.pod_logs_dir);
  if (!path.ok()) return SendText(w, 400, path.error().message());
  Result<CriLogFile> file = CriLogFile::Open(*path);
  if (!file.ok()) return SendText(w, 400, file.error().str());

  if (!w.StartStream(200, kTextPlain).ok()) return;
  ResponseSink sink(w);
  std::string container_id = *id;
  Status s = file->Stream(parsed->options, sink, [&] { return runtime.IsRunning(container_id); });
  if (!s.ok()) {
    // Too late for a status: upstream writes the error into the body too.
    BLOG(kWarn) << "kubelet API containerLogs " << r.namespace_ << "/" << r.pod << "/"
                << r.container << ": " << s.error().str();
    (void)sink.Write(s.error().str());
  }
  if (!sink.Gone()) (void)w.EndStream();
}

void KubeletServer::Impl::ExecOrAttach(const Request& req, Response& w, const Route& r, bool exec) {
  Query q(req.query);
  StreamFlags f{QueryBool(q, "tty"), QueryBool(q, "stdin"), QueryBool(q, "stdout"),
                QueryBool(q, "stderr")};
  if (f.tty) f.err = false;  // a tty has no separate stderr
  if (!f.in && !f.out && !f.err) {
    return SendText(w, 400, "you must specify at least 1 of stdin, stdout, stderr");
  }
  if (!FindPod(r.namespace_, r.pod)) return SendText(w, 404, "pod does not exist");
  Result<std::string> id = runtime.RunningContainer(r.namespace_, r.pod, r.uid, r.container);
  if (!id.ok()) return SendText(w, 500, id.error().message());
  if (!IsUpgradeRequest(req)) return SendText(w, 500, "Upgrade request required\n");

  std::string url;
  if (exec) {
    v1::ExecRequest cri;
    cri.set_container_id(*id);
    for (const std::string& arg : q.All("command"))
      cri.add_cmd(arg);
    cri.set_tty(f.tty);
    cri.set_stdin(f.in);
    cri.set_stdout(f.out);
    cri.set_stderr(f.err);
    v1::ExecResponse resp;
    Status s = deps.cri->Call(&v1::RuntimeService::Stub::Exec, cri, &resp, "Exec in " + *id);
    if (!s.ok()) return SendCriError(w, s.error());
    url = resp.url();
  } else {
    v1::AttachRequest cri;
    cri.set_container_id(*id);
    cri.set_tty(f.tty);
    cri.set_stdin(f.in);
    cri.set_stdout(f.out);
    cri.set_stderr(f.err);
    v1::AttachResponse resp;
    Status s = deps.cri->Call(&v1::RuntimeService::Stub::Attach, cri, &resp, "Attach to " + *id);
    if (!s.ok()) return SendCriError(w, s.error());
    url = resp.url();
  }
  ProxyUpgrade(req, w, url);
}

void KubeletServer::Impl::PortForward(const Request& req, Response& w, const Route& r) {
  Result<std::vector<int32_t>> ports = WebSocketPorts(req);
  if (!ports.ok()) return SendText(w, 400, ports.error().message());
  std::optional<bj::object> pod = FindPod(r.namespace_, r.pod);
  if (!pod) return SendText(w, 404, "pod does not exist");
  std::string uid = UidOf(*pod);
  if (!r.uid.empty() && uid != r.uid) return SendText(w, 404, "pod not found");
  Result<std::string> sandbox = runtime.ReadySandbox(r.namespace_, r.pod, uid);
  if (!sandbox.ok()) return SendText(w, 500, sandbox.error().message());
  if (!IsUpgradeRequest(req)) return SendText(w, 500, "Upgrade request required\n");
  v1::PortForwardRequest cri;
  cri.set_pod_sandbox_id(*sandbox);
  for (int32_t p : *ports)
    cri.add_port(p);
  v1::PortForwardResponse resp;
  Status s = deps.cri->Call(&v1::RuntimeService::Stub::PortForward, cri, &resp,
                            "PortForward to " + *sandbox);
  if (!s.ok()) return SendCriError(w, s.error());
  ProxyUpgrade(req, w, resp.url());
}

void KubeletServer::Impl::Run(const Request& req, Response& w, const Route& r) {
  if (!FindPod(r.namespace_, r.pod)) return SendText(w, 404, "pod does not exist");
  // For legacy reasons /run takes one space-separated "cmd".
  std::vector<std::string> cmd = Split(Query(req.query).Get("cmd"), ' ');
  Result<std::string> id = runtime.RunningContainer(r.namespace_, r.pod, r.uid, r.container);
  if (!id.ok()) return SendText(w, 500, id.error().message());
  v1::ExecSyncRequest cri;
  cri.set_container_id(*id);
  for (const std::string& arg : cmd)
    cri.add_cmd(arg);
  cri.set_timeout(0);
  v1::ExecSyncResponse resp;
  Status s = deps.cri->Call(&v1::RuntimeService::Stub::ExecSync, cri, &resp, "ExecSync in " + *id,
                            std::chrono::duration_cast<std::chrono::milliseconds>(kRunDeadline));
  if (!s.ok()) return SendText(w, 500, s.error().message());
  if (resp.exit_code() != 0) {
    return SendText(w, 500,
                    "command '" + Join(cmd, " ") + "' exited with " +
                        std::to_string(resp.exit_code()) + ": " + resp.stderr());
  }
  (void)w.Send(200, "application/json", resp.stdout() + resp.stderr());
}

}  // namespace berth::agent
