#include "runtime/cri/streaming/tests/spdy_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "common/testing/testkit.h"

namespace berth::cri::streaming::testing {

namespace {

struct ParsedUrl {
  std::string host;
  std::string port;
  std::string target;
};

Result<ParsedUrl> ParseUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return Error(Errc::kInvalidArgument, "not http: " + url);
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  ParsedUrl u;
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = hostport.rfind(':');
  u.host = hostport.substr(0, colon);
  u.port = hostport.substr(colon + 1);
  if (!u.host.empty() && u.host[0] == '[') u.host = u.host.substr(1, u.host.size() - 2);
  return u;
}

Result<UniqueFd> Dial(const ParsedUrl& u) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &res) != 0 || res == nullptr) {
    return Error(Errc::kInvalidArgument, "resolve " + u.host);
  }
  UniqueFd fd(::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int rc = ::connect(fd.get(), res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (rc != 0) return Error::Sys("connect", u.host + ":" + u.port);
  return fd;
}

}  // namespace

std::vector<std::string> HttpResponse::Header(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && ::strncasecmp(k.c_str(), name.data(), k.size()) == 0) {
      out.push_back(v);
    }
  }
  return out;
}

Result<HttpResponse> HttpRequest(const std::string& url, const std::string& method,
                                 const std::vector<std::pair<std::string, std::string>>& headers) {
  ParsedUrl u = BERTH_TRY(ParseUrl(url));
  UniqueFd fd = BERTH_TRY(Dial(u));
  std::string req =
      method + " " + u.target + " HTTP/1.1\r\nHost: " + u.host + ":" + u.port + "\r\n";
  for (const auto& [k, v] : headers)
    req += k + ": " + v + "\r\n";
  req += "\r\n";
  if (!berth::testing::SendAll(fd.get(), req)) return Error::Sys("send", url);

  std::string buf;
  size_t head_end = std::string::npos;
  char chunk[4096];
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd.get(), chunk, sizeof chunk, 0);
    if (n <= 0) return Error(Errc::kUnavailable, "connection closed before response head");
    buf.append(chunk, static_cast<size_t>(n));
  }
  HttpResponse res;
  std::string head = buf.substr(0, head_end);
  std::string rest = buf.substr(head_end + 4);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  res.status = std::atoi(status_line.substr(status_line.find(' ') + 1).c_str());
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(pos, e - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ')
        v.erase(0, 1);
      res.headers.emplace_back(line.substr(0, colon), v);
    }
    pos = e + 2;
  }
  if (res.status == 101) {
    res.leftover = std::move(rest);
    res.fd = std::move(fd);
    return res;
  }
  res.body = std::move(rest);
  while (true) {
    ssize_t n = ::recv(fd.get(), chunk, sizeof chunk, 0);
    if (n <= 0) break;
    res.body.append(chunk, static_cast<size_t>(n));
  }
  return res;
}

// ---------------------------------------------------------------------------

Result<std::unique_ptr<SpdyClient>> SpdyClient::Connect(const std::string& url,
                                                        const std::vector<std::string>& protocols,
                                                        HttpResponse* response) {
  std::vector<std::pair<std::string, std::string>> headers{{"Connection", "Upgrade"},
                                                           {"Upgrade", "SPDY/3.1"}};
  for (const auto& p : protocols)
    headers.emplace_back("X-Stream-Protocol-Version", p);
  HttpResponse res = BERTH_TRY(HttpRequest(url, "POST", headers));
  if (res.status != 101) {
    if (response) *response = std::move(res);
    return std::unique_ptr<SpdyClient>();
  }
  std::string leftover = std::move(res.leftover);
  UniqueFd fd = std::move(res.fd);
  if (response) *response = std::move(res);
  return std::unique_ptr<SpdyClient>(new SpdyClient(std::move(fd), std::move(leftover)));
}

SpdyClient::SpdyClient(UniqueFd fd, std::string leftover)
    : fd_(std::move(fd)), leftover_(std::move(leftover)) {
  reader_ = std::thread([this] { ReadLoop(); });
}

SpdyClient::~SpdyClient() {
  Close();
  reader_.join();
}

void SpdyClient::Close() {
  ::shutdown(fd_.get(), SHUT_RDWR);
}

void SpdyClient::SendRaw(const std::string& frame) {
  std::lock_guard lock(write_mu_);
  berth::testing::SendAll(fd_.get(), frame);
}

uint32_t SpdyClient::OpenStream(const spdy::Headers& headers, bool fin) {
  std::lock_guard lock(write_mu_);
  uint32_t id = next_id_;
  next_id_ += 2;
  {
    std::lock_guard l(mu_);
    streams_[id];
  }
  berth::testing::SendAll(
      fd_.get(), spdy::EncodeSynStream(compressor_, id, 0, 0, fin ? spdy::kFlagFin : 0, headers));
  return id;
}

void SpdyClient::Send(uint32_t id, const std::string& data, bool fin) {
  SendRaw(spdy::EncodeData(id, fin ? spdy::kFlagFin : 0, data));
}

void SpdyClient::Reset(uint32_t id) {
  SendRaw(spdy::EncodeRstStream(id, spdy::kCancel));
}

void SpdyClient::ReadLoop() {
  spdy::FrameReader reader;
  spdy::HeaderDecompressor decompressor;
  reader.Feed(leftover_);
  char buf[65536];
  while (true) {
    bool stop = false;
    while (true) {
      auto next = reader.Next(decompressor);
      if (!next.ok() || !next->has_value()) {
        stop = !next.ok();
        break;
      }
      spdy::Frame f = std::move(**next);
      std::lock_guard lock(mu_);
      switch (f.type) {
        case spdy::FrameType::kData: {
          auto& s = streams_[f.stream_id];
          s.data += f.data;
          if (f.fin()) s.fin = true;
          break;
        }
        case spdy::FrameType::kSynReply: {
          auto& s = streams_[f.stream_id];
          s.replied = true;
          if (f.fin()) s.fin = true;
          break;
        }
        case spdy::FrameType::kRstStream: {
          auto& s = streams_[f.stream_id];
          s.reset = true;
          s.reset_status = f.status;
          break;
        }
        case spdy::FrameType::kGoAway:
          goaway_ = true;
          break;
        default:
          break;
      }
      if (f.type != spdy::FrameType::kData) control_.push_back(std::move(f));
      cv_.notify_all();
    }
    if (stop) break;
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n <= 0) break;
    reader.Feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  std::lock_guard lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

bool SpdyClient::WaitStream(uint32_t id, const std::function<bool(const StreamState&)>& pred,
                            std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return pred(streams_[id]) || closed_; }) &&
         pred(streams_[id]);
}

std::string SpdyClient::ReadAll(uint32_t id, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] {
    const auto& s = streams_[id];
    return s.fin || s.reset || closed_;
  });
  return streams_[id].data;
}

SpdyClient::StreamState SpdyClient::Stream(uint32_t id) {
  std::lock_guard lock(mu_);
  return streams_[id];
}

bool SpdyClient::WaitGoAway(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return goaway_; });
}

bool SpdyClient::WaitClosed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return closed_; });
}

std::vector<spdy::Frame> SpdyClient::ControlFrames() {
  std::lock_guard lock(mu_);
  return control_;
}

std::vector<spdy::Frame> SpdyClient::Frames(spdy::FrameType type) {
  std::lock_guard lock(mu_);
  std::vector<spdy::Frame> out;
  for (const auto& f : control_) {
    if (f.type == type) out.push_back(f);
  }
  return out;
}

}  // namespace berth::cri::streaming::testing
