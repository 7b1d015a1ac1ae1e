/* Backend choice for a service entry, shared by the socket and TC
 * programs: sessionAffinity first, then Maglev or a random slot. */
#ifndef BERTH_PROXY_LB_SELECT_BPF_H
#define BERTH_PROXY_LB_SELECT_BPF_H

#include "lb_maps.bpf.h"

#define BERTH_NSEC_PER_SEC 1000000000ull

static __always_inline void lb_count(__u32 service_id, int refused) {
  struct lb_service_stats* stats = bpf_map_lookup_elem(&lb_stats, &service_id);
  if (!stats) return;
  if (refused)
    stats->refused++;
  else
    stats->connections++;
}

/* The backend id for a new flow of `svc` (count > 0), 0 when none can be
 * read (a concurrent update; the caller retries once). `hash` feeds
 * Maglev; affinity is keyed by `affinity` (zeroed by the caller, its
 * service_id filled here). */
static __always_inline __u32 lb_pick_backend(const struct lb_service* svc, __u32 hash,
                                             struct lb_affinity_key* affinity) {
  __u32 backend_id = 0;
  __u64 now = 0;

  if (svc->flags & BERTH_LB_F_AFFINITY) {
    affinity->service_id = svc->id;
    now = bpf_ktime_get_ns();
    struct lb_affinity_value* seen = bpf_map_lookup_elem(&lb_affinity, affinity);
    if (seen && now - seen->last_used_ns < (__u64)svc->affinity_timeout * BERTH_NSEC_PER_SEC) {
      seen->last_used_ns = now;
      return seen->backend_id;
    }
  }

  if (lb_selection == BERTH_LB_SELECT_MAGLEV) {
    __u32 id = svc->id;
    __u32* table = bpf_map_lookup_elem(&lb_maglev, &id);
    if (!table) return 0;
    __u32 index = hash % lb_maglev_size;
    if (index >= lb_maglev_size || index >= BERTH_LB_MAGLEV_MAX) return 0;
    backend_id = table[index];
  } else {
    struct lb_slot_key slot = {
        .service_id = svc->id,
        .rev = svc->rev,
        .slot = bpf_get_prandom_u32() % svc->count,
    };
    __u32* id = bpf_map_lookup_elem(&lb_slots, &slot);
    if (!id) return 0;
    backend_id = *id;
  }

  if (backend_id && (svc->flags & BERTH_LB_F_AFFINITY)) {
    struct lb_affinity_value value = {.backend_id = backend_id, .last_used_ns = now};
    bpf_map_update_elem(&lb_affinity, affinity, &value, BPF_ANY);
  }
  return backend_id;
}

#endif
