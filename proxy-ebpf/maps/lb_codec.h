#pragma once
// Model values <-> the C structs of bpf/lb_layout.h (network byte order).
// Include after <linux/types.h>.

#include <arpa/inet.h>
#include <linux/types.h>

#include <cstring>
#include <string>

#include "proxy-ebpf/bpf/lb_layout.h"
#include "proxy-ebpf/model/frontend.h"

namespace berth::proxy {

inline lb4_service_key EncodeKey4(const FrontendKey& key) {
  lb4_service_key out{};
  std::memcpy(&out.address, key.address.bytes.data(), 4);
  out.port = htons(key.port);
  out.protocol = static_cast<__u8>(key.protocol);
  out.scope = static_cast<__u8>(key.scope);
  return out;
}

inline lb6_service_key EncodeKey6(const FrontendKey& key) {
  lb6_service_key out{};
  std::memcpy(out.address, key.address.bytes.data(), 16);
  out.port = htons(key.port);
  out.protocol = static_cast<__u8>(key.protocol);
  out.scope = static_cast<__u8>(key.scope);
  return out;
}

inline FrontendKey DecodeKey4(const lb4_service_key& in) {
  FrontendKey key;
  std::memcpy(key.address.bytes.data(), &in.address, 4);
  key.port = ntohs(in.port);
  key.protocol = static_cast<L4Protocol>(in.protocol);
  key.scope = static_cast<Scope>(in.scope);
  return key;
}

inline FrontendKey DecodeKey6(const lb6_service_key& in) {
  FrontendKey key;
  key.address.v6 = true;
  std::memcpy(key.address.bytes.data(), in.address, 16);
  key.port = ntohs(in.port);
  key.protocol = static_cast<L4Protocol>(in.protocol);
  key.scope = static_cast<Scope>(in.scope);
  return key;
}

inline lb_service EncodeService(uint32_t id, uint32_t count, uint32_t rev, uint32_t flags,
                                uint32_t affinity_timeout) {
  lb_service out{};
  out.id = id;
  out.count = count;
  out.rev = rev;
  out.flags = flags;
  out.affinity_timeout = affinity_timeout;
  return out;
}

inline lb4_backend EncodeBackend4(const Backend& backend, L4Protocol protocol, uint8_t flags) {
  lb4_backend out{};
  std::memcpy(&out.address, backend.address.bytes.data(), 4);
  out.port = htons(backend.port);
  out.protocol = static_cast<__u8>(protocol);
  out.flags = flags;
  return out;
}

inline lb6_backend EncodeBackend6(const Backend& backend, L4Protocol protocol, uint8_t flags) {
  lb6_backend out{};
  std::memcpy(out.address, backend.address.bytes.data(), 16);
  out.port = htons(backend.port);
  out.protocol = static_cast<__u8>(protocol);
  out.flags = flags;
  return out;
}

inline Backend DecodeBackend4(const lb4_backend& in) {
  Backend backend;
  std::memcpy(backend.address.bytes.data(), &in.address, 4);
  backend.port = ntohs(in.port);
  backend.local = (in.flags & BERTH_LB_BACKEND_F_LOCAL) != 0;
  backend.terminating = (in.flags & BERTH_LB_BACKEND_F_TERMINATING) != 0;
  return backend;
}

inline Backend DecodeBackend6(const lb6_backend& in) {
  Backend backend;
  backend.address.v6 = true;
  std::memcpy(backend.address.bytes.data(), in.address, 16);
  backend.port = ntohs(in.port);
  backend.local = (in.flags & BERTH_LB_BACKEND_F_LOCAL) != 0;
  backend.terminating = (in.flags & BERTH_LB_BACKEND_F_TERMINATING) != 0;
  return backend;
}

inline lb_service_name EncodeName(const std::string& name, uint32_t kind) {
  lb_service_name out{};
  std::strncpy(out.name, name.c_str(), sizeof(out.name) - 1);
  out.kind = kind;
  return out;
}

// A per-CPU value is one 8-byte-aligned copy per possible CPU.
inline size_t StatsValueSize(int possible_cpus) {
  return ((sizeof(lb_service_stats) + 7) / 8 * 8) * static_cast<size_t>(possible_cpus);
}

}  // namespace berth::proxy
