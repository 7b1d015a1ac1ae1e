// The client against Debian's containernetworking-plugins (/usr/lib/cni):
// bridge + host-local, portmap and loopback, with real namespaces.
//
// Nothing touches the machine's network: a forked child unshares a fresh
// network namespace and plays the host there (the bridge, the host ends of
// veths, portmap's iptables rules all live in it); a grandchild unshares a
// second one, the pod's, and serves TCP in it. Both die with the test (the
// parent's ChildGuard, PR_SET_PDEATHSIG), taking every link, address and
// rule with them; host-local's state, the conf dir and the result cache
// live in a TempDir.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <random>

#include "cni/client/client.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"

namespace berth::cni {
namespace {

constexpr const char* kPluginDir = "/usr/lib/cni";
constexpr int kPodPort = 8080;
constexpr int kHostPort = 18080;

#define EXPECT_OR_RETURN(cond, what)                                                  \
  do {                                                                                \
    if (!(cond)) return Error(Errc::kInternal, std::string("check failed: ") + what); \
  } while (0)

bool HavePlugins() {
  for (const char* p : {"bridge", "host-local", "portmap", "loopback"}) {
    if (::access((std::string(kPluginDir) + "/" + p).c_str(), X_OK) != 0) return false;
  }
  return true;
}

// Whether this process may create network namespaces (not in every
// container): tried in a throwaway child.
bool CanUnshareNet() {
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) _exit(::unshare(CLONE_NEWNET) == 0 ? 0 : 1);
  auto status = WaitPid(pid);
  return status.ok() && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
}

const char* IptablesPath() {
  return ::access("/usr/sbin/iptables", X_OK) == 0 ? "/usr/sbin/iptables" : "/sbin/iptables";
}

bool HaveIptables() {
  return ::access(IptablesPath(), X_OK) == 0;
}

Status LinkUp(const char* name) {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return Error::Sys("socket", "AF_INET");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) return Error::Sys("SIOCGIFFLAGS", name);
  ifr.ifr_flags |= IFF_UP;
  if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) return Error::Sys("SIOCSIFFLAGS", name);
  return Ok();
}

// Connects to ip:port and returns what the peer sends before closing.
Result<std::string> TcpFetch(const std::string& ip, int port) {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return Error::Sys("socket", "AF_INET");
  timeval tv{5, 0};
  ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
    return Error(Errc::kInvalidArgument, "bad IPv4 address " + ip);
  }
  std::string peer = ip + ":" + std::to_string(port);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::Sys("connect", peer);
  }
  std::string got;
  char buf[256];
  ssize_t n;
  while ((n = ::read(s.get(), buf, sizeof buf)) > 0)
    got.append(buf, static_cast<size_t>(n));
  if (n < 0) return Error::Sys("read", peer);
  return got;
}

// The pod: its own netns, a TCP server answering "pong" on kPodPort.
// Runs until killed; tells `ready_fd` once it listens.
[[noreturn]] void PodMain(int ready_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::unshare(CLONE_NEWNET) != 0) _exit(10);
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(kPodPort);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(s, 16) != 0) {
    _exit(11);
  }
  (void)!::write(ready_fd, "r", 1);
  ::close(ready_fd);
  while (true) {
    int c = ::accept(s, nullptr, nullptr);
    if (c < 0) continue;
    (void)!::write(c, "pong\n", 5);
    ::close(c);
  }
}

// Runs `check` inside the netns of `pid`, then returns to ours.
Result<bool> InNetns(pid_t pid, const std::function<bool()>& check) {
  UniqueFd self(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!self || !target) return Error::Sys("open", path);
  if (::setns(target.get(), CLONE_NEWNET) != 0) return Error::Sys("setns", path);
  bool result = check();
  if (::setns(self.get(), CLONE_NEWNET) != 0) ::abort();  // cannot continue in the wrong netns
  return result;
}

std::string HostVeth(const NetworkResult& result, const std::string& bridge) {
  for (const Interface& itf : result.interfaces()) {
    if (itf.sandbox.empty() && itf.name != bridge) return itf.name;
  }
  return "";
}

