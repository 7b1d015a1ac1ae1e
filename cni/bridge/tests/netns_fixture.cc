#include "cni/bridge/tests/netns_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

namespace berth::cni::bridge::testing {
namespace {

constexpr int kTimeoutMs = 3000;

Result<sockaddr_in> Sockaddr(const std::string& ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) {
    return Error(Errc::kInvalidArgument, "bad address " + ip);
  }
  return a;
}

Command Cmd(std::vector<std::string> argv) {
  Command cmd;
  cmd.argv = std::move(argv);
  cmd.timeout = std::chrono::seconds(60);
  return cmd;
}

Status WaitReadable(int fd, const std::string& what) {
  pollfd p{fd, POLLIN, 0};
  int n = ::poll(&p, 1, kTimeoutMs);
  if (n < 0) return Error::Sys("poll", what);
  if (n == 0) return Error(Errc::kDeadlineExceeded, what + ": timed out");
  return Ok();
}

Status ConnectWithTimeout(int fd, const sockaddr_in& to, const std::string& what) {
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0 &&
      errno != EINPROGRESS) {
    return Error::Sys("connect", what);
  }
  pollfd p{fd, POLLOUT, 0};
  int n = ::poll(&p, 1, kTimeoutMs);
  if (n <= 0) return Error(Errc::kDeadlineExceeded, "connect " + what + ": timed out");
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return Error::Sys("connect", what, err);
  ::fcntl(fd, F_SETFL, flags);
  return Ok();
}

Result<UniqueFd> BoundSocket(const std::string& netns_path, int type, uint16_t port) {
  UniqueFd fd = BERTH_TRY(SocketIn(netns_path, type));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in any = BERTH_TRY(Sockaddr("0.0.0.0", port));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) {
    return Error::Sys("bind", "port " + std::to_string(port) + " in " + netns_path);
  }
  return fd;
}

}  // namespace

Result<TestNetns> TestNetns::Create(std::string name) {
  auto r = BERTH_TRY(RunCommand(Cmd({"/usr/sbin/ip", "netns", "add", name})));
  if (!r.success()) return Error(Errc::kInternal, "ip netns add " + name + ": " + r.err);
  TestNetns ns(std::move(name));
  // A real host has lo up; 127.0.0.1 hostPort tests need it.
  auto up = BERTH_TRY(RunIn(ns.path(), {"/usr/sbin/ip", "link", "set", "lo", "up"}));
  if (!up.success()) return Error(Errc::kInternal, "lo up in " + ns.name_ + ": " + up.err);
  return ns;
}

void TestNetns::Remove() {
  if (name_.empty()) return;
  (void)RunCommand(Cmd({"/usr/sbin/ip", "netns", "del", name_}));
  name_.clear();
}

Result<UniqueFd> SocketIn(const std::string& netns_path, int type) {
  // setns affects only the calling thread: do it in a throwaway one.
  Result<UniqueFd> out = Error(Errc::kInternal, "not run");
  std::thread t([&] {
    UniqueFd ns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) {
      out = Error::Sys("open", netns_path);
      return;
    }
    if (::setns(ns.get(), CLONE_NEWNET) != 0) {
      out = Error::Sys("setns", netns_path);
      return;
    }
    int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      out = Error::Sys("socket", netns_path);
      return;
    }
    out = UniqueFd(fd);
  });
  t.join();
  return out;
}

Result<CommandResult> RunIn(const std::string& netns_path, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"/usr/bin/nsenter", "--net=" + netns_path, "--"});
  return RunCommand(Cmd(std::move(argv)));
}

Result<UniqueFd> ListenTcp(const std::string& netns_path, uint16_t port) {
  UniqueFd fd = BERTH_TRY(BoundSocket(netns_path, SOCK_STREAM, port));
  if (::listen(fd.get(), 16) != 0) return Error::Sys("listen", netns_path);
  return fd;
}

Result<UniqueFd> BindUdp(const std::string& netns_path, uint16_t port) {
  return BoundSocket(netns_path, SOCK_DGRAM, port);
}

Result<sockaddr_in> ConnectAndAccept(const std::string& netns_path, const std::string& ip,
                                     uint16_t port, int listener) {
  std::string what = ip + ":" + std::to_string(port) + " from " + netns_path;
  UniqueFd client = BERTH_TRY(SocketIn(netns_path, SOCK_STREAM));
  sockaddr_in to = BERTH_TRY(Sockaddr(ip, port));
  BERTH_TRY(ConnectWithTimeout(client.get(), to, what));
  BERTH_TRY(WaitReadable(listener, "accept " + what));
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  UniqueFd conn(::accept4(listener, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
  if (!conn) return Error::Sys("accept", what);
  // One byte each way proves the data path, not just the handshake.
  if (::send(client.get(), "x", 1, MSG_NOSIGNAL) != 1) return Error::Sys("send", what);
  BERTH_TRY(WaitReadable(conn.get(), "read " + what));
  char c = 0;
  if (::recv(conn.get(), &c, 1, 0) != 1 || c != 'x') return Error::Sys("recv", what);
  return peer;
}

Result<sockaddr_in> SendAndReceiveUdp(const std::string& netns_path, const std::string& ip,
                                      uint16_t port, int bound) {
  std::string what = "udp " + ip + ":" + std::to_string(port) + " from " + netns_path;
  UniqueFd client = BERTH_TRY(SocketIn(netns_path, SOCK_DGRAM));
  sockaddr_in to = BERTH_TRY(Sockaddr(ip, port));
  if (::sendto(client.get(), "u", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) != 1) {
    return Error::Sys("sendto", what);
  }
  BERTH_TRY(WaitReadable(bound, what));
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  char c = 0;
  if (::recvfrom(bound, &c, 1, 0, reinterpret_cast<sockaddr*>(&peer), &len) != 1 || c != 'u') {
    return Error::Sys("recvfrom", what);
  }
  return peer;
}

std::string AddrString(const sockaddr_in& a) {
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
  return buf;
}

Result<PluginRun> RunPluginBinary(const PluginCall& call) {
  Command cmd;
  cmd.argv = {"/usr/bin/nsenter", "--net=" + call.host_netns, "--", call.binary};
  cmd.env = std::vector<std::string>{
      "CNI_COMMAND=" + call.command, "CNI_CONTAINERID=" + call.container_id,
      "CNI_NETNS=" + call.pod_netns, "CNI_IFNAME=" + call.ifname,
      "CNI_PATH=/usr/lib/cni",       "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  cmd.stdin_data = call.config;
  cmd.timeout = std::chrono::seconds(60);
  auto r = BERTH_TRY(RunCommand(cmd));
  return PluginRun{r.exit_code, r.out, r.err};
}

}  // namespace berth::cni::bridge::testing
