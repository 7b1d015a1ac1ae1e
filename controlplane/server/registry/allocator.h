#pragma once
// Service ClusterIPs and NodePorts. Each allocation is a key of its own in
// the store (/ranges/serviceips/<ip>, /ranges/servicenodeports/<port>),
// made with a create-if-absent: two creates can never take the same
// address, and allocations survive restarts with the data they guard.
// (Upstream's IPAddress objects work the same way.)

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

#include "common/error.h"
#include "controlplane/storage/store.h"

namespace berth::controlplane::registry {

class ServiceAllocator {
 public:
  // `cidr`: --service-cluster-ip-range (IPv4); `ports`: --service-node-port-range.
  static Result<std::unique_ptr<ServiceAllocator>> Make(storage::Store& store,
                                                        const std::string& cidr,
                                                        const std::string& ports);

  // `requested` "" picks a free address; else that one, if in range and
  // free. Errors: kInvalidArgument (out of range), kAlreadyExists (taken),
  // kResourceExhausted (range full). `owner` (namespace/name) is recorded.
  Result<std::string> AllocateIp(const std::string& requested, const std::string& owner);
  Status ReleaseIp(const std::string& ip);
  Result<int> AllocateNodePort(int requested, const std::string& owner);
  Status ReleaseNodePort(int port);

  const std::string& cidr() const { return cidr_; }
  const std::string& port_range() const { return port_range_; }
  // The range's first address (the kubernetes service's).
  std::string FirstIp() const;

 private:
  ServiceAllocator(storage::Store& store) : store_(store) {}
  Result<bool> Take(const std::string& key, const std::string& owner);

  storage::Store& store_;
  std::string cidr_;
  std::string port_range_;
  uint32_t base_ = 0;  // network address, host order
  uint32_t size_ = 0;  // addresses in the range
  int port_lo_ = 0, port_hi_ = 0;
  std::mutex rng_mu_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace berth::controlplane::registry
