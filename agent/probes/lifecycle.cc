#include "agent/probes/lifecycle.h"

#include <thread>

#include "agent/container/object_fields.h"
#include "agent/probes/go_format.h"
#include "agent/probes/http_action.h"
#include "agent/probes/pod_ref.h"
#include "common/strings.h"
#include "controlplane/client/event_recorder.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using Clock = std::chrono::steady_clock;

std::string Where(const ProbeTarget& target) {
  return " for Container " + gofmt::Quote(fields::StringAt(target.container, "name")) + " in Pod " +
         gofmt::Quote(gofmt::PodDesc(target.pod)) + " failed - error: ";
}

Status RunExec(const bj::object& action, const ProbeTarget& target, Clock::time_point deadline) {
  std::vector<std::string> cmd;
  if (const bj::array* command = fields::ArrayAt(&action, "command")) {
    for (const bj::value& arg : *command) {
      if (arg.is_string()) cmd.emplace_back(arg.get_string());
    }
  }
  std::string what = "Exec lifecycle hook ([" + Join(cmd, " ") + "])" + Where(target);
  if (target.cri == nullptr) return Error(Errc::kFailedPrecondition, what + "no CRI client");
  v1::ExecSyncRequest req;
  req.set_container_id(target.container_id);
  for (const std::string& arg : cmd)
    req.add_cmd(arg);
  req.set_timeout(0);  // the runtime's own limit stays off; `deadline` bounds the call
  v1::ExecSyncResponse resp;
  grpc::ClientContext ctx;
  if (deadline != Clock::time_point::max()) {
    ctx.set_deadline(std::chrono::system_clock::now() + (deadline - Clock::now()));
  }
  grpc::Status s = target.cri->runtime().ExecSync(&ctx, req, &resp);
  if (!s.ok()) {
    Errc code = s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ? Errc::kDeadlineExceeded
                                                                      : Errc::kUnavailable;
    return Error(code, what + gofmt::GrpcError(s.error_code(), s.error_message()) +
                           ", message: " + gofmt::Quote(""));
  }
  if (resp.exit_code() == 0) return Ok();
  return Error(Errc::kAborted, what + "command '" + Join(cmd, " ") + "' exited with " +
                                   std::to_string(resp.exit_code()) + ": " + resp.stderr() +
                                   ", message: " + gofmt::Quote(resp.stdout() + resp.stderr()));
}

Status RunHttp(const bj::object& action, const ProbeTarget& target, Clock::time_point deadline) {
  std::string what =
      "HTTP lifecycle hook (" + fields::StringAt(&action, "path") + ")" + Where(target);
  if (fields::StringAt(&action, "host").empty() && target.pod_ip.empty()) {
    return Error(Errc::kFailedPrecondition,
                 what + "failed to find networking container: the pod has no IP");
  }
  Result<HttpRequest> req = HttpRequestFor(action, target.container, target.pod_ip, "lifecycle");
  if (!req.ok()) return Error(Errc::kInvalidArgument, what + req.error().message());
  Result<HttpResponse> resp = HttpGet(*req, deadline, /*client_timeout=*/false);
  if (!resp.ok() && IsHttpResponseToHttps(resp.error())) {
    HttpRequest plain = *req;
    plain.scheme = "http";
    std::erase_if(plain.headers, [](const auto& h) {
      std::string name = h.first;
      for (char& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return name == "authorization";
    });
    if (HttpGet(plain, deadline, false).ok()) {
      if (target.events != nullptr && target.pod != nullptr) {
        target.events->Record(PodObjectRef(*target.pod), "Warning", "LifecycleHTTPFallback",
                              "request to HTTPS lifecycle hook " +
                                  JoinHostPort(plain.host, plain.port) +
                                  " got HTTP response, retry with HTTP succeeded");
      }
      return Ok();
    }
  }
  if (!resp.ok()) return Error(resp.error().code(), what + resp.error().message());
  return Ok();
}

Status RunSleep(const bj::object& action, const ProbeTarget& target, Clock::time_point deadline) {
  int64_t seconds = fields::IntAt(&action, "seconds").value_or(0);
  Clock::time_point until = Clock::now() + std::chrono::seconds(seconds);
  if (until <= deadline) {
    std::this_thread::sleep_until(until);
    return Ok();
  }
  std::this_thread::sleep_until(deadline);
  return Error(Errc::kDeadlineExceeded, "Sleep lifecycle hook (" + std::to_string(seconds) + ")" +
                                            Where(target) +
                                            "container terminated before sleep hook finished");
}

}  // namespace

Status RunLifecycleHandler(const bj::object& handler, const ProbeTarget& target,
                           Clock::time_point deadline) {
  if (const bj::object* a = fields::ObjectAt(&handler, "exec")) {
    return RunExec(*a, target, deadline);
  }
  if (const bj::object* a = fields::ObjectAt(&handler, "httpGet")) {
    return RunHttp(*a, target, deadline);
  }
  if (const bj::object* a = fields::ObjectAt(&handler, "sleep")) {
    return RunSleep(*a, target, deadline);
  }
  return Error(Errc::kInvalidArgument,
               "Cannot run handler: invalid handler: " + bj::serialize(handler));
}

}  // namespace berth::agent
