#pragma once
// The loaded eBPF dataplane of one node: the shared maps pinned under the
// node's pin directory, the socket programs attached to berth's cgroups
// through pinned BPF links and, when uplinks are configured, the TC
// programs on them. A restarted proxy re-adopts all of it: maps are reused
// by name, each pinned link is switched to the new program in one
// bpf_link_update and each TC filter is replaced in place, so no packet
// or connect() ever runs without a program.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "proxy-ebpf/maps/lb_map_fds.h"

struct sock_lb;
struct tc_lb;

namespace berth::proxy {

struct DataplaneConfig {
  // A bpffs directory of this node's own, e.g. /sys/fs/bpf/berth/<node>.
  std::string pin_dir;
  // cgroup v2 directories the socket programs attach to: berth's cgroup
  // root (all pods) and, when configured, a host cgroup of berth's.
  std::vector<std::string> cgroups;
  LbLimits limits;
  Selection selection = Selection::kRandom;
  uint32_t maglev_size = 1021;  // a prime; entries per service table
  // Devices whose traffic from outside the node is balanced by the TC
  // programs (NodePort, externalIPs, LoadBalancer IPs); empty: none.
  std::vector<std::string> tc_devices;
  // The node's addresses a remote backend sees as source (network order);
  // zero: the frontend's own address.
  uint32_t snat_ipv4 = 0;
  std::array<uint8_t, 16> snat_ipv6{};
};

// The socket hooks, in attach order.
inline constexpr const char* kSocketPrograms[] = {
    "berth_connect4", "berth_sendmsg4", "berth_recvmsg4", "berth_getpeername4",
    "berth_connect6", "berth_sendmsg6", "berth_recvmsg6", "berth_getpeername6"};

class Dataplane {
 public:
  // Checks the host (requirements.h), loads the programs (reusing pinned
  // maps), attaches or re-points the links. Errors quote libbpf's log, the
  // verifier's included.
  static Result<std::unique_ptr<Dataplane>> Open(const DataplaneConfig& config);
  ~Dataplane();
  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;

  const LbMapFds& maps() const { return maps_; }
  // True when the maps were already pinned (a restart): their content is
  // live and must be adopted, not rewritten from empty.
  bool adopted() const { return adopted_; }
  const DataplaneConfig& config() const { return config_; }

  // Detaches every program (by unpinning its links and removing berth's TC
  // filters) and removes the pinned maps and the directory; what `berth
  // proxy --cleanup`, `berth reset` and tests run.
  static Status Remove(const std::string& pin_dir);

 private:
  Dataplane() = default;
  Status Load();
  Status LoadTc();
  Status AttachSocketPrograms();
  Status AttachTcPrograms();

  DataplaneConfig config_;
  sock_lb* sock_ = nullptr;
  tc_lb* tc_ = nullptr;
  LbMapFds maps_;
  bool adopted_ = false;
};

}  // namespace berth::proxy
