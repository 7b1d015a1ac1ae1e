#include "cni/bridge/link.h"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <cstdio>

namespace berth::cni::bridge {
namespace {

std::string FormatMac(const nlattr* attr) {
  const auto* bytes = static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
  std::string out;
  for (uint16_t i = 0; i < mnl_attr_get_payload_len(attr); ++i) {
    char part[4];
    std::snprintf(part, sizeof part, i == 0 ? "%02x" : ":%02x", bytes[i]);
    out += part;
  }
  return out;
}

// Reads IFLA_INFO_KIND and, for a bridge port, IFLA_BRPORT_MODE out of
// IFLA_LINKINFO.
void ParseLinkInfo(const nlattr* linkinfo, LinkInfo& info) {
  ForEachNested(linkinfo, [&](const nlattr* attr) {
    uint16_t type = mnl_attr_get_type(attr);
    if (type == IFLA_INFO_KIND && mnl_attr_validate(attr, MNL_TYPE_STRING) == 0) {
      info.kind = mnl_attr_get_str(attr);
    } else if (type == IFLA_INFO_SLAVE_DATA) {
      ForEachNested(attr, [&](const nlattr* port) {
        if (mnl_attr_get_type(port) == IFLA_BRPORT_MODE &&
            mnl_attr_validate(port, MNL_TYPE_U8) == 0) {
          info.hairpin = mnl_attr_get_u8(port) != 0;
        }
      });
    }
  });
}

LinkInfo ParseLink(const nlmsghdr* nlh) {
  const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  LinkInfo info;
  info.index = ifi->ifi_index;
  info.up = (ifi->ifi_flags & IFF_UP) != 0;
  ForEachAttr(nlh, sizeof(ifinfomsg), [&](const nlattr* attr) {
    switch (mnl_attr_get_type(attr)) {
      case IFLA_IFNAME:
        if (mnl_attr_validate(attr, MNL_TYPE_STRING) == 0) info.name = mnl_attr_get_str(attr);
        break;
      case IFLA_ADDRESS:
        info.mac = FormatMac(attr);
        break;
      case IFLA_MASTER:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) info.master = mnl_attr_get_u32(attr);
        break;
      case IFLA_MTU:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) info.mtu = mnl_attr_get_u32(attr);
        break;
      case IFLA_LINKINFO:
        ParseLinkInfo(attr, info);
        break;
      default:
        break;
    }
  });
  return info;
}

Result<std::optional<LinkInfo>> Get(NetlinkSocket& sock, int index, const std::string& name) {
  NlMessage msg(RTM_GETLINK, 0);
  auto* ifi = msg.PutHeader<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  if (!name.empty()) mnl_attr_put_strz(msg.nlh(), IFLA_IFNAME, name.c_str());
  std::optional<LinkInfo> found;
  std::string what = name.empty() ? "link index " + std::to_string(index) : "link " + name;
  Status st = sock.Request(msg, "RTM_GETLINK", what, [&](const nlmsghdr* nlh) -> Status {
    if (nlh->nlmsg_type == RTM_NEWLINK) found = ParseLink(nlh);
    return Ok();
  });
  if (!st.ok()) {
    if (st.error().sys_errno() == ENODEV) return std::optional<LinkInfo>();
    return std::move(st).error();
  }
  return found;
}

ifinfomsg* PutLinkHeader(NlMessage& msg, int index) {
  auto* ifi = msg.PutHeader<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  return ifi;
}

Status Classified(Status st, Errc when_exists) {
  if (!st.ok() && st.error().sys_errno() == EEXIST) {
    return Error(when_exists, st.error().str());
  }
  return st;
}

}  // namespace

Result<std::optional<LinkInfo>> GetLink(NetlinkSocket& sock, const std::string& name) {
  return Get(sock, 0, name);
}

Result<std::optional<LinkInfo>> GetLinkByIndex(NetlinkSocket& sock, int index) {
  return Get(sock, index, "");
}

Status CreateBridge(NetlinkSocket& sock, const std::string& name, int mtu) {
  NlMessage msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  PutLinkHeader(msg, 0);
  nlmsghdr* nlh = msg.nlh();
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  if (mtu > 0) mnl_attr_put_u32(nlh, IFLA_MTU, static_cast<uint32_t>(mtu));
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(nlh, linkinfo);
  return Classified(sock.Request(msg, "RTM_NEWLINK", "bridge " + name), Errc::kAlreadyExists);
}

Status CreateVethPair(NetlinkSocket& sock, const VethSpec& spec) {
  NlMessage msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  PutLinkHeader(msg, 0);
  nlmsghdr* nlh = msg.nlh();
  mnl_attr_put_strz(nlh, IFLA_IFNAME, spec.host_name.c_str());
  if (spec.mtu > 0) mnl_attr_put_u32(nlh, IFLA_MTU, static_cast<uint32_t>(spec.mtu));
  if (spec.master_index > 0) {
    mnl_attr_put_u32(nlh, IFLA_MASTER, static_cast<uint32_t>(spec.master_index));
  }
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  // The peer's attributes follow its own ifinfomsg inside VETH_INFO_PEER.
  auto* peer_ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  peer_ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, spec.peer_name.c_str());
  if (spec.peer_netns_fd >= 0) {
    mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(spec.peer_netns_fd));
  }
  if (spec.mtu > 0) mnl_attr_put_u32(nlh, IFLA_MTU, static_cast<uint32_t>(spec.mtu));
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  return Classified(
      sock.Request(msg, "RTM_NEWLINK", "veth " + spec.host_name + " peer " + spec.peer_name),
      Errc::kAlreadyExists);
}

Status SetLinkUp(NetlinkSocket& sock, int index, const std::string& name) {
  NlMessage msg(RTM_NEWLINK, 0);
  ifinfomsg* ifi = PutLinkHeader(msg, index);
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  return sock.Request(msg, "RTM_NEWLINK", "set up " + name);
}

Status SetHairpin(NetlinkSocket& sock, int index, const std::string& name, bool on) {
  // What `bridge link set dev X hairpin on` sends: an AF_BRIDGE RTM_SETLINK
  // with the port's settings nested in IFLA_PROTINFO.
  NlMessage msg(RTM_SETLINK, 0);
  ifinfomsg* ifi = PutLinkHeader(msg, index);
  ifi->ifi_family = AF_BRIDGE;
  nlattr* protinfo = mnl_attr_nest_start(msg.nlh(), IFLA_PROTINFO);
  mnl_attr_put_u8(msg.nlh(), IFLA_BRPORT_MODE, on ? 1 : 0);
  mnl_attr_nest_end(msg.nlh(), protinfo);
  return sock.Request(msg, "RTM_SETLINK", "hairpin mode of bridge port " + name);
}

Status DeleteLink(NetlinkSocket& sock, int index, const std::string& name) {
  NlMessage msg(RTM_DELLINK, 0);
  PutLinkHeader(msg, index);
  Status st = sock.Request(msg, "RTM_DELLINK", name);
  if (!st.ok() && st.error().sys_errno() == ENODEV) return Error(Errc::kNotFound, st.error().str());
  return st;
}

}  // namespace berth::cni::bridge
