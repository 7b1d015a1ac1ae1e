/* The maps every berth load-balancing program shares. Each object that
 * includes this declares the same maps; they are pinned by name under the
 * node's pin directory, so the socket and TC objects (and a restarted
 * `berth proxy`) reuse one set. Sizes here are defaults; the loader sets
 * the configured max_entries before load. */
#ifndef BERTH_PROXY_LB_MAPS_BPF_H
#define BERTH_PROXY_LB_MAPS_BPF_H

#include "lb_layout.h"

/* Set by the loader before load (rodata is frozen: the verifier sees
 * constants). */
const volatile __u32 lb_selection = BERTH_LB_SELECT_RANDOM;
const volatile __u32 lb_maglev_size = 1021;

#define BERTH_LB_MAGLEV_MAX 131071

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, struct lb4_service_key);
  __type(value, struct lb_service);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb4_services SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, struct lb6_service_key);
  __type(value, struct lb_service);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb6_services SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, struct lb_slot_key);
  __type(value, __u32); /* backend id */
  __uint(max_entries, 1048576);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_slots SEC(".maps");

/* service id -> __u32 backend ids[lb_maglev_size]; the value size is set
 * by the loader, hence no BTF value type. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32) * 1021);
  __uint(max_entries, 1);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_maglev SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);
  __type(value, struct lb4_backend);
  __uint(max_entries, 1048576);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb4_backends SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);
  __type(value, struct lb6_backend);
  __uint(max_entries, 1048576);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb6_backends SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __type(key, struct lb_affinity_key);
  __type(value, struct lb_affinity_value);
  __uint(max_entries, 65536);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_affinity SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __type(key, struct lb4_reverse_sock_key);
  __type(value, struct lb4_reverse_sock_value);
  __uint(max_entries, 262144);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb4_rev_sock SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __type(key, struct lb6_reverse_sock_key);
  __type(value, struct lb6_reverse_sock_value);
  __uint(max_entries, 262144);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb6_rev_sock SEC(".maps");

/* Indexed by service id (ids are dense, below max services). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __type(key, __u32);
  __type(value, struct lb_service_stats);
  __uint(max_entries, 65536);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_stats SEC(".maps");

/* Written by userspace only, for readers of the pinned maps. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);
  __type(value, struct lb_service_name);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_names SEC(".maps");

#endif
