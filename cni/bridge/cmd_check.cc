// CHECK: the attachment is still as ADD left it, judged against prevResult
// (CNI spec: CHECK). Routes added by later chained plugins are ignored;
// only the ones this plugin installs are required.

#include <linux/netlink.h>

#include <algorithm>

#include "cni/bridge/addr_route.h"
#include "cni/bridge/commands.h"
#include "cni/bridge/hostport.h"
#include "cni/bridge/ipam_store.h"
#include "cni/bridge/link.h"
#include "cni/bridge/netns.h"

namespace berth::cni::bridge {
namespace {

Error CheckFailed(const std::string& why) {
  return Error(Errc::kFailedPrecondition, why);
}

// The prevResult addresses of the pod's interface.
Result<std::vector<Ipv4Prefix>> ExpectedAddresses(const Invocation& inv, const CniResult& prev) {
  std::vector<Ipv4Prefix> out;
  for (const ResultIp& ip : prev.ips) {
    if (!ip.interface || *ip.interface < 0 ||
        static_cast<size_t>(*ip.interface) >= prev.interfaces.size()) {
      continue;
    }
    const ResultInterface& i = prev.interfaces[static_cast<size_t>(*ip.interface)];
    if (i.name == inv.env.ifname && i.sandbox == inv.env.netns) out.push_back(ip.address);
  }
  if (out.empty()) {
    return CheckFailed("prevResult lists no address for " + inv.env.ifname + " in " +
                       inv.env.netns);
  }
  return out;
}

Status CheckReservation(const Invocation& inv, const std::vector<Ipv4Prefix>& expected) {
  IpamStore ipam = IpamStore::ForNetwork(inv.conf);
  auto held = BERTH_TRY(ipam.Find(inv.env.container_id, inv.env.ifname));
  if (!held) return CheckFailed("no address reserved for " + inv.env.container_id);
  for (const Ipv4Prefix& p : expected) {
    if (p.addr == *held) return Ok();
  }
  return CheckFailed("reserved address " + held->str() + " is not the one in prevResult");
}

Status CheckPod(const Invocation& inv, const CniResult& prev,
                const std::vector<Ipv4Prefix>& expected) {
  UniqueFd pod_ns = BERTH_TRY_CTX(OpenNetns(inv.env.netns), "CNI_NETNS");
  NetlinkSocket pod = BERTH_TRY(OpenNetlinkIn(pod_ns.get(), NETLINK_ROUTE, inv.env.netns));
  auto link = BERTH_TRY(GetLink(pod, inv.env.ifname));
  if (!link) return CheckFailed(inv.env.ifname + " missing in " + inv.env.netns);
  if (!link->up) return CheckFailed(inv.env.ifname + " is down");
  for (const ResultInterface& i : prev.interfaces) {
    if (i.name == inv.env.ifname && i.sandbox == inv.env.netns && !i.mac.empty() &&
        i.mac != link->mac) {
      return CheckFailed(inv.env.ifname + " has MAC " + link->mac + ", prevResult says " + i.mac);
    }
  }
  auto have = BERTH_TRY(ListAddresses(pod, link->index));
  for (const Ipv4Prefix& p : expected) {
    if (std::find(have.begin(), have.end(), p) == have.end()) {
      return CheckFailed(inv.env.ifname + " lacks address " + p.str());
    }
  }
  auto routes = BERTH_TRY(ListRoutes(pod, link->index));
  for (const Route& r : inv.conf.PodRoutes()) {
    if (std::find(routes.begin(), routes.end(), r) == routes.end()) {
      return CheckFailed("route " + r.dst.str() + " missing in " + inv.env.netns);
    }
  }
  return Ok();
}

Status CheckHost(const Invocation& inv) {
  NetlinkSocket host = BERTH_TRY(NetlinkSocket::Open(NETLINK_ROUTE));
  auto bridge = BERTH_TRY(GetLink(host, inv.conf.bridge));
  if (!bridge || bridge->kind != "bridge")
    return CheckFailed("bridge " + inv.conf.bridge + " missing");
  std::string name = HostVethName(inv.conf.name, inv.env.container_id, inv.env.ifname);
  auto veth = BERTH_TRY(GetLink(host, name));
  if (!veth) return CheckFailed("host veth " + name + " missing");
  if (veth->master != bridge->index) {
    return CheckFailed("host veth " + name + " is not attached to " + inv.conf.bridge);
  }
  if (inv.conf.hairpin_mode && !veth->hairpin.value_or(false)) {
    return CheckFailed("hairpin mode is off on " + name);
  }
  return Ok();
}

Status CheckNat(const Invocation& inv, const std::vector<Ipv4Prefix>& expected) {
  size_t want = ExpectedRuleCount(PodNatOf(inv.conf, expected.front().addr));
  NetlinkSocket nft = BERTH_TRY(NetlinkSocket::Open(NETLINK_NETFILTER));
  size_t have = BERTH_TRY(CountPodNat(nft, OwnerOf(inv)));
  if (have != want) {
    return CheckFailed(std::to_string(have) + " nftables rules for " + OwnerOf(inv).Tag() +
                       ", expected " + std::to_string(want));
  }
  return Ok();
}

}  // namespace

Status CmdCheck(const Invocation& inv) {
  if (!inv.conf.prev_result) {
    return Error(Errc::kInvalidArgument, "prevResult: required for CHECK");
  }
  CniResult prev = BERTH_TRY(ParseResult(*inv.conf.prev_result));
  auto expected = BERTH_TRY(ExpectedAddresses(inv, prev));
  BERTH_TRY(CheckReservation(inv, expected));
  BERTH_TRY(CheckPod(inv, prev, expected));
  BERTH_TRY(CheckHost(inv));
  BERTH_TRY(CheckNat(inv, expected));
  return Ok();
}

}  // namespace berth::cni::bridge
