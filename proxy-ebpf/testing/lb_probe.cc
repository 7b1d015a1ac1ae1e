// berth-lb-probe: the two ends of a service load-balancing check, with no
// berth code in them, so that what they report is what the kernel did.
//
//   serve --listen ADDR:PORT[,...] [--tcp] [--udp] [--wait-close]
//       A backend: answers each TCP request line (or UDP datagram) with
//       "<own listen address> <client address as seen>\n" and closes.
//       Neither --tcp nor --udp: both. --wait-close: close only after the
//       client did (or 5 s passed), so that TIME_WAIT stays with the
//       client: a benchmark whose client netns comes and goes would
//       otherwise collide with the server's TIME_WAIT sockets. Prints
//       "ready" once listening; stops on SIGTERM.
//   tcp --target ADDR:PORT [--count N] [--duration-s S] [--interval-ms M]
//       [--concurrency C] [--expect-peer ADDR:PORT]
//   udp --target ADDR:PORT [--count N] [--duration-s S] [--interval-ms M]
//       [--connected] [--expect-peer ADDR:PORT]
//       A client: one connection (socket) per request, closed once the
//       reply line (or EOF) arrived; prints one JSON
//       object with counts per backend, errors by errno name, getpeername()
//       (tcp, connected udp) or recvfrom() source (unconnected udp)
//       mismatches, the client addresses (without port) the backends saw
//       and latency percentiles in microseconds.
//
// Addresses: 10.96.0.1:80 or [fd00::1]:80.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// ---- addresses --------------------------------------------------------

struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
};

std::optional<uint16_t> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  uint32_t port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port > 65535) return std::nullopt;
  return static_cast<uint16_t>(port);
}

// "a.b.c.d:port" or "[v6]:port".
std::optional<Endpoint> ParseEndpoint(std::string_view text) {
  Endpoint ep;
  if (text.starts_with('[')) {
    size_t close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    std::string host(text.substr(1, close - 1));
    auto port = ParsePort(text.substr(close + 2));
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ep.storage);
    if (!port || ::inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) != 1) return std::nullopt;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(*port);
    ep.length = sizeof(sockaddr_in6);
    return ep;
  }
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string host(text.substr(0, colon));
  auto port = ParsePort(text.substr(colon + 1));
  auto* sin = reinterpret_cast<sockaddr_in*>(&ep.storage);
  if (!port || ::inet_pton(AF_INET, host.c_str(), &sin->sin_addr) != 1) return std::nullopt;
  sin->sin_family = AF_INET;
  sin->sin_port = htons(*port);
  ep.length = sizeof(sockaddr_in);
  return ep;
}

std::string FormatEndpoint(const sockaddr_storage& storage) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (storage.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&storage);
    ::inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(sin->sin_port));
  }
  if (storage.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    ::inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(sin6->sin6_port));
  }
  return "unknown";
}

std::string ErrnoName(int err) {
  const char* name = ::strerrorname_np(err);
  return name ? name : "E" + std::to_string(err);
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// ---- arguments --------------------------------------------------------

// "--flag value" pairs and bare "--switch"es after the subcommand.
class Args {
 public:
  Args(int argc, char** argv, const std::vector<std::string_view>& switches) {
    for (int i = 2; i < argc; ++i) {
      std::string_view arg = argv[i];
      bool is_switch = std::find(switches.begin(), switches.end(), arg) != switches.end();
      if (is_switch) {
        values_[std::string(arg)] = "";
      } else if (arg.starts_with("--") && i + 1 < argc) {
        values_[std::string(arg)] = argv[++i];
      } else {
        error_ = "unexpected argument " + std::string(arg);
      }
    }
  }
  const std::string& error() const { return error_; }
  bool Has(const std::string& flag) const { return values_.contains(flag); }
  std::string Get(const std::string& flag, const std::string& fallback = "") const {
    auto it = values_.find(flag);
    return it == values_.end() ? fallback : it->second;
  }
  // A non-negative number; nullopt (and error()) when malformed.
  std::optional<uint64_t> Number(const std::string& flag, uint64_t fallback) {
    if (!Has(flag)) return fallback;
    const std::string& text = values_[flag];
    char* end = nullptr;
    errno = 0;
    unsigned long long n = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno != 0 || text[0] == '-') {
      error_ = flag + ": not a number: " + text;
      return std::nullopt;
    }
    return n;
  }

 private:
  std::map<std::string, std::string> values_;
  std::string error_;
};

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "berth-lb-probe: %s\n"
               "usage: berth-lb-probe serve --listen ADDR:PORT[,...] [--tcp] [--udp]\n"
               "                      [--wait-close]\n"
               "       berth-lb-probe tcp --target ADDR:PORT [--count N] [--duration-s S]\n"
               "                      [--interval-ms M] [--concurrency C] [--expect-peer A:P]\n"
               "       berth-lb-probe udp --target ADDR:PORT [--count N] [--duration-s S]\n"
               "                      [--interval-ms M] [--connected] [--expect-peer A:P]\n",
               why.c_str());
  return 2;
}

