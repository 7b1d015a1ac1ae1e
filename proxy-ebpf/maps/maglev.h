#pragma once
// Maglev consistent hashing (Eisenbud et al., NSDI 2016): a lookup table of
// `size` (a prime) entries in which each backend owns a near-equal share,
// and which changes little when one backend comes or goes. Backends are
// placed by a hash of their identity ("10.0.0.1:80/TCP"), so every node
// builds the same table for the same backend set.

#include <cstdint>
#include <string>
#include <vector>

namespace berth::proxy {

struct MaglevBackend {
  std::string identity;
  uint32_t id = 0;  // what the table holds
};

// The table: `size` backend ids. Empty when `backends` is.
std::vector<uint32_t> MaglevTable(const std::vector<MaglevBackend>& backends, uint32_t size);

}  // namespace berth::proxy
