#pragma once
// The world the socket load-balancing tests run in, all inside the test
// process's own netns and mount ns (proxy_main.cc): a cgroup v2 directory
// of the test's (the process moves into it, so its sockets are the
// programs' clients), a private bpffs for the pins, backend servers on a
// dummy interface of the "node" netns, and a "pod" netns joined to the
// node by a veth.

#include <netinet/in.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "common/testing/testkit.h"
#include "proxy-ebpf/loader/dataplane.h"
#include "proxy-ebpf/maps/lb_maps.h"
#include "proxy-ebpf/model/frontend.h"

namespace berth::proxy::testing {

// A cgroup under the unified hierarchy that this process sits in while it
// lives (unless `join` is false: an empty one, named `<name>`); on
// destruction the process goes back and the cgroup is removed.
class TestCgroup {
 public:
  static Result<std::unique_ptr<TestCgroup>> Create(bool join = true,
                                                    const std::string& name = "proxy");
  ~TestCgroup();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string original_;  // the unified cgroup the process came from
};

// A private bpffs mounted on a temp dir, unmounted on destruction.
class TestBpffs {
 public:
  static Result<std::unique_ptr<TestBpffs>> Mount();
  ~TestBpffs();
  std::string PinDir() const { return dir_.path() + "/node-a"; }

 private:
  berth::testing::TempDir dir_{"berth-bpffs"};
};

// The dataplane loaded as `berth proxy` would, with small maps, and its
// map writer (adopting what the pins hold on a reopen).
class TestDataplane {
 public:
  static DataplaneConfig SmallConfig(const std::string& pin_dir,
                                     const std::vector<std::string>& cgroups);
  // Closes what is open, then loads `config`.
  Status Open(const DataplaneConfig& config);
  // Closes, then removes the pins (which detaches every program).
  Status Remove();
  Dataplane& dataplane() { return *dataplane_; }
  LbMaps& maps() { return *maps_; }

 private:
  std::string pin_dir_;
  std::unique_ptr<Dataplane> dataplane_;
  std::unique_ptr<LbMaps> maps_;
};

// Servers that answer with their own address (and, with `report_peer`,
// " <client address>" after it): TCP (one line, then close) and UDP (one
// datagram back), each on its own thread.
class EchoServers {
 public:
  // `addresses` of one family; listens on each at `port`, in `netns`
  // (empty: the caller's).
  static Result<std::unique_ptr<EchoServers>> Start(const std::vector<std::string>& addresses,
                                                    uint16_t port, bool udp,
                                                    const std::string& netns = "",
                                                    bool report_peer = false);
  ~EchoServers();

 private:
  void Serve();
  std::vector<UniqueFd> sockets_;
  bool udp_ = false;
  bool report_peer_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// `ip ...` in the current netns (or `nsenter --net=<netns> ip ...`).
Status Ip(const std::string& args, const std::string& netns = "");

// The pod netns: a pinned netns with eth0 (10.251.0.2/24, fd51::2/64)
// whose peer vpod0 sits in the node netns (10.251.0.1, fd51::1), default
// routes via the node.
Result<std::string> CreatePodNetns(const std::string& dir);
// Undoes CreatePodNetns (safe on a partial setup or an empty path).
void RemovePodNetns(const std::string& netns);

// An "external host": a pinned netns under `dir` whose eth0
// (192.168.250.2/24 and fd52::2/64, plus 192.168.250.3 and fd52::3 for a
// "remote node's" pod) is joined by a veth to vext0 (192.168.250.1/24,
// fd52::1/64) in the node netns. The ".3" addresses are never a client's
// source (IPv6: deprecated). RemoveExternalHost undoes it (safe on a
// partial setup).
inline constexpr char kExternalClient[] = "192.168.250.2";
inline constexpr char kExternalNodeAddress[] = "192.168.250.1";
inline constexpr char kExternalRemoteAddress[] = "192.168.250.3";
inline constexpr char kExternalClient6[] = "fd52::2";
inline constexpr char kExternalNodeAddress6[] = "fd52::1";
inline constexpr char kExternalRemoteAddress6[] = "fd52::3";
Result<std::string> CreateExternalHost(const std::string& dir);
void RemoveExternalHost(const std::string& netns);

struct ProbeResult {
  std::map<std::string, int> backends;  // what answered -> count
  std::map<int, int> errors;            // errno -> count
  int peer_mismatches = 0;              // getpeername/recvfrom != the service
};

// `count` TCP connections to address:port from the calling thread's netns
// (`netns` empty) or from inside `netns`: connect, read the answer.
ProbeResult ProbeTcp(const std::string& address, uint16_t port, int count,
                     const std::string& netns = "");
// `count` UDP request/responses; `connected`: connect()+send, else sendto.
ProbeResult ProbeUdp(const std::string& address, uint16_t port, int count, bool connected,
                     const std::string& netns = "");

// A plain HTTP/1.1 GET from `netns` (empty: the caller's); the whole
// response, status line first.
Result<std::string> HttpGet(const std::string& address, uint16_t port, const std::string& path,
                            const std::string& netns = "");

Frontend ClusterIp(const std::string& vip, uint16_t port, L4Protocol protocol,
                   const std::vector<std::string>& backends, uint16_t backend_port);

}  // namespace berth::proxy::testing
