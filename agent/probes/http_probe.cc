// httpGet probes (upstream pkg/probe/http DoHTTPProbe).

#include "agent/probes/http_action.h"
#include "agent/probes/runners.h"

namespace berth::agent::runners {

ProbeOutcome HttpGet(const boost::json::object& action, const ProbeTarget& target,
                     std::chrono::seconds timeout) {
  Result<HttpRequest> req = HttpRequestFor(action, target.container, target.pod_ip, "probe");
  if (!req.ok()) return {ProbeResult::kUnknown, req.error().message()};
  Result<HttpResponse> resp =
      agent::HttpGet(*req, std::chrono::steady_clock::now() + timeout, /*client_timeout=*/true);
  // Transport errors are failures (that is how timeouts count).
  if (!resp.ok()) return {ProbeResult::kFailure, resp.error().message()};
  if (!resp->body_error.empty()) return {ProbeResult::kUnknown, resp->body_error};
  if (resp->status >= 200 && resp->status < 400) {
    if (resp->status >= 300) {
      return {ProbeResult::kSuccess, "Probe terminated redirects, Response body: " + resp->body,
              /*warning=*/true};
    }
    return {ProbeResult::kSuccess, std::move(resp->body)};
  }
  // Upstream keeps the body out of this message (kubernetes#99425).
  return {ProbeResult::kFailure,
          "HTTP probe failed with statuscode: " + std::to_string(resp->status)};
}

}  // namespace berth::agent::runners
