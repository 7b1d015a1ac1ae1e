#pragma once
// rtnetlink address and route operations (IPv4, main table).

#include <string>
#include <vector>

#include "cni/bridge/config.h"
#include "cni/bridge/ip.h"
#include "cni/bridge/netlink_socket.h"
#include "common/error.h"

namespace berth::cni::bridge {

// Adds addr/len with its broadcast address; kAlreadyExists if present.
Status AddAddress(NetlinkSocket& sock, int index, const Ipv4Prefix& addr);
// The IPv4 addresses on the link `index`.
Result<std::vector<Ipv4Prefix>> ListAddresses(NetlinkSocket& sock, int index);

// Adds a route in the main table through the link `index`, via r.gw when
// set (else a link-scope route); kAlreadyExists if present.
Status AddRoute(NetlinkSocket& sock, int index, const Route& r);
// The main-table IPv4 routes whose output device is `index`.
Result<std::vector<Route>> ListRoutes(NetlinkSocket& sock, int index);

}  // namespace berth::cni::bridge
