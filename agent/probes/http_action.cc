#include "agent/probes/http_action.h"

#include <cctype>

#include "agent/container/object_fields.h"
#include "agent/probes/go_format.h"
#include "agent/probes/port.h"

namespace berth::agent {

Result<HttpRequest> HttpRequestFor(const boost::json::object& http_get,
                                   const boost::json::object* container, const std::string& pod_ip,
                                   std::string_view purpose) {
  HttpRequest req;
  req.scheme = fields::StringAt(&http_get, "scheme");
  for (char& c : req.scheme)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (req.scheme.empty()) req.scheme = "http";
  req.host = fields::StringAt(&http_get, "host");
  if (req.host.empty()) req.host = pod_ip;
  req.port = BERTH_TRY(ResolveContainerPort(http_get.if_contains("port"), container));
  req.path = fields::StringAt(&http_get, "path");
  if (const boost::json::array* headers = fields::ArrayAt(&http_get, "httpHeaders")) {
    for (const boost::json::value& h : *headers) {
      req.headers.emplace_back(fields::StringAt(h.if_object(), "name"),
                               fields::StringAt(h.if_object(), "value"));
    }
  }
  req.user_agent = "kube-" + std::string(purpose) + "/" + std::string(gofmt::kKubeVersion);
  return req;
}

}  // namespace berth::agent
