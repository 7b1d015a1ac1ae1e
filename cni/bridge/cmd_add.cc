// ADD: bridge (created if missing) + veth pair + address and routes in the
// pod + hostPort/ipMasq rules, with everything undone if a step fails.

#include <linux/netlink.h>

#include <functional>
#include <vector>

#include "cni/bridge/addr_route.h"
#include "cni/bridge/commands.h"
#include "cni/bridge/hostport.h"
#include "cni/bridge/ipam_store.h"
#include "cni/bridge/link.h"
#include "cni/bridge/netns.h"
#include "cni/bridge/sysctl.h"
#include "common/fd.h"

namespace berth::cni::bridge {
namespace {

// Undo steps run in reverse order unless dismissed.
class Rollback {
 public:
  Rollback() = default;
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;
  ~Rollback() {
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it)
      (*it)();
  }
  void Add(std::function<void()> step) { steps_.push_back(std::move(step)); }
  void Dismiss() { steps_.clear(); }

 private:
  std::vector<std::function<void()>> steps_;
};

// What ADD works with, opened once.
struct Context {
  const Invocation& inv;
  UniqueFd pod_ns;
  NetlinkSocket host;
  NetlinkSocket pod;
};

Result<LinkInfo> EnsureBridge(NetlinkSocket& host, const NetConf& conf) {
  auto link = BERTH_TRY(GetLink(host, conf.bridge));
  if (!link) {
    Status created = CreateBridge(host, conf.bridge, conf.mtu);
    // Another ADD may have created it in the meantime.
    if (!created.ok() && created.error().code() != Errc::kAlreadyExists) {
      return std::move(created).error();
    }
    link = BERTH_TRY(GetLink(host, conf.bridge));
    if (!link) return Error(Errc::kInternal, "bridge " + conf.bridge + " vanished after creation");
  }
  if (link->kind != "bridge") {
    return Error(
        Errc::kFailedPrecondition,
        "link " + conf.bridge + " exists and is not a bridge (kind \"" + link->kind + "\")");
  }
  if (!link->up) BERTH_TRY(SetLinkUp(host, link->index, conf.bridge));
  return *link;
}

// The gateway address on the bridge, forwarding on, as the reference bridge
// plugin does for isGateway.
Status EnsureGateway(NetlinkSocket& host, const LinkInfo& bridge, const NetConf& conf) {
  Ipv4Prefix gw{conf.ipam.gateway, conf.ipam.subnet.length};
  bool present = false;
  for (const Ipv4Prefix& a : BERTH_TRY(ListAddresses(host, bridge.index)))
    present = present || a == gw;
  if (!present) {
    Status added = AddAddress(host, bridge.index, gw);
    if (!added.ok() && added.error().code() != Errc::kAlreadyExists) return added;
  }
  return WriteSysctl("net/ipv4/ip_forward", "1");
}

Result<LinkInfo> CreateVeth(Context& cx, const LinkInfo& bridge) {
  const Invocation& inv = cx.inv;
  std::string host_name = HostVethName(inv.conf.name, inv.env.container_id, inv.env.ifname);
  BERTH_TRY(CreateVethPair(
      cx.host, VethSpec{host_name, inv.env.ifname, cx.pod_ns.get(), bridge.index, inv.conf.mtu}));
  auto link = BERTH_TRY(GetLink(cx.host, host_name));
  if (!link) return Error(Errc::kInternal, "veth " + host_name + " vanished after creation");
  BERTH_TRY(SetLinkUp(cx.host, link->index, host_name));
  if (inv.conf.hairpin_mode) BERTH_TRY(SetHairpin(cx.host, link->index, host_name, true));
  return *link;
}

Status AddRouteIfMissing(NetlinkSocket& pod, int index, const Route& r) {
  Status st = AddRoute(pod, index, r);
  if (!st.ok() && st.error().code() == Errc::kAlreadyExists) return Ok();
  return st;
}

// lo up; the pod's interface up with its address and routes.
Result<LinkInfo> ConfigurePod(Context& cx, Ipv4 ip) {
  const Invocation& inv = cx.inv;
  auto lo = BERTH_TRY(GetLink(cx.pod, "lo"));
  if (lo && !lo->up) BERTH_TRY(SetLinkUp(cx.pod, lo->index, "lo"));
  auto link = BERTH_TRY(GetLink(cx.pod, inv.env.ifname));
  if (!link) return Error(Errc::kInternal, inv.env.ifname + " missing in " + inv.env.netns);
  BERTH_TRY(SetLinkUp(cx.pod, link->index, inv.env.ifname));
  BERTH_TRY(AddAddress(cx.pod, link->index, Ipv4Prefix{ip, inv.conf.ipam.subnet.length}));
  for (const Route& r : inv.conf.PodRoutes())
    BERTH_TRY(AddRouteIfMissing(cx.pod, link->index, r));
  return *link;
}

Status AddNat(const Invocation& inv, Ipv4 ip) {
  PodNat nat = PodNatOf(inv.conf, ip);
  if (nat.empty()) return Ok();
  NetlinkSocket nft = BERTH_TRY(NetlinkSocket::Open(NETLINK_NETFILTER));
  BERTH_TRY(AddPodNat(nft, OwnerOf(inv), nat));
  if (!nat.port_mappings.empty()) {
    // DNAT of 127.0.0.1:hostPort needs loopback-sourced packets to be
    // routable out of the bridge (README: route_localnet).
    BERTH_TRY(WriteSysctl("net/ipv4/conf/" + inv.conf.bridge + "/route_localnet", "1"));
  }
  return Ok();
}

CniResult BuildResult(const Invocation& inv, const LinkInfo& bridge, const LinkInfo& host_veth,
                      const LinkInfo& pod_link, Ipv4 ip) {
  CniResult r;
  r.interfaces.push_back({bridge.name, bridge.mac, ""});
  r.interfaces.push_back({host_veth.name, host_veth.mac, ""});
  r.interfaces.push_back({pod_link.name, pod_link.mac, inv.env.netns});
  r.ips.push_back(ResultIp{Ipv4Prefix{ip, inv.conf.ipam.subnet.length}, inv.conf.ipam.gateway, 2});
  r.routes = inv.conf.PodRoutes();
  r.dns = inv.conf.dns;
  return r;
}

Result<CniResult> Attach(Context& cx, Rollback& undo) {
  const Invocation& inv = cx.inv;
  if (BERTH_TRY(GetLink(cx.pod, inv.env.ifname))) {
    return Error(Errc::kAlreadyExists,
                 "interface " + inv.env.ifname + " already exists in " + inv.env.netns);
  }
  LinkInfo bridge = BERTH_TRY(EnsureBridge(cx.host, inv.conf));
  IpamStore ipam = IpamStore::ForNetwork(inv.conf);
  Ipv4 ip = BERTH_TRY(ipam.Allocate(inv.env.container_id, inv.env.ifname));
  undo.Add([&inv, ipam]() mutable { (void)ipam.Release(inv.env.container_id, inv.env.ifname); });
  LinkInfo host_veth = BERTH_TRY(CreateVeth(cx, bridge));
  undo.Add([&cx, index = host_veth.index, name = host_veth.name] {
    // Deleting one end removes the pair.
    (void)DeleteLink(cx.host, index, name);
  });
  LinkInfo pod_link = BERTH_TRY(ConfigurePod(cx, ip));
  if (inv.conf.is_gateway) BERTH_TRY(EnsureGateway(cx.host, bridge, inv.conf));
  undo.Add([&inv] {
    auto nft = NetlinkSocket::Open(NETLINK_NETFILTER);
    if (nft.ok()) (void)DeletePodNat(*nft, OwnerOf(inv));
  });
  BERTH_TRY(AddNat(inv, ip));
  // The bridge takes a port's MAC when it gets its first one: read it now.
  auto bridge_now = BERTH_TRY(GetLinkByIndex(cx.host, bridge.index));
  return BuildResult(inv, bridge_now.value_or(bridge), host_veth, pod_link, ip);
}

}  // namespace

Result<CniResult> CmdAdd(const Invocation& inv) {
  UniqueFd pod_ns = BERTH_TRY_CTX(OpenNetns(inv.env.netns), "CNI_NETNS");
  NetlinkSocket host = BERTH_TRY(NetlinkSocket::Open(NETLINK_ROUTE));
  NetlinkSocket pod = BERTH_TRY(OpenNetlinkIn(pod_ns.get(), NETLINK_ROUTE, inv.env.netns));
  Context cx{inv, std::move(pod_ns), std::move(host), std::move(pod)};
  Rollback undo;
  CniResult result = BERTH_TRY(Attach(cx, undo));
  undo.Dismiss();
  return result;
}

}  // namespace berth::cni::bridge
