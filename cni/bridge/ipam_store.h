#pragma once
// Built-in IPAM in the manner of host-local: one file per reserved address
// under <dataDir>/<network name>/, named by the address and holding
// "<container id>\n<ifname>\n". A flock on <dir>/lock serialises the
// plugins of concurrent ADDs and DELs; last_reserved_ip.0 remembers the last
// handed-out address so allocation goes round-robin through the range
// instead of reusing a just-released address at once. The gateway, the
// network and the broadcast address are never handed out.

#include <optional>
#include <string>
#include <vector>

#include "cni/bridge/config.h"
#include "cni/bridge/ip.h"
#include "common/error.h"
#include "common/fd.h"

namespace berth::cni::bridge {

struct Allocation {
  Ipv4 ip;
  std::string container_id;
  std::string ifname;  // empty when the file did not record one
};

class IpamStore {
 public:
  // `dir` is <dataDir>/<network name>; it is created on first use.
  IpamStore(std::string dir, IpamConfig config);

  static IpamStore ForNetwork(const NetConf& conf);

  // Reserves the next free address for (container_id, ifname). Fails with
  // kAlreadyExists when that attachment already holds one and with
  // kResourceExhausted when the range is full.
  Result<Ipv4> Allocate(const std::string& container_id, const std::string& ifname);
  // Releases every address held by container_id (only those of `ifname`
  // when it is not empty); returns them. Nothing held is not an error.
  Result<std::vector<Ipv4>> Release(const std::string& container_id, const std::string& ifname);
  Result<std::optional<Ipv4>> Find(const std::string& container_id, const std::string& ifname);
  Result<std::vector<Allocation>> List();
  // GC: releases every allocation whose (container id, ifname) is not in
  // `keep`; returns what was released.
  Result<std::vector<Allocation>> ReleaseAllExcept(const std::vector<Attachment>& keep);
  // STATUS: the directory exists (or can be created) and can be locked.
  Status CheckUsable();

  const std::string& dir() const { return dir_; }

 private:
  Result<UniqueFd> Lock();
  Result<std::vector<Allocation>> ListLocked();
  Result<std::optional<Ipv4>> LastReserved();
  bool Allocatable(Ipv4 ip) const;
  Result<bool> TryReserve(Ipv4 ip, const std::string& container_id, const std::string& ifname);
  Status Remove(Ipv4 ip);

  std::string dir_;
  IpamConfig config_;
};

}  // namespace berth::cni::bridge
