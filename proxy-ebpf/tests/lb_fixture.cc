#include "proxy-ebpf/tests/lb_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "cgroups/cgroups.h"
#include "common/file.h"
#include "common/process.h"
#include "namespaces/pinned_netns.h"

namespace berth::proxy::testing {
namespace {

struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

Endpoint MakeEndpoint(const std::string& address, uint16_t port) {
  Endpoint e;
  if (address.find(':') != std::string::npos) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&e.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr);
    e.length = sizeof(sockaddr_in6);
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&e.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    inet_pton(AF_INET, address.c_str(), &in->sin_addr);
    e.length = sizeof(sockaddr_in);
  }
  return e;
}

std::string AddressOf(const sockaddr_storage& s) {
  char text[INET6_ADDRSTRLEN] = {};
  if (s.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&s)->sin6_addr, text, sizeof(text));
  else
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&s)->sin_addr, text, sizeof(text));
  return text;
}

uint16_t PortOf(const sockaddr_storage& s) {
  return ntohs(s.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&s)->sin6_port
                                       : reinterpret_cast<const sockaddr_in*>(&s)->sin_port);
}

// Runs `body` on a thread that first joins `netns` (when set): setns
// changes only the calling thread, so the test's other threads stay.
template <class Body>
void InNetns(const std::string& netns, Body body) {
  if (netns.empty()) {
    body();
    return;
  }
  std::thread worker([&] {
    UniqueFd fd(open(netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd || setns(fd.get(), CLONE_NEWNET) != 0) {
      perror(("setns " + netns).c_str());
      return;
    }
    body();
  });
  worker.join();
}

}  // namespace

Result<std::unique_ptr<TestCgroup>> TestCgroup::Create(bool join, const std::string& name) {
  Result<cgroups::Layout> layout = cgroups::Detect();
  if (!layout.ok()) return layout.error();
  const std::string& mount = layout->unified_mount;
  if (mount.empty()) return Error(Errc::kFailedPrecondition, "no cgroup2 mount");
  auto cgroup = std::make_unique<TestCgroup>();
  Result<std::string> self = ReadFile("/proc/self/cgroup");
  if (!self.ok()) return self.error();
  Result<std::map<std::string, std::string>> own = cgroups::ParseProcCgroup(*self);
  if (!own.ok()) return own.error();
  auto unified = own->find(cgroups::kUnified);
  if (unified == own->end())
    return Error(Errc::kFailedPrecondition, "/proc/self/cgroup has no cgroup v2 line");
  cgroup->path_ = mount + "/berth-test-" + name + "-" + std::to_string(getpid());
  if (mkdir(cgroup->path_.c_str(), 0755) != 0) return Error::Sys("mkdir", cgroup->path_);
  if (!join) return cgroup;
  cgroup->original_ = mount + unified->second;
  if (Status ok = WriteExisting(cgroup->path_ + "/cgroup.procs", std::to_string(getpid()));
      !ok.ok())
    return ok.error();
  return cgroup;
}

TestCgroup::~TestCgroup() {
  if (path_.empty()) return;
  if (!original_.empty())
    (void)WriteExisting(original_ + "/cgroup.procs", std::to_string(getpid()));
  for (int i = 0; i < 50 && rmdir(path_.c_str()) != 0 && errno == EBUSY; ++i)
    usleep(20000);
}

Result<std::unique_ptr<TestBpffs>> TestBpffs::Mount() {
  auto fs = std::make_unique<TestBpffs>();
  if (mount("bpf", fs->dir_.path().c_str(), "bpf", 0, "mode=0700") != 0)
    return Error::Sys("mount bpf", fs->dir_.path());
  return fs;
}

TestBpffs::~TestBpffs() {
  umount2(dir_.path().c_str(), MNT_DETACH);
}

DataplaneConfig TestDataplane::SmallConfig(const std::string& pin_dir,
                                           const std::vector<std::string>& cgroups) {
  DataplaneConfig config;
  config.pin_dir = pin_dir;
  config.cgroups = cgroups;
  config.limits.max_services = 1024;
  config.limits.max_backends = 1024;
  config.limits.max_slots = 8192;
  config.limits.connection_entries = 65536;
  config.maglev_size = 251;
  return config;
}

