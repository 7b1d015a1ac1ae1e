// STATUS and GC (CNI 1.1.0).
//
// STATUS: ready when rtnetlink answers and the IPAM directory is usable.
// GC: releases the addresses and removes the nf_tables rules of this
// network whose attachment is not in cni.dev/valid-attachments. Veth pairs
// need no sweep: each vanishes with its pod's netns.

#include <linux/netlink.h>

#include "cni/bridge/commands.h"
#include "cni/bridge/hostport.h"
#include "cni/bridge/ipam_store.h"

namespace berth::cni::bridge {

Status CmdStatus(const Invocation& inv) {
  BERTH_TRY_CTX(NetlinkSocket::Open(NETLINK_ROUTE), "rtnetlink");
  IpamStore ipam = IpamStore::ForNetwork(inv.conf);
  return ipam.CheckUsable();
}

Status CmdGc(const Invocation& inv) {
  // Both sweeps run even if the first fails; the first error is reported.
  IpamStore ipam = IpamStore::ForNetwork(inv.conf);
  auto released = ipam.ReleaseAllExcept(inv.conf.valid_attachments);
  Status rules = [&]() -> Status {
    NetlinkSocket nft = BERTH_TRY(NetlinkSocket::Open(NETLINK_NETFILTER));
    BERTH_TRY(DeleteNatExcept(nft, inv.conf.name, inv.conf.valid_attachments));
    return Ok();
  }();
  if (!released.ok()) return std::move(released).error().Wrap("GC of IPAM store");
  if (!rules.ok()) return std::move(rules).error().Wrap("GC of nftables rules");
  return Ok();
}

}  // namespace berth::cni::bridge
