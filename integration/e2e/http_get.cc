#include "integration/e2e/http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstdlib>

#include "common/fd.h"

namespace berth::e2e {

Result<HttpAnswer> HttpGet(const std::string& ipv4, uint16_t port, const std::string& path,
                           std::chrono::milliseconds timeout) {
  const std::string where = ipv4 + ":" + std::to_string(port);
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::Sys("socket", where);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  // SO_SNDTIMEO bounds connect(2) too.
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, ipv4.c_str(), &addr.sin_addr) != 1) {
    return Error(Errc::kInvalidArgument, "not an IPv4 address: \"" + ipv4 + "\"");
  }
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::Sys("connect", where);
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + where + "\r\n\r\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return Error::Sys("send", where);
  }
  std::string response;
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) return Error::Sys("recv", where);
    response.append(buf, static_cast<size_t>(n));
  }
  // "HTTP/1.x 200 OK\r\n...\r\n\r\nbody"
  size_t space = response.find(' ');
  size_t header_end = response.find("\r\n\r\n");
  if (!response.starts_with("HTTP/") || space == std::string::npos ||
      header_end == std::string::npos) {
    return Error(Errc::kInvalidArgument, "not an HTTP response from " + where + ": " + response);
  }
  HttpAnswer answer;
  answer.status = std::atoi(response.c_str() + space + 1);
  answer.body = response.substr(header_end + 4);
  return answer;
}

}  // namespace berth::e2e
