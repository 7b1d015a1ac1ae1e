// DEL: idempotent. Removes the attachment's nf_tables rules, its veth pair
// (from the pod's side if the netns is still there, else by the host end's
// name) and its address reservation. Anything already gone is fine; the
// bridge stays.

#include <linux/netlink.h>

#include "cni/bridge/commands.h"
#include "cni/bridge/hostport.h"
#include "cni/bridge/ipam_store.h"
#include "cni/bridge/link.h"
#include "cni/bridge/netns.h"

namespace berth::cni::bridge {
namespace {

Status DeleteLinkNamed(NetlinkSocket& sock, const std::string& name) {
  auto link = BERTH_TRY(GetLink(sock, name));
  if (!link) return Ok();
  Status st = DeleteLink(sock, link->index, name);
  if (!st.ok() && st.error().code() == Errc::kNotFound) return Ok();
  return st;
}

// The pod's end, when the netns can still be opened; a netns that is gone
// took the veth pair with it.
Status DeletePodSide(const Invocation& inv) {
  if (inv.env.netns.empty()) return Ok();
  auto pod_ns = OpenNetns(inv.env.netns);
  if (!pod_ns.ok()) return Ok();
  NetlinkSocket pod = BERTH_TRY(OpenNetlinkIn(pod_ns->get(), NETLINK_ROUTE, inv.env.netns));
  return DeleteLinkNamed(pod, inv.env.ifname);
}

Status DeleteHostSide(const Invocation& inv) {
  NetlinkSocket host = BERTH_TRY(NetlinkSocket::Open(NETLINK_ROUTE));
  return DeleteLinkNamed(host, HostVethName(inv.conf.name, inv.env.container_id, inv.env.ifname));
}

Status DeleteNat(const Invocation& inv) {
  NetlinkSocket nft = BERTH_TRY(NetlinkSocket::Open(NETLINK_NETFILTER));
  BERTH_TRY(DeletePodNat(nft, OwnerOf(inv)));
  return Ok();
}

}  // namespace

Status CmdDel(const Invocation& inv) {
  // Rules first and the address last, so the address cannot be handed to
  // another pod while traffic could still be steered to it.
  BERTH_TRY_CTX(DeleteNat(inv), "remove port mappings");
  BERTH_TRY_CTX(DeletePodSide(inv), "remove " + inv.env.ifname + " in " + inv.env.netns);
  BERTH_TRY_CTX(DeleteHostSide(inv), "remove host veth");
  IpamStore ipam = IpamStore::ForNetwork(inv.conf);
  BERTH_TRY_CTX(ipam.Release(inv.env.container_id, inv.env.ifname), "release address");
  return Ok();
}

}  // namespace berth::cni::bridge
