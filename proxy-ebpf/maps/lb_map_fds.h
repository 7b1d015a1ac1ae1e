#pragma once
// The file descriptors and sizes of the load-balancing maps
// (bpf/lb_layout.h), as the loader hands them to the map writer and the
// status reader. The fds are borrowed: whoever loaded or opened the maps
// owns them.

#include <cstdint>

namespace berth::proxy {

struct LbMapFds {
  int services4 = -1;
  int services6 = -1;
  int slots = -1;
  int maglev = -1;
  int backends4 = -1;
  int backends6 = -1;
  int affinity = -1;
  int reverse4 = -1;
  int reverse6 = -1;
  int stats = -1;
  int names = -1;
};

// Map capacities. Service ids index the stats array, so max_services
// bounds the ids (id 0 is never used).
struct LbLimits {
  uint32_t max_services = 65536;   // frontends, per family
  uint32_t max_backends = 262144;  // distinct endpoints, per family
  uint32_t max_slots = 1048576;    // backend slots over all frontends (x2 while updating)
  uint32_t affinity_entries = 65536;
  uint32_t reverse_entries = 262144;     // sockets translated at once, per family
  uint32_t connection_entries = 262144;  // TC table entries: a flow from outside takes 2
};

enum class Selection : uint32_t { kRandom = 0, kMaglev = 1 };  // BERTH_LB_SELECT_*

// The pinned map names (also the BPF map names).
inline constexpr const char* kMapNames[] = {
    "lb4_services", "lb6_services", "lb_slots",     "lb_maglev", "lb4_backends", "lb6_backends",
    "lb_affinity",  "lb4_rev_sock", "lb6_rev_sock", "lb_stats",  "lb_names"};

}  // namespace berth::proxy