// ---- serve ------------------------------------------------------------

// One listening or bound socket and the address it was asked for.
struct Listener {
  int fd = -1;
  bool udp = false;
  std::string name;
};

// An accepted TCP connection until its reply is written.
struct Connection {
  enum class Phase { kReading, kWriting, kDraining };
  Phase phase = Phase::kReading;
  std::string reply;
  std::string request;
  size_t sent = 0;
  Clock::time_point deadline;  // kDraining: close by then whatever the client does
};

// With --wait-close, how long a replied connection waits for the client's FIN.
constexpr std::chrono::seconds kDrainTimeout{5};

int OpenListener(const Endpoint& ep, bool udp) {
  int fd =
      ::socket(ep.family(), (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Lets a backend start before its address is configured.
  if (ep.family() == AF_INET6) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one);
  } else {
    ::setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
  }
  if (::bind(fd, ep.addr(), ep.length) != 0 || (!udp && ::listen(fd, 1024) != 0)) {
    int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

class Server {
 public:
  ~Server() {
    for (auto& [fd, conn] : connections_)
      ::close(fd);
    for (auto& [fd, listener] : listeners_)
      ::close(fd);
    if (signal_fd_ >= 0) ::close(signal_fd_);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
  }

  explicit Server(bool wait_close) : wait_close_(wait_close) {}

  bool Init() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal_fd_ = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (epoll_fd_ < 0 || signal_fd_ < 0) return Fail("epoll/signalfd");
    return Watch(signal_fd_, EPOLLIN);
  }

  bool Listen(const std::string& text, bool udp) {
    auto ep = ParseEndpoint(text);
    if (!ep) {
      std::fprintf(stderr, "berth-lb-probe: bad address %s\n", text.c_str());
      return false;
    }
    int fd = OpenListener(*ep, udp);
    if (fd < 0) return Fail(std::string(udp ? "udp" : "tcp") + " listen " + text);
    listeners_[fd] = Listener{fd, udp, FormatEndpoint(ep->storage)};
    return Watch(fd, EPOLLIN);
  }

  // Until SIGTERM/SIGINT.
  bool Run() {
    std::vector<epoll_event> events(64);
    while (true) {
      int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                           wait_close_ ? 1000 : -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail("epoll_wait");
      if (wait_close_) CloseExpired();
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == signal_fd_) return true;
        Dispatch(fd);
      }
    }
  }

 private:
  bool Fail(const std::string& what) {
    std::fprintf(stderr, "berth-lb-probe: %s: %s\n", what.c_str(), std::strerror(errno));
    return false;
  }

  bool Watch(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return Fail("epoll_ctl");
    return true;
  }

  void Dispatch(int fd) {
    auto listener = listeners_.find(fd);
    if (listener == listeners_.end()) {
      Serve(fd);
    } else if (listener->second.udp) {
      Answer(listener->second);
    } else {
      Accept(listener->second);
    }
  }

  void Accept(const Listener& listener) {
    while (true) {
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      int fd = ::accept4(listener.fd, reinterpret_cast<sockaddr*>(&peer), &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or a connection reset before accept
      connections_[fd].reply = listener.name + " " + FormatEndpoint(peer) + "\n";
      if (!Watch(fd, EPOLLIN)) Close(fd);
    }
  }

  // Reads the request line, writes the reply, then closes (with
  // --wait-close: once the client has closed its side).
  void Serve(int fd) {
    Connection& conn = connections_[fd];
    if (conn.phase == Connection::Phase::kReading && !ReadRequest(fd, conn)) return;
    if (conn.phase == Connection::Phase::kWriting && !WriteReply(fd, conn)) return;
    if (conn.phase == Connection::Phase::kDraining && !Drained(fd)) return;
    Close(fd);
  }

  // False while the request line is incomplete (or the connection failed
  // and is closed).
  bool ReadRequest(int fd, Connection& conn) {
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EAGAIN) return false;
    if (n < 0) {
      Close(fd);
      return false;
    }
    conn.request.append(buf, static_cast<size_t>(n));
    bool line = conn.request.find('\n') != std::string::npos;
    if (n > 0 && !line && conn.request.size() < 4096) return false;
    conn.phase = Connection::Phase::kWriting;  // a line, EOF or an oversized request: answer
    return true;
  }

  // False while the socket buffer is full (waits for EPOLLOUT).
  bool WriteReply(int fd, Connection& conn) {
    while (conn.sent < conn.reply.size()) {
      ssize_t w =
          ::send(fd, conn.reply.data() + conn.sent, conn.reply.size() - conn.sent, MSG_NOSIGNAL);
      if (w < 0 && errno == EAGAIN) {
        Modify(fd, EPOLLOUT);
        return false;
      }
      if (w < 0) break;
      conn.sent += static_cast<size_t>(w);
    }
    if (wait_close_) {
      conn.phase = Connection::Phase::kDraining;
      conn.deadline = Clock::now() + kDrainTimeout;
      Modify(fd, EPOLLIN);
      return false;
    }
    return true;
  }

  // True once the client closed (or reset) its side.
  static bool Drained(int fd) {
    char buf[512];
    ssize_t n = 0;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    }
    return !(n < 0 && errno == EAGAIN);
  }

  void Modify(int fd, uint32_t events) const {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
  }

  // Connections still draining past their deadline.
  void CloseExpired() {
    auto now = Clock::now();
    std::vector<int> expired;
    for (const auto& [fd, conn] : connections_) {
      if (conn.phase == Connection::Phase::kDraining && conn.deadline < now) expired.push_back(fd);
    }
    for (int fd : expired)
      Close(fd);
  }

  void Close(int fd) {
    ::close(fd);  // also leaves the epoll set
    connections_.erase(fd);
  }

  void Answer(const Listener& listener) {
    while (true) {
      char buf[2048];
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      ssize_t n =
          ::recvfrom(listener.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len);
      if (n < 0) return;
      std::string reply = listener.name + " " + FormatEndpoint(peer) + "\n";
      ::sendto(listener.fd, reply.data(), reply.size(), MSG_NOSIGNAL,
               reinterpret_cast<sockaddr*>(&peer), len);
    }
  }

  bool wait_close_ = false;
  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  std::unordered_map<int, Listener> listeners_;
  std::unordered_map<int, Connection> connections_;
};

