#include "controlplane/server/registry/allocator.h"

#include <arpa/inet.h>

#include <cstdio>

namespace berth::controlplane::registry {
namespace {

constexpr char kIpPrefix[] = "/ranges/serviceips/";
constexpr char kPortPrefix[] = "/ranges/servicenodeports/";

std::string IpText(uint32_t host_order) {
  in_addr a{htonl(host_order)};
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, text, sizeof text);
  return text;
}

}  // namespace

Result<std::unique_ptr<ServiceAllocator>> ServiceAllocator::Make(storage::Store& store,
                                                                 const std::string& cidr,
                                                                 const std::string& ports) {
  std::unique_ptr<ServiceAllocator> a(new ServiceAllocator(store));
  a->cidr_ = cidr;
  a->port_range_ = ports;
  size_t slash = cidr.find('/');
  in_addr net{};
  int bits = slash == std::string::npos ? -1 : std::atoi(cidr.c_str() + slash + 1);
  if (slash == std::string::npos || inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &net) != 1 ||
      bits < 8 || bits > 30) {
    return Error(Errc::kInvalidArgument, "--service-cluster-ip-range `" + cidr +
                                             "`: want an IPv4 network, prefix length 8-30");
  }
  uint32_t mask = ~uint32_t{0} << (32 - bits);
  a->base_ = ntohl(net.s_addr) & mask;
  a->size_ = ~mask + 1;
  if (std::sscanf(ports.c_str(), "%d-%d", &a->port_lo_, &a->port_hi_) != 2 || a->port_lo_ <= 0 ||
      a->port_hi_ < a->port_lo_ || a->port_hi_ > 65535) {
    return Error(Errc::kInvalidArgument, "--service-node-port-range `" + ports + "`: want lo-hi");
  }
  return a;
}

std::string ServiceAllocator::FirstIp() const {
  return IpText(base_ + 1);
}

Result<bool> ServiceAllocator::Take(const std::string& key, const std::string& owner) {
  Result<storage::KeyValue> made = store_.Create(key, owner);
  if (made.ok()) return true;
  if (made.error().code() == Errc::kAlreadyExists) return false;
  return std::move(made).error();
}

Result<std::string> ServiceAllocator::AllocateIp(const std::string& requested,
                                                 const std::string& owner) {
  // Usable: base+1 .. base+size-2 (not the network or broadcast address).
  uint32_t usable = size_ - 2;
  if (!requested.empty()) {
    in_addr a{};
    if (inet_pton(AF_INET, requested.c_str(), &a) != 1) {
      return Error(Errc::kInvalidArgument, "must be a valid IP address");
    }
    uint32_t ip = ntohl(a.s_addr);
    if (ip <= base_ || ip >= base_ + size_ - 1) {
      return Error(Errc::kInvalidArgument, "the provided IP (" + requested +
                                               ") is not in the valid range. The range of "
                                               "valid IPs is " +
                                               cidr_);
    }
    if (!BERTH_TRY(Take(kIpPrefix + requested, owner))) {
      return Error(Errc::kAlreadyExists, "provided IP is already allocated");
    }
    return requested;
  }
  uint64_t start;
  {
    std::lock_guard lock(rng_mu_);
    start = rng_();
  }
  // The first address is the kubernetes service's: asked for by name only.
  for (uint32_t i = 0; i < usable; ++i) {
    uint32_t offset = 2 + static_cast<uint32_t>((start + i) % (usable - 1));
    std::string ip = IpText(base_ + offset);
    if (BERTH_TRY(Take(kIpPrefix + ip, owner))) return ip;
  }
  return Error(Errc::kResourceExhausted,
               "failed to allocate a serviceIP: range is full (" + cidr_ + ")");
}

Status ServiceAllocator::ReleaseIp(const std::string& ip) {
  Result<storage::KeyValue> gone = store_.Delete(kIpPrefix + ip);
  if (!gone.ok() && gone.error().code() != Errc::kNotFound) return std::move(gone).error();
  return Ok();
}

Result<int> ServiceAllocator::AllocateNodePort(int requested, const std::string& owner) {
  if (requested != 0) {
    if (requested < port_lo_ || requested > port_hi_) {
      return Error(Errc::kInvalidArgument,
                   "provided port is not in the valid range. The range "
                   "of valid ports is " +
                       port_range_);
    }
    if (!BERTH_TRY(Take(kPortPrefix + std::to_string(requested), owner))) {
      return Error(Errc::kAlreadyExists, "provided port is already allocated");
    }
    return requested;
  }
  uint64_t start;
  {
    std::lock_guard lock(rng_mu_);
    start = rng_();
  }
  int count = port_hi_ - port_lo_ + 1;
  for (int i = 0; i < count; ++i) {
    int port = port_lo_ + static_cast<int>((start + static_cast<uint64_t>(i)) % count);
    if (BERTH_TRY(Take(kPortPrefix + std::to_string(port), owner))) return port;
  }
  return Error(Errc::kResourceExhausted,
               "failed to allocate a nodePort: range is full (" + port_range_ + ")");
}

Status ServiceAllocator::ReleaseNodePort(int port) {
  Result<storage::KeyValue> gone = store_.Delete(kPortPrefix + std::to_string(port));
  if (!gone.ok() && gone.error().code() != Errc::kNotFound) return std::move(gone).error();
  return Ok();
}

}  // namespace berth::controlplane::registry
