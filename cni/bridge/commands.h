#pragma once
// The CNI verbs, one file each (cmd_add.cc, cmd_del.cc, cmd_check.cc,
// cmd_status_gc.cc), on a parsed invocation. plugin.h turns their results
// into the spec's stdout and exit status.

#include <string>

#include "cni/bridge/config.h"
#include "cni/bridge/hostport.h"
#include "cni/bridge/result.h"
#include "common/error.h"

namespace berth::cni::bridge {

// The CNI_* environment (spec section 2, "Parameters").
struct CniEnv {
  std::string command;       // CNI_COMMAND
  std::string container_id;  // CNI_CONTAINERID
  std::string netns;         // CNI_NETNS
  std::string ifname;        // CNI_IFNAME
  std::string args;          // CNI_ARGS
  std::string path;          // CNI_PATH
};

struct Invocation {
  CniEnv env;
  NetConf conf;
};

Result<CniResult> CmdAdd(const Invocation& inv);
Status CmdDel(const Invocation& inv);
Status CmdCheck(const Invocation& inv);
Status CmdStatus(const Invocation& inv);
Status CmdGc(const Invocation& inv);

// Shared by the verbs.
// The host end of the pod's veth: "veth" + 8 hex digits of a hash of
// (network, container id, ifname), so DEL finds it without state.
std::string HostVethName(const std::string& network, const std::string& container_id,
                         const std::string& ifname);
NatOwner OwnerOf(const Invocation& inv);
PodNat PodNatOf(const NetConf& conf, Ipv4 pod_ip);

}  // namespace berth::cni::bridge
