#pragma once
// rtnetlink link operations: the bridge, the veth pair, link state and the
// bridge port's hairpin flag (IFLA_BRPORT_MODE).

#include <optional>
#include <string>

#include "cni/bridge/netlink_socket.h"
#include "common/error.h"

namespace berth::cni::bridge {

struct LinkInfo {
  int index = 0;
  std::string name;
  std::string mac;   // "aa:bb:cc:dd:ee:ff", empty if the link has none
  std::string kind;  // IFLA_INFO_KIND: "bridge", "veth", ... (empty for lo)
  int master = 0;    // index of the bridge it is enslaved to, 0 if none
  int mtu = 0;
  bool up = false;
  std::optional<bool> hairpin;  // for a bridge port
};

// nullopt when there is no such link.
Result<std::optional<LinkInfo>> GetLink(NetlinkSocket& sock, const std::string& name);
Result<std::optional<LinkInfo>> GetLinkByIndex(NetlinkSocket& sock, int index);

// Creates a bridge; kAlreadyExists when the name is taken. mtu 0 keeps the
// kernel default.
Status CreateBridge(NetlinkSocket& sock, const std::string& name, int mtu);

struct VethSpec {
  std::string host_name;  // stays in the socket's netns, enslaved to master
  std::string peer_name;  // created directly in peer_netns_fd
  int peer_netns_fd = -1;
  int master_index = 0;
  int mtu = 0;
};
// Creates both ends in one RTM_NEWLINK, so there is never a moment where the
// pod's end exists in the host's netns under a name that could clash.
Status CreateVethPair(NetlinkSocket& sock, const VethSpec& spec);

Status SetLinkUp(NetlinkSocket& sock, int index, const std::string& name);
Status SetHairpin(NetlinkSocket& sock, int index, const std::string& name, bool on);
// kNotFound when it is already gone.
Status DeleteLink(NetlinkSocket& sock, int index, const std::string& name);

}  // namespace berth::cni::bridge
