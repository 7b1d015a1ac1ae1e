#include "proxy-ebpf/maps/maglev.h"

#include <algorithm>

namespace berth::proxy {
namespace {

uint64_t Fnv1a(const std::string& text, uint64_t seed) {
  uint64_t hash = 14695981039346656037ull ^ seed;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  // A final mix (splitmix64) so that near-identical identities spread.
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ull;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebull;
  return hash ^ (hash >> 31);
}

}  // namespace

std::vector<uint32_t> MaglevTable(const std::vector<MaglevBackend>& input, uint32_t size) {
  if (input.empty() || size == 0) return {};
  // Order by identity: the table must not depend on the caller's order.
  std::vector<MaglevBackend> backends = input;
  std::sort(backends.begin(), backends.end(),
            [](const MaglevBackend& a, const MaglevBackend& b) { return a.identity < b.identity; });

  const size_t n = backends.size();
  std::vector<uint64_t> offset(n);
  std::vector<uint64_t> skip(n);
  std::vector<uint64_t> next(n, 0);
  for (size_t i = 0; i < n; ++i) {
    offset[i] = Fnv1a(backends[i].identity, 0x6d61676c) % size;
    skip[i] = Fnv1a(backends[i].identity, 0x65763031) % (size - 1) + 1;
  }

  constexpr uint32_t kEmpty = UINT32_MAX;
  std::vector<uint32_t> table(size, kEmpty);
  uint32_t filled = 0;
  while (true) {
    for (size_t i = 0; i < n; ++i) {
      uint64_t slot = (offset[i] + next[i] * skip[i]) % size;
      while (table[slot] != kEmpty) {
        ++next[i];
        slot = (offset[i] + next[i] * skip[i]) % size;
      }
      table[slot] = backends[i].id;
      ++next[i];
      if (++filled == size) return table;
    }
  }
}

}  // namespace berth::proxy