Status TestDataplane::Open(const DataplaneConfig& config) {
  maps_.reset();
  dataplane_.reset();
  pin_dir_ = config.pin_dir;
  dataplane_ = BERTH_TRY(Dataplane::Open(config));
  maps_ = std::make_unique<LbMaps>(dataplane_->maps(), config.limits, config.selection,
                                   config.maglev_size);
  if (dataplane_->adopted()) return maps_->Adopt();
  return {};
}

Status TestDataplane::Remove() {
  maps_.reset();
  dataplane_.reset();
  if (pin_dir_.empty()) return {};
  return Dataplane::Remove(pin_dir_);
}

Result<std::unique_ptr<EchoServers>> EchoServers::Start(const std::vector<std::string>& addresses,
                                                        uint16_t port, bool udp,
                                                        const std::string& netns,
                                                        bool report_peer) {
  auto servers = std::make_unique<EchoServers>();
  servers->udp_ = udp;
  servers->report_peer_ = report_peer;
  Status opened;
  // A socket stays in the netns it was made in, whichever thread serves it.
  InNetns(netns, [&] {
    for (const std::string& address : addresses) {
      Endpoint e = MakeEndpoint(address, port);
      UniqueFd fd(socket(e.storage.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
      if (!fd) {
        opened = Error::Sys("socket", address);
        return;
      }
      int one = 1;
      setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (bind(fd.get(), reinterpret_cast<sockaddr*>(&e.storage), e.length) != 0) {
        opened = Error::Sys("bind", address + ":" + std::to_string(port));
        return;
      }
      if (!udp && listen(fd.get(), 512) != 0) {
        opened = Error::Sys("listen", address);
        return;
      }
      servers->sockets_.push_back(std::move(fd));
    }
  });
  if (!opened.ok()) return opened.error();
  servers->thread_ = std::thread([s = servers.get()] { s->Serve(); });
  return servers;
}

EchoServers::~EchoServers() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void EchoServers::Serve() {
  std::vector<pollfd> fds;
  for (const UniqueFd& fd : sockets_)
    fds.push_back({fd.get(), POLLIN, 0});
  while (!stop_) {
    if (poll(fds.data(), fds.size(), 50) <= 0) continue;
    for (const pollfd& p : fds) {
      if (!(p.revents & POLLIN)) continue;
      sockaddr_storage local{};
      socklen_t local_length = sizeof(local);
      getsockname(p.fd, reinterpret_cast<sockaddr*>(&local), &local_length);
      std::string answer = AddressOf(local);
      sockaddr_storage peer{};
      socklen_t peer_length = sizeof(peer);
      if (udp_) {
        char buffer[512];
        ssize_t n = recvfrom(p.fd, buffer, sizeof(buffer), 0, reinterpret_cast<sockaddr*>(&peer),
                             &peer_length);
        if (report_peer_) answer += " " + AddressOf(peer);
        if (n >= 0)
          sendto(p.fd, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&peer),
                 peer_length);
      } else {
        UniqueFd client(
            accept4(p.fd, reinterpret_cast<sockaddr*>(&peer), &peer_length, SOCK_CLOEXEC));
        if (report_peer_) answer += " " + AddressOf(peer);
        if (client) send(client.get(), answer.data(), answer.size(), MSG_NOSIGNAL);
      }
    }
  }
}

Status Ip(const std::string& args, const std::string& netns) {
  Command command;
  if (!netns.empty()) command.argv = {"nsenter", "--net=" + netns};
  command.argv.push_back("ip");
  std::istringstream words(args);
  for (std::string word; words >> word;)
    command.argv.push_back(word);
  Result<CommandResult> run = RunCommand(command);
  if (!run.ok()) return run.error();
  if (!run->success())
    return Error(Errc::kInternal, "ip " + args + ": " + run->Describe() + ": " + run->err);
  return {};
}

// New interfaces' IPv6 link-local addresses stay tentative (DAD) for
// about a second; neighbour discovery waits for them, so a first packet
// would be lost to set-up, not to the code under test.
static Status WaitIpv6Settled(const std::string& netns) {
  for (int i = 0; i < 100; ++i) {
    Command command;
    if (!netns.empty()) command.argv = {"nsenter", "--net=" + netns};
    command.argv.insert(command.argv.end(), {"ip", "-6", "addr", "show", "tentative"});
    Result<CommandResult> run = RunCommand(command);
    if (!run.ok()) return run.error();
    if (run->success() && run->out.empty()) return {};
    usleep(50000);
  }
  return Error(Errc::kDeadlineExceeded, "IPv6 addresses still tentative in `" + netns + "`");
}

Result<std::string> CreatePodNetns(const std::string& dir) {
  std::string path = dir + "/pod-netns";
  if (Status ok = ns::CreatePinnedNetns(path); !ok.ok()) return ok.error();
  for (const char* args :
       {"link add vpod0 type veth peer name eth0 netns {pod}", "link set vpod0 up",
        "addr add 10.251.0.1/24 dev vpod0", "-6 addr add fd51::1/64 dev vpod0 nodad"}) {
    std::string text = args;
    if (auto at = text.find("{pod}"); at != std::string::npos) text.replace(at, 5, path);
    if (Status ok = Ip(text); !ok.ok()) return ok.error();
  }
  for (const char* args : {"link set lo up", "link set eth0 up", "addr add 10.251.0.2/24 dev eth0",
                           "-6 addr add fd51::2/64 dev eth0 nodad",
                           "route add default via 10.251.0.1", "-6 route add default via fd51::1"})
    if (Status ok = Ip(args, path); !ok.ok()) return ok.error();
  for (const std::string& netns : {std::string(), path})
    if (Status ok = WaitIpv6Settled(netns); !ok.ok()) return ok.error();
  return path;
}

Result<std::string> CreateExternalHost(const std::string& dir) {
  std::string path = dir + "/ext-netns";
  if (Status ok = ns::CreatePinnedNetns(path); !ok.ok()) return ok.error();
  for (std::string args :
       {"link add vext0 type veth peer name eth0 netns " + path, std::string("link set vext0 up"),
        "addr add " + std::string(kExternalNodeAddress) + "/24 dev vext0",
        "-6 addr add " + std::string(kExternalNodeAddress6) + "/64 dev vext0 nodad"})
    if (Status ok = Ip(args); !ok.ok()) return ok.error();
  for (std::string args : {std::string("link set lo up"), std::string("link set eth0 up"),
                           "addr add " + std::string(kExternalClient) + "/24 dev eth0",
                           "addr add " + std::string(kExternalRemoteAddress) + "/24 dev eth0",
                           "-6 addr add " + std::string(kExternalClient6) + "/64 dev eth0 nodad",
                           "-6 addr add " + std::string(kExternalRemoteAddress6) +
                               "/64 dev eth0 nodad preferred_lft 0"})
    if (Status ok = Ip(args, path); !ok.ok()) return ok.error();
  for (const std::string& netns : {std::string(), path})
    if (Status ok = WaitIpv6Settled(netns); !ok.ok()) return ok.error();
  return path;
}

void RemoveExternalHost(const std::string& netns) {
  (void)Ip("link del vext0");
  if (!netns.empty()) (void)ns::RemovePinnedNetns(netns);
}

Result<std::string> HttpGet(const std::string& address, uint16_t port, const std::string& path,
                            const std::string& netns) {
  Result<std::string> out =
      Error(Errc::kUnavailable,
            "GET http://" + address + ":" + std::to_string(port) + path + ": no answer");
  InNetns(netns, [&] {
    Endpoint target = MakeEndpoint(address, port);
    UniqueFd fd(socket(target.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&target.storage), target.length) != 0) {
      out = Error::Sys("connect", address + ":" + std::to_string(port));
      return;
    }
    std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: " + address + "\r\nConnection: close\r\n\r\n";
    send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
    std::string response;
    char buffer[1024];
    for (ssize_t n; (n = recv(fd.get(), buffer, sizeof(buffer), 0)) > 0;)
      response.append(buffer, n);
    out = response;
  });
  return out;
}