int RunServe(int argc, char** argv) {
  Args args(argc, argv, {"--tcp", "--udp", "--wait-close"});
  if (!args.error().empty()) return Usage(args.error());
  if (!args.Has("--listen")) return Usage("serve needs --listen");
  bool both = !args.Has("--tcp") && !args.Has("--udp");
  Server server(args.Has("--wait-close"));
  if (!server.Init()) return 1;
  for (const std::string& address : SplitList(args.Get("--listen"))) {
    if ((both || args.Has("--tcp")) && !server.Listen(address, false)) return 1;
    if ((both || args.Has("--udp")) && !server.Listen(address, true)) return 1;
  }
  std::fputs("ready\n", stdout);
  std::fflush(stdout);
  return server.Run() ? 0 : 1;
}

// ---- client results ---------------------------------------------------

// What one request came to.
struct Sample {
  bool ok = false;
  std::string stage;  // of the failure: connect, write, read, timeout
  int err = 0;        // errno of the failure; 0 for an empty reply
  double latency_us = 0;
  std::string backend;  // the reply's first field
  std::string client;   // the reply's second field
  bool peer_mismatch = false;
  bool source_mismatch = false;
};

// "10.0.0.1:34567" -> "10.0.0.1": a client's ports differ per request,
// its address is what tells whether the backend saw the client itself.
std::string HostOf(const std::string& endpoint) {
  size_t colon = endpoint.rfind(':');
  return colon == std::string::npos ? endpoint : endpoint.substr(0, colon);
}

