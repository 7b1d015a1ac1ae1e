#include "proxy-ebpf/sync/http_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace berth::proxy {
namespace {

constexpr size_t kMaxRequestBytes = 8192;
constexpr int kReadTimeoutMs = 2000;

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(const std::string& address, uint16_t port,
                                                          Handler handler) {
  std::unique_ptr<HttpEndpoint> endpoint(new HttpEndpoint());
  endpoint->handler_ = std::move(handler);
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string where = address + ":" + std::to_string(port);
  if (address.find(':') != std::string::npos) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) != 1)
      return Error(Errc::kInvalidArgument, "`" + address + "` is not an IP address");
    length = sizeof(*in6);
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &in->sin_addr) != 1)
      return Error(Errc::kInvalidArgument, "`" + address + "` is not an IP address");
    length = sizeof(*in);
  }
  endpoint->listener_ = UniqueFd(socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!endpoint->listener_) return Error::Sys("socket", where);
  int one = 1;
  setsockopt(endpoint->listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(endpoint->listener_.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0)
    return Error::Sys("bind", where);
  if (listen(endpoint->listener_.get(), 64) != 0) return Error::Sys("listen", where);
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof(bound);
  getsockname(endpoint->listener_.get(), reinterpret_cast<sockaddr*>(&bound), &bound_length);
  endpoint->port_ =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  endpoint->thread_ = std::thread([e = endpoint.get()] { e->Serve(); });
  return endpoint;
}

HttpEndpoint::~HttpEndpoint() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void HttpEndpoint::Serve() {
  while (!stop_) {
    pollfd p{listener_.get(), POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    UniqueFd client(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (client) Answer(client.get());
  }
}

void HttpEndpoint::Answer(int client) {
  std::string request;
  char buffer[1024];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < kMaxRequestBytes) {
    pollfd p{client, POLLIN, 0};
    if (poll(&p, 1, kReadTimeoutMs) <= 0) return;
    ssize_t n = recv(client, buffer, sizeof(buffer), 0);
    if (n <= 0) return;
    request.append(buffer, static_cast<size_t>(n));
  }
  HttpAnswer answer;
  size_t space = request.find(' ');
  size_t second = space == std::string::npos ? space : request.find(' ', space + 1);
  if (second == std::string::npos) return;
  std::string method = request.substr(0, space);
  std::string path = request.substr(space + 1, second - space - 1);
  if (size_t query = path.find('?'); query != std::string::npos) path.resize(query);
  if (method != "GET" && method != "HEAD") {
    answer = {405, "text/plain; charset=utf-8", "only GET\n"};
  } else {
    answer = handler_(path);
  }
  std::string head = "HTTP/1.1 " + std::to_string(answer.status) + " " + Reason(answer.status) +
                     "\r\nContent-Type: " + answer.content_type +
                     "\r\nContent-Length: " + std::to_string(answer.body.size()) +
                     "\r\nConnection: close\r\n\r\n";
  std::string out = method == "HEAD" ? head : head + answer.body;
  for (size_t sent = 0; sent < out.size();) {
    ssize_t n = send(client, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

}  // namespace berth::proxy
