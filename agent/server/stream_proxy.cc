#include "agent/server/stream_proxy.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "common/fd.h"
#include "common/log.h"
#include "common/strings.h"

namespace berth::agent::kubelet {
namespace {

constexpr size_t kMaxResponseHead = size_t{64} * 1024;
constexpr int kConnectTimeoutMillis = 10'000;
constexpr int kResponseTimeoutMillis = 30'000;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool HasToken(std::string_view header, std::string_view token) {
  for (const std::string& part : Split(header, ',')) {
    if (Lower(Trim(part)) == token) return true;
  }
  return false;
}

struct Url {
  std::string host;
  std::string port;
  std::string target;  // path and query
};

Result<Url> ParseUrl(const std::string& url) {
  constexpr std::string_view kHttp = "http://";
  if (!url.starts_with(kHttp)) {
    return Error(Errc::kInvalidArgument, "streaming URL " + url + ": only http:// is supported");
  }
  std::string_view rest = std::string_view(url).substr(kHttp.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  Url u;
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Error(Errc::kInvalidArgument, "streaming URL " + url);
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    u.port = after.starts_with(':') ? std::string(after.substr(1)) : "80";
  } else {
    size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    u.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  }
  if (u.host.empty()) return Error(Errc::kInvalidArgument, "streaming URL " + url + ": no host");
  return u;
}

Result<UniqueFd> Dial(const Url& u) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &found); rc != 0) {
    return Error(Errc::kUnavailable, "resolve " + u.host + ": " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> list(found, ::freeaddrinfo);
  std::string where = u.host + ":" + u.port;
  Error last(Errc::kUnavailable, "dial " + where + ": no address");
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    UniqueFd fd(
        ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
    if (!fd.valid()) {
      last = Error::Sys("socket", where);
      continue;
    }
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = Error::Sys("connect", where);
      continue;
    }
    pollfd p{fd.get(), POLLOUT, 0};
    int ready = ::poll(&p, 1, kConnectTimeoutMillis);
    int err = 0;
    socklen_t len = sizeof err;
    if (ready <= 0) {
      last = Error(Errc::kDeadlineExceeded, "connect " + where + ": timed out");
      continue;
    }
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      last = Error::Sys("connect", where, err);
      continue;
    }
    int flags = ::fcntl(fd.get(), F_GETFL);
    ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
    return fd;
  }
  return last;
}

Status SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Sys("send", "streaming server");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

// The request as the runtime gets it: the client's method and headers, the
// streaming URL's target and host.
std::string ForwardedRequest(const Request& req, const Url& u) {
  std::string out = req.method + " " + u.target + " HTTP/1.1\r\n";
  out += "Host: " + (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) + ":" +
         u.port + "\r\n";
  std::string forwarded_for;
  for (const auto& [name, value] : req.raw_headers) {
    std::string lower = Lower(name);
    // Credentials stay here: the runtime's URL is the authorization.
    if (lower == "host" || lower == "authorization" || lower == "content-length" ||
        lower == "transfer-encoding" || lower.starts_with("impersonate-")) {
      continue;
    }
    if (lower == "x-forwarded-for") {
      forwarded_for = value;
      continue;
    }
    out += name + ": " + value + "\r\n";
  }
  if (!req.remote_address.empty()) {
    forwarded_for += (forwarded_for.empty() ? "" : ", ") + req.remote_address;
  }
  if (!forwarded_for.empty()) out += "X-Forwarded-For: " + forwarded_for + "\r\n";
  if (!req.body.empty()) out += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  out += "\r\n";
  out += req.body;
  return out;
}

// Reads until the end of the response head; `head` gets it and `rest` what
// came after it. Returns the status code.
Result<int> ReadResponseHead(int fd, std::string& head, std::string& rest) {
  std::string buf;
  char chunk[4096];
  for (;;) {
    size_t end = buf.find("\r\n\r\n");
    if (end != std::string::npos) {
      head = buf.substr(0, end + 4);
      rest = buf.substr(end + 4);
      break;
    }
    if (buf.size() > kMaxResponseHead) {
      return Error(Errc::kInternal, "streaming server: response head too large");
    }
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, kResponseTimeoutMillis);
    if (ready == 0) return Error(Errc::kDeadlineExceeded, "streaming server: no response");
    if (ready < 0) {
      if (errno == EINTR) continue;
      return Error::Sys("poll", "streaming server");
    }
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Sys("recv", "streaming server");
    }
    if (n == 0) return Error(Errc::kUnavailable, "streaming server closed before answering");
    buf.append(chunk, static_cast<size_t>(n));
  }
  // "HTTP/1.1 101 Switching Protocols"
  std::vector<std::string> words = Split(head.substr(0, head.find("\r\n")), ' ');
  if (words.size() < 2 || !words[0].starts_with("HTTP/")) {
    return Error(Errc::kInternal, "streaming server: not an HTTP response");
  }
  return ParseInt<int>(words[1], "streaming server's status code");
}

// Copies bytes both ways until either side closes.
void Pump(RawStream& client, int backend) {
  char buf[32 * 1024];
  for (;;) {
    bool from_client = client.Pending();
    bool from_backend = false;
    if (!from_client) {
      pollfd fds[2] = {{client.fd(), POLLIN, 0}, {backend, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      from_client = fds[0].revents != 0;
      from_backend = fds[1].revents != 0;
    }
    if (from_client) {
      Result<size_t> n = client.ReadSome(buf, sizeof buf);
      if (!n.ok() || *n == 0) return;
      if (!SendAll(backend, std::string_view(buf, *n)).ok()) return;
    }
    if (from_backend) {
      ssize_t n = ::recv(backend, buf, sizeof buf, 0);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        return;
      }
      if (!client.WriteAll(std::string_view(buf, static_cast<size_t>(n))).ok()) return;
    }
  }
}

void Fail(Response& w, const std::string& message) {
  BLOG(kWarn) << "kubelet API: error while proxying request: " << message;
  (void)w.Send(500, "text/plain; charset=utf-8", message + "\n",
               {{"X-Content-Type-Options", "nosniff"}});
}

}  // namespace

bool IsUpgradeRequest(const Request& req) {
  return HasToken(req.Header("connection"), "upgrade") && !req.Header("upgrade").empty();
}

void ProxyUpgrade(const Request& req, Response& w, const std::string& url) {
  Result<Url> u = ParseUrl(url);
  if (!u.ok()) return Fail(w, u.error().str());
  Result<UniqueFd> backend = Dial(*u);
  if (!backend.ok()) return Fail(w, "error dialing backend: " + backend.error().str());
  if (Status sent = SendAll(backend->get(), ForwardedRequest(req, *u)); !sent.ok()) {
    return Fail(w, sent.error().str());
  }
  std::string head, rest;
  Result<int> status = ReadResponseHead(backend->get(), head, rest);
  if (!status.ok()) return Fail(w, status.error().str());
  if (*status != 101 && *status < 400) {
    return Fail(w, "invalid upgrade response: status code " + std::to_string(*status));
  }
  int fd = backend->get();
  (void)w.Hijack(head + rest, [fd](RawStream& client) { Pump(client, fd); });
}

}  // namespace berth::agent::kubelet