// Counts merged over every request of a run.
struct Tally {
  uint64_t ok = 0;
  uint64_t failed = 0;
  uint64_t peer_mismatch = 0;
  uint64_t source_mismatch = 0;
  std::map<std::string, uint64_t> errors;
  std::map<std::string, std::map<std::string, uint64_t>> errors_by_stage;
  std::map<std::string, uint64_t> backends;
  std::map<std::string, uint64_t> clients;
  std::vector<double> latencies_us;

  void Add(const Sample& s) {
    peer_mismatch += s.peer_mismatch ? 1 : 0;
    source_mismatch += s.source_mismatch ? 1 : 0;
    if (!s.ok) {
      ++failed;
      std::string name = s.stage == "timeout" ? "timeout" : s.err ? ErrnoName(s.err) : "EOF";
      ++errors[name];
      ++errors_by_stage[s.stage][name];
      return;
    }
    ++ok;
    ++backends[s.backend];
    ++clients[HostOf(s.client)];
    latencies_us.push_back(s.latency_us);
  }

  void Merge(const Tally& o) {
    ok += o.ok;
    failed += o.failed;
    peer_mismatch += o.peer_mismatch;
    source_mismatch += o.source_mismatch;
    for (const auto& [k, v] : o.errors)
      errors[k] += v;
    for (const auto& [stage, counts] : o.errors_by_stage) {
      for (const auto& [k, v] : counts)
        errors_by_stage[stage][k] += v;
    }
    for (const auto& [k, v] : o.backends)
      backends[k] += v;
    for (const auto& [k, v] : o.clients)
      clients[k] += v;
    latencies_us.insert(latencies_us.end(), o.latencies_us.begin(), o.latencies_us.end());
  }
};

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string JsonCounts(const std::map<std::string, uint64_t>& counts) {
  std::string out = "{";
  for (const auto& [k, v] : counts) {
    if (out.size() > 1) out += ",";
    out += JsonString(k) + ":" + std::to_string(v);
  }
  return out + "}";
}

// Nearest rank on a sorted vector.
double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string ToJson(Tally t, double duration_s) {
  std::sort(t.latencies_us.begin(), t.latencies_us.end());
  std::string stages = "{";
  for (const auto& [stage, counts] : t.errors_by_stage) {
    if (stages.size() > 1) stages += ",";
    stages += JsonString(stage) + ":" + JsonCounts(counts);
  }
  stages += "}";
  const auto& l = t.latencies_us;
  std::string latency = "{\"p50\":" + Fixed(Quantile(l, 0.50), 1) +
                        ",\"p90\":" + Fixed(Quantile(l, 0.90), 1) +
                        ",\"p99\":" + Fixed(Quantile(l, 0.99), 1) +
                        ",\"max\":" + Fixed(l.empty() ? 0 : l.back(), 1) + "}";
  double rps = duration_s > 0 ? static_cast<double>(t.ok) / duration_s : 0;
  return "{\"ok\":" + std::to_string(t.ok) + ",\"failed\":" + std::to_string(t.failed) +
         ",\"errors\":" + JsonCounts(t.errors) + ",\"errors_by_stage\":" + stages +
         ",\"backends\":" + JsonCounts(t.backends) +
         ",\"peer_mismatch\":" + std::to_string(t.peer_mismatch) +
         ",\"source_mismatch\":" + std::to_string(t.source_mismatch) +
         ",\"latency_us\":" + latency + ",\"duration_s\":" + Fixed(duration_s, 3) +
         ",\"rps\":" + Fixed(rps, 1) + ",\"client_addresses\":" + JsonCounts(t.clients) + "}";
}

