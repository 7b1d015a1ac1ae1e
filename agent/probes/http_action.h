#pragma once
// An httpGet action (probe or lifecycle hook) as an HttpRequest (upstream
// NewRequestForHTTPGetAction): scheme lowercased ("http" by default), host
// defaulting to the pod IP, the port resolved, httpHeaders in order, and
// User-Agent "kube-<purpose>/1.33".

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "agent/probes/net_client.h"

namespace berth::agent {

Result<HttpRequest> HttpRequestFor(const boost::json::object& http_get,
                                   const boost::json::object* container, const std::string& pod_ip,
                                   std::string_view purpose);

}  // namespace berth::agent