void RemovePodNetns(const std::string& netns) {
  (void)Ip("link del vpod0");
  if (!netns.empty()) (void)ns::RemovePinnedNetns(netns);
}

ProbeResult ProbeTcp(const std::string& address, uint16_t port, int count,
                     const std::string& netns) {
  ProbeResult result;
  InNetns(netns, [&] {
    Endpoint target = MakeEndpoint(address, port);
    for (int i = 0; i < count; ++i) {
      UniqueFd fd(socket(target.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
      // A dropped SYN fails the probe in 2 s instead of hanging for minutes.
      timeval timeout{2, 0};
      setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
      setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      if (connect(fd.get(), reinterpret_cast<sockaddr*>(&target.storage), target.length) != 0) {
        ++result.errors[errno];
        continue;
      }
      sockaddr_storage peer{};
      socklen_t peer_length = sizeof(peer);
      getpeername(fd.get(), reinterpret_cast<sockaddr*>(&peer), &peer_length);
      if (AddressOf(peer) != address || PortOf(peer) != port) ++result.peer_mismatches;
      std::string answer;
      char buffer[256];
      for (ssize_t n; (n = recv(fd.get(), buffer, sizeof(buffer), 0)) > 0;)
        answer.append(buffer, n);
      ++result.backends[answer];
    }
  });
  return result;
}

ProbeResult ProbeUdp(const std::string& address, uint16_t port, int count, bool connected,
                     const std::string& netns) {
  ProbeResult result;
  InNetns(netns, [&] {
    Endpoint target = MakeEndpoint(address, port);
    for (int i = 0; i < count; ++i) {
      UniqueFd fd(socket(target.storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      timeval timeout{1, 0};
      setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      const char query[] = "query";
      ssize_t sent;
      if (connected) {
        if (connect(fd.get(), reinterpret_cast<sockaddr*>(&target.storage), target.length) != 0) {
          ++result.errors[errno];
          continue;
        }
        sent = send(fd.get(), query, sizeof(query), 0);
      } else {
        sent = sendto(fd.get(), query, sizeof(query), 0,
                      reinterpret_cast<sockaddr*>(&target.storage), target.length);
      }
      if (sent < 0) {
        ++result.errors[errno];
        continue;
      }
      char buffer[256];
      sockaddr_storage source{};
      socklen_t source_length = sizeof(source);
      ssize_t n = recvfrom(fd.get(), buffer, sizeof(buffer), 0,
                           reinterpret_cast<sockaddr*>(&source), &source_length);
      if (n < 0) {
        ++result.errors[errno];
        continue;
      }
      if (!connected && (AddressOf(source) != address || PortOf(source) != port))
        ++result.peer_mismatches;
      if (connected) {
        sockaddr_storage peer{};
        socklen_t peer_length = sizeof(peer);
        getpeername(fd.get(), reinterpret_cast<sockaddr*>(&peer), &peer_length);
        if (AddressOf(peer) != address || PortOf(peer) != port) ++result.peer_mismatches;
      }
      ++result.backends[std::string(buffer, n)];
    }
  });
  return result;
}

Frontend ClusterIp(const std::string& vip, uint16_t port, L4Protocol protocol,
                   const std::vector<std::string>& backends, uint16_t backend_port) {
  Frontend frontend;
  frontend.key.address = *IpAddress::Parse(vip);
  frontend.key.port = port;
  frontend.key.protocol = protocol;
  frontend.key.scope = Scope::kInternal;
  frontend.kind = FrontendKind::kClusterIp;
  frontend.service = "default/test-" + vip;
  for (const std::string& address : backends)
    frontend.backends.push_back(Backend{*IpAddress::Parse(address), backend_port});
  std::sort(frontend.backends.begin(), frontend.backends.end());
  return frontend;
}

}  // namespace berth::proxy::testing
