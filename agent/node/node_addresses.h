#pragma once
// The node's name and addresses as kubelet chooses them (upstream
// pkg/util/node GetHostname, cmd/kubelet --node-ip, and the NodeAddress
// status setter without a cloud provider).

#include <string>
#include <vector>

#include "common/error.h"

namespace berth::agent {

// --hostname-override, else the machine's hostname; trimmed, lowercased.
Result<std::string> NodeHostname(const std::string& hostname_override);

// --node-ip: one IP, or two of different families (dual-stack); not the
// unspecified address. kInvalidArgument naming the bad value.
Result<std::vector<std::string>> ParseNodeIps(const std::vector<std::string>& ips);

// The node's InternalIP when --node-ip is unset, in upstream's order:
//  1. the node name itself when it is an IP;
//  2. the node name's DNS addresses: the first IPv4, else the first IPv6,
//     that is not loopback, link-local, multicast or unspecified and is
//     assigned to a local interface;
//  3. the global address of the interface holding the default route,
//     IPv4 first (utilnet.ChooseHostInterface).
// kNotFound when none of these yields one (upstream: "can't get ip
// address of node"); loopback is never chosen.
Result<std::string> DefaultNodeIp(const std::string& node_name, const std::string& proc = "/proc");

}  // namespace berth::agent