// ---- client requests --------------------------------------------------

struct ClientConfig {
  Endpoint target;
  std::string expect_peer;  // formatted
  uint64_t count = 0;       // 0: no limit (then --duration-s bounds the run)
  std::optional<Clock::time_point> deadline;
  std::chrono::milliseconds interval{0};
  uint64_t concurrency = 1;
  bool connected = false;  // udp
};

// Blocking socket whose connect/send/recv give up after `timeout`.
int OpenClientSocket(const Endpoint& target, int type, std::chrono::milliseconds timeout) {
  int fd = ::socket(target.family(), type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

// The first two space-separated fields of the reply's first line.
void ParseReply(const std::string& reply, Sample& s) {
  std::string line = reply.substr(0, reply.find('\n'));
  size_t space = line.find(' ');
  s.backend = line.substr(0, space);
  s.client = space == std::string::npos ? "" : line.substr(space + 1);
}

std::string PeerOf(int fd) {
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return "";
  return FormatEndpoint(peer);
}

Sample Failed(const std::string& stage, int err) {
  Sample s;
  s.stage = stage;
  s.err = err;
  return s;
}

double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

Sample TcpRequestOn(int fd, const ClientConfig& config, Clock::time_point start) {
  if (::connect(fd, config.target.addr(), config.target.length) != 0) {
    // A blocking connect cut by SO_SNDTIMEO reports EINPROGRESS.
    return Failed("connect", errno == EINPROGRESS ? ETIMEDOUT : errno);
  }
  Sample s;
  s.peer_mismatch = PeerOf(fd) != config.expect_peer;
  static constexpr std::string_view kRequest = "GET\n";
  if (::send(fd, kRequest.data(), kRequest.size(), MSG_NOSIGNAL) < 0) {
    Sample f = Failed("write", errno);
    f.peer_mismatch = s.peer_mismatch;
    return f;
  }
  std::string reply;
  char buf[512];
  while (reply.find('\n') == std::string::npos) {  // the line, or EOF
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Sample f = Failed("read", errno == EAGAIN ? ETIMEDOUT : errno);
      f.peer_mismatch = s.peer_mismatch;
      return f;
    }
    reply.append(buf, static_cast<size_t>(n));
  }
  s.latency_us = MicrosSince(start);
  if (reply.empty()) {
    Sample f = Failed("read", 0);
    f.peer_mismatch = s.peer_mismatch;
    return f;
  }
  s.ok = true;
  ParseReply(reply, s);
  return s;
}

Sample TcpRequest(const ClientConfig& config) {
  auto start = Clock::now();
  int fd = OpenClientSocket(config.target, SOCK_STREAM, std::chrono::seconds(5));
  if (fd < 0) return Failed("socket", errno);
  Sample s = TcpRequestOn(fd, config, start);
  ::close(fd);
  return s;
}

// Waits for the datagram answering ours; 1 s, then "timeout".
Sample UdpRecv(int fd, const ClientConfig& config, Clock::time_point start) {
  char buf[2048];
  sockaddr_storage source{};
  socklen_t len = sizeof source;
  ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&source), &len);
  if (n < 0) {
    return errno == EAGAIN || errno == EWOULDBLOCK ? Failed("timeout", ETIMEDOUT)
                                                   : Failed("read", errno);
  }
  Sample s;
  s.latency_us = MicrosSince(start);
  s.ok = n > 0;
  s.source_mismatch = FormatEndpoint(source) != config.expect_peer;
  if (!s.ok) return Failed("read", 0);
  ParseReply(std::string(buf, static_cast<size_t>(n)), s);
  return s;
}

