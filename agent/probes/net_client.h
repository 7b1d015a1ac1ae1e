#pragma once
// The network side of probes and hooks: a TCP connect check and an HTTP(S)
// GET that follows same-host redirects, both bounded by a deadline and
// failing with the text Go's net/http gives kubelet's messages
// (`Get "http://10.0.0.5:8080/healthz": dial tcp 10.0.0.5:8080: connect:
// connection refused`).

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace berth::agent {

using Deadline = std::chrono::steady_clock::time_point;

// "host:port", the host in brackets when it is an IPv6 address.
std::string JoinHostPort(std::string_view host, int port);

// Connects to host:port (a name is resolved) before `deadline`, then resets
// the connection (kubelet's probe dialer sets SO_LINGER 0 so probes leave no
// TIME_WAIT behind). kDeadlineExceeded "dial tcp h:p: i/o timeout" or
// kUnavailable "dial tcp h:p: connect: connection refused".
Status TcpCheck(const std::string& host, int port, Deadline deadline);

struct HttpRequest {
  std::string scheme = "http";  // "http" or "https" (no certificate checks)
  std::string host;
  int port = 80;
  std::string path;  // may carry ?query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string user_agent;  // sent unless `headers` has a User-Agent
};

struct HttpResponse {
  int status = 0;
  std::string body;        // the first 10 KiB
  std::string body_error;  // reading the body failed after the header came
};

// GET, following redirects to the same host name (at most 9; the 10th
// fails, as Go's client), stopping at a redirect elsewhere (whose 3xx
// response is returned). Errors read `Get "<url>": <why>`; with
// `client_timeout` a timeout adds Go's "(Client.Timeout exceeded while
// awaiting headers)". kDeadlineExceeded for timeouts, kUnavailable else.
Result<HttpResponse> HttpGet(const HttpRequest& request, Deadline deadline, bool client_timeout);

// The request's URL as Go prints it.
std::string HttpUrl(const HttpRequest& request);

// `error` (from HttpGet) says an HTTPS request got a plain HTTP answer
// ("http: server gave HTTP response to HTTPS client").
bool IsHttpResponseToHttps(const Error& error);

}  // namespace berth::agent
