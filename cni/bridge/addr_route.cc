#include "cni/bridge/addr_route.h"

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>

namespace berth::cni::bridge {
namespace {

void PutIpv4(nlmsghdr* nlh, uint16_t type, Ipv4 ip) {
  uint32_t be = ip.network_order();
  mnl_attr_put(nlh, type, sizeof be, &be);
}

std::optional<Ipv4> AttrIpv4(const nlattr* attr) {
  if (mnl_attr_get_payload_len(attr) != 4) return std::nullopt;
  uint32_t be;
  std::memcpy(&be, mnl_attr_get_payload(attr), sizeof be);
  return Ipv4::FromNetworkOrder(be);
}

Status ExistsAs(Status st) {
  if (!st.ok() && st.error().sys_errno() == EEXIST) {
    return Error(Errc::kAlreadyExists, st.error().str());
  }
  return st;
}

}  // namespace

Status AddAddress(NetlinkSocket& sock, int index, const Ipv4Prefix& addr) {
  NlMessage msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  auto* ifa = msg.PutHeader<ifaddrmsg>();
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = static_cast<uint8_t>(addr.length);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<uint32_t>(index);
  PutIpv4(msg.nlh(), IFA_LOCAL, addr.addr);
  PutIpv4(msg.nlh(), IFA_ADDRESS, addr.addr);
  if (addr.length < 31) PutIpv4(msg.nlh(), IFA_BROADCAST, addr.broadcast());
  return ExistsAs(
      sock.Request(msg, "RTM_NEWADDR", addr.str() + " on link " + std::to_string(index)));
}

Result<std::vector<Ipv4Prefix>> ListAddresses(NetlinkSocket& sock, int index) {
  NlMessage msg(RTM_GETADDR, 0);
  auto* req = msg.PutHeader<ifaddrmsg>();
  req->ifa_family = AF_INET;
  std::vector<Ipv4Prefix> out;
  BERTH_TRY(sock.Dump(
      msg,
      [&](const nlmsghdr* nlh) -> Status {
        const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
        if (nlh->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET ||
            static_cast<int>(ifa->ifa_index) != index) {
          return Ok();
        }
        ForEachAttr(nlh, sizeof(ifaddrmsg), [&](const nlattr* attr) {
          if (mnl_attr_get_type(attr) != IFA_LOCAL) return;
          if (auto ip = AttrIpv4(attr)) out.push_back(Ipv4Prefix{*ip, ifa->ifa_prefixlen});
        });
        return Ok();
      },
      "RTM_GETADDR", "link " + std::to_string(index)));
  return out;
}

Status AddRoute(NetlinkSocket& sock, int index, const Route& r) {
  NlMessage msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  auto* rtm = msg.PutHeader<rtmsg>();
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = static_cast<uint8_t>(r.dst.length);
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = r.gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rtm->rtm_type = RTN_UNICAST;
  if (r.dst.length > 0) PutIpv4(msg.nlh(), RTA_DST, r.dst.network());
  if (r.gw) PutIpv4(msg.nlh(), RTA_GATEWAY, *r.gw);
  mnl_attr_put_u32(msg.nlh(), RTA_OIF, static_cast<uint32_t>(index));
  std::string what = r.dst.str() + (r.gw ? " via " + r.gw->str() : "");
  return ExistsAs(sock.Request(msg, "RTM_NEWROUTE", what));
}

Result<std::vector<Route>> ListRoutes(NetlinkSocket& sock, int index) {
  NlMessage msg(RTM_GETROUTE, 0);
  auto* req = msg.PutHeader<rtmsg>();
  req->rtm_family = AF_INET;
  std::vector<Route> out;
  BERTH_TRY(sock.Dump(
      msg,
      [&](const nlmsghdr* nlh) -> Status {
        const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
        if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET ||
            rtm->rtm_type != RTN_UNICAST) {
          return Ok();
        }
        Route r{Ipv4Prefix{Ipv4{0}, rtm->rtm_dst_len}, std::nullopt};
        int oif = 0;
        uint32_t table = rtm->rtm_table;
        ForEachAttr(nlh, sizeof(rtmsg), [&](const nlattr* attr) {
          switch (mnl_attr_get_type(attr)) {
            case RTA_DST:
              if (auto ip = AttrIpv4(attr)) r.dst.addr = *ip;
              break;
            case RTA_GATEWAY:
              r.gw = AttrIpv4(attr);
              break;
            case RTA_OIF:
              oif = static_cast<int>(mnl_attr_get_u32(attr));
              break;
            case RTA_TABLE:
              table = mnl_attr_get_u32(attr);
              break;
            default:
              break;
          }
        });
        if (oif == index && table == RT_TABLE_MAIN) out.push_back(r);
        return Ok();
      },
      "RTM_GETROUTE", "link " + std::to_string(index)));
  return out;
}

}  // namespace berth::cni::bridge