Sample UdpRequestOn(int fd, const ClientConfig& config, Clock::time_point start) {
  static constexpr std::string_view kRequest = "GET\n";
  bool peer_mismatch = false;
  ssize_t sent = 0;
  if (config.connected) {
    if (::connect(fd, config.target.addr(), config.target.length) != 0) {
      return Failed("connect", errno);
    }
    peer_mismatch = PeerOf(fd) != config.expect_peer;
    sent = ::send(fd, kRequest.data(), kRequest.size(), MSG_NOSIGNAL);
  } else {
    sent = ::sendto(fd, kRequest.data(), kRequest.size(), MSG_NOSIGNAL, config.target.addr(),
                    config.target.length);
  }
  Sample s = sent < 0 ? Failed("write", errno) : UdpRecv(fd, config, start);
  s.peer_mismatch = peer_mismatch;
  return s;
}

Sample UdpRequest(const ClientConfig& config) {
  auto start = Clock::now();
  int fd = OpenClientSocket(config.target, SOCK_DGRAM, std::chrono::seconds(1));
  if (fd < 0) return Failed("socket", errno);
  Sample s = UdpRequestOn(fd, config, start);
  ::close(fd);
  return s;
}

// Runs `request` from `concurrency` threads until `count` requests were
// started or the deadline passed.
template <typename Request>
Tally RunRequests(const ClientConfig& config, Request request) {
  std::atomic<uint64_t> started{0};
  std::mutex mu;
  Tally total;
  auto worker = [&] {
    Tally mine;
    while (true) {
      if (config.deadline && Clock::now() >= *config.deadline) break;
      if (config.count && started.fetch_add(1) >= config.count) break;
      mine.Add(request(config));
      if (config.interval.count() > 0) std::this_thread::sleep_for(config.interval);
    }
    std::lock_guard lock(mu);
    total.Merge(mine);
  };
  std::vector<std::thread> threads;
  for (uint64_t i = 1; i < config.concurrency; ++i)
    threads.emplace_back(worker);
  worker();
  for (auto& t : threads)
    t.join();
  return total;
}

// Reads the shared client flags; nullopt after printing usage.
std::optional<ClientConfig> ParseClientConfig(Args& args) {
  if (!args.Has("--target")) {
    Usage("needs --target");
    return std::nullopt;
  }
  ClientConfig config;
  auto target = ParseEndpoint(args.Get("--target"));
  auto expect = ParseEndpoint(args.Get("--expect-peer", args.Get("--target")));
  auto count = args.Number("--count", 0);
  auto duration = args.Number("--duration-s", 0);
  auto interval = args.Number("--interval-ms", 0);
  auto concurrency = args.Number("--concurrency", 1);
  if (!args.error().empty() || !target || !expect) {
    Usage(args.error().empty() ? "bad --target or --expect-peer" : args.error());
    return std::nullopt;
  }
  config.target = *target;
  config.expect_peer = FormatEndpoint(expect->storage);
  config.count = *count;
  if (*duration > 0) config.deadline = Clock::now() + std::chrono::seconds(*duration);
  if (*count == 0 && *duration == 0) config.count = 1;  // always bounded
  config.interval = std::chrono::milliseconds(*interval);
  config.concurrency = std::clamp<uint64_t>(*concurrency, 1, 1024);
  config.connected = args.Has("--connected");
  return config;
}

template <typename Request>
int RunClient(int argc, char** argv, Request request) {
  Args args(argc, argv, {"--connected"});
  if (!args.error().empty()) return Usage(args.error());
  auto config = ParseClientConfig(args);
  if (!config) return 2;
  ::signal(SIGPIPE, SIG_IGN);
  auto start = Clock::now();
  Tally tally = RunRequests(*config, request);
  double duration_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%s\n", ToJson(std::move(tally), duration_s).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage("missing subcommand");
  std::string_view command = argv[1];
  if (command == "serve") return RunServe(argc, argv);
  if (command == "tcp") return RunClient(argc, argv, TcpRequest);
  if (command == "udp") return RunClient(argc, argv, UdpRequest);
  return Usage("unknown subcommand " + std::string(command));
}