struct Scenario {
  std::string root;  // TempDir
  int subnet_octet;

  std::string Subnet() const { return "10.88." + std::to_string(subnet_octet) + ".0/24"; }
  std::string Gateway() const { return "10.88." + std::to_string(subnet_octet) + ".1"; }

  std::string ConfList() const {
    boost::json::object ipam{
        {"type", "host-local"},
        {"ranges",
         boost::json::array{boost::json::array{boost::json::object{{"subnet", Subnet()}}}}},
        {"routes", boost::json::array{boost::json::object{{"dst", "0.0.0.0/0"}}}},
        {"dataDir", root + "/ipam"}};
    boost::json::object list{
        {"cniVersion", "1.0.0"},
        {"name", "berth-cni-test"},
        {"plugins",
         boost::json::array{
             boost::json::object{{"type", "bridge"},
                                 {"bridge", "cnitest0"},
                                 {"isGateway", true},
                                 {"ipMasq", false},
                                 {"hairpinMode", true},
                                 {"ipam", ipam}},
             boost::json::object{{"type", "portmap"},
                                 {"capabilities", boost::json::object{{"portMappings", true}}}},
             boost::json::object{{"type", "loopback"}}}}};
    return boost::json::serialize(list);
  }

  Client MakeClient() const {
    ClientOptions o;
    o.conf_dir = root + "/conf";
    o.plugin_dirs = {kPluginDir};
    o.cache_dir = root + "/cache";
    o.plugin_env = std::vector<std::string>{"PATH=" + root + "/sbin:/usr/bin:/bin"};
    o.timeout = std::chrono::milliseconds(60'000);
    return Client(o);
  }

  // Runs in the "host" netns child. Every failure is returned, never
  // asserted (gtest lives in the parent).
  Status Run() const {
    BERTH_TRY(LinkUp("lo"));
    // The plugins see iptables but no ip6tables: portmap 1.1.1 (Debian 12)
    // checks its IPv4 rules in the ip6tables nat table too whenever
    // ip6tables works, so CHECK always fails on such hosts
    // (containernetworking/plugins#819, fixed upstream in 1.2.0).
    BERTH_TRY(MkdirAll(root + "/sbin"));
    if (::symlink(IptablesPath(), (root + "/sbin/iptables").c_str()) != 0) {
      return Error::Sys("symlink", root + "/sbin/iptables");
    }
    BERTH_TRY(MkdirAll(root + "/conf"));
    BERTH_TRY(WriteFile(root + "/conf/10-berth-test.conflist", ConfList()));

    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) return Error::Sys("pipe2");
    pid_t pod = ::fork();
    if (pod < 0) return Error::Sys("fork", "pod");
    if (pod == 0) PodMain(ready[1]);
    ChildGuard pod_guard(pod);
    ::close(ready[1]);
    char c;
    if (::read(ready[0], &c, 1) != 1) return Error(Errc::kInternal, "pod process did not start");
    ::close(ready[0]);
    std::string netns = "/proc/" + std::to_string(pod) + "/ns/net";

    Client client = MakeClient();
    BERTH_TRY_CTX(client.NetworkStatus(), "status");
    RuntimeConf rt;
    rt.container_id = "berth-cni-test-" + std::to_string(::getpid());
    rt.netns = netns;
    rt.ifname = "eth0";
    rt.args = PodCniArgs("default", "web", "uid-1", rt.container_id);
    rt.capabilities.port_mappings = {{kHostPort, kPodPort, "tcp", ""}};

    NetworkResult result = BERTH_TRY_CTX(client.Add(rt), "add");
    std::vector<std::string> ips = result.PodIps();
    EXPECT_OR_RETURN(ips.size() == 1, "one pod IP, got " + result.ToJson());
    const std::string& ip = ips[0];
    EXPECT_OR_RETURN(ip.rfind("10.88." + std::to_string(subnet_octet) + ".", 0) == 0,
                     "pod IP " + ip + " in " + Subnet());
    std::string reservation = root + "/ipam/berth-cni-test/" + ip;
    EXPECT_OR_RETURN(PathExists(reservation), "host-local reserved " + reservation);
    EXPECT_OR_RETURN(PathExists(root + "/cache/berth-cni-test-" + rt.container_id + "-eth0"),
                     "result cached");
    std::string veth = HostVeth(result, "cnitest0");
    EXPECT_OR_RETURN(!veth.empty() && ::if_nametoindex(veth.c_str()) != 0,
                     "host veth in the result and present: " + result.ToJson());

    // The pod answers on its IP, and through portmap on the gateway.
    std::string got = BERTH_TRY_CTX(TcpFetch(ip, kPodPort), "connect to the pod");
    EXPECT_OR_RETURN(got == "pong\n", "pod answered \"" + got + "\"");
    got = BERTH_TRY_CTX(TcpFetch(Gateway(), kHostPort), "connect through portmap");
    EXPECT_OR_RETURN(got == "pong\n", "pod answered via hostPort \"" + got + "\"");

    BERTH_TRY_CTX(client.Check(rt), "check");

    BERTH_TRY_CTX(client.Del(rt), "del");
    EXPECT_OR_RETURN(::if_nametoindex(veth.c_str()) == 0, "host veth " + veth + " removed");
    bool pod_eth0 = BERTH_TRY(InNetns(pod, [] { return ::if_nametoindex("eth0") != 0; }));
    EXPECT_OR_RETURN(!pod_eth0, "pod eth0 removed");
    EXPECT_OR_RETURN(!PathExists(reservation), "host-local released " + reservation);
    EXPECT_OR_RETURN(!PathExists(root + "/cache/berth-cni-test-" + rt.container_id + "-eth0"),
                     "cache entry removed");
    EXPECT_OR_RETURN(!TcpFetch(Gateway(), kHostPort).ok(), "hostPort closed after DEL");

    // A second DEL, with the pod (and its netns) gone: still fine.
    pod_guard.KillAndReap();
    BERTH_TRY_CTX(client.Del(rt), "second del, netns gone");
    BERTH_TRY_CTX(client.Del(rt), "third del");
    return Ok();
  }
};

TEST(CniPlugins, BridgeHostLocalPortmapLoopbackInPrivateNamespaces) {
  BERTH_REQUIRE(berth::testing::IsRoot(), "root (network namespaces)");
  BERTH_REQUIRE(CanUnshareNet(), "unshare(CLONE_NEWNET)");
  BERTH_REQUIRE(HavePlugins(), "containernetworking-plugins in /usr/lib/cni");
  BERTH_REQUIRE(HaveIptables(), "iptables (for portmap)");
  berth::testing::TempDir tmp("berth-cni-plugins");
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(::time(nullptr)));
  Scenario scenario{tmp.path(), static_cast<int>(rng() % 254) + 1};

  int report[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  pid_t host = ::fork();
  ASSERT_GE(host, 0);
  if (host == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::close(report[0]);
    Status st =
        ::unshare(CLONE_NEWNET) == 0 ? scenario.Run() : Status(Error::Sys("unshare", "net"));
    std::string msg = st.ok() ? "" : st.error().str();
    (void)!::write(report[1], msg.data(), msg.size());
    _exit(st.ok() ? 0 : 1);
  }
  ChildGuard host_guard(host);
  ::close(report[1]);
  UniqueFd reader(report[0]);

  std::string message;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    ASSERT_GT(left.count(), 0) << "scenario timed out; so far: " << message;
    pollfd p{reader.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    ASSERT_GE(r, 0);
    if (r == 0) continue;
    char buf[1024];
    ssize_t n = ::read(reader.get(), buf, sizeof buf);
    if (n <= 0) break;
    message.append(buf, static_cast<size_t>(n));
  }
  auto status = WaitPid(host_guard.release());
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << "scenario failed (status " << *status << "): " << message;
  EXPECT_EQ(message, "");
  // Nothing left in the temp roots that a DEL should have removed.
  EXPECT_FALSE(PathExists(tmp / "ipam/berth-cni-test/10.88." +
                          std::to_string(scenario.subnet_octet) + ".2"));
}

}  // namespace
}  // namespace berth::cni
