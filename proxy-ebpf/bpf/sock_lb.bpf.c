/* Socket-level service load balancing for clients on the node: the
 * destination of connect() (TCP, connected UDP) and of unconnected UDP
 * sendmsg() is rewritten from a service frontend to a backend before any
 * packet exists, and recvmsg()/getpeername() rewrite the backend back to
 * the frontend, so the application only ever sees the service address.
 * Attached to berth's own cgroups; see loader/. */
// clang-format off: vmlinux.h defines the kernel types libbpf's headers use.
#include "vmlinux.h"
// clang-format on

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lb_select.bpf.h"

#define BERTH_ECONNREFUSED 111
#define BERTH_AF_INET6_V4MAPPED_WORD 0x0000ffff /* ::ffff:0:0/96, word 2, host order */

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline __u8 sock_protocol(struct bpf_sock_addr* ctx) {
  __u32 protocol = ctx->protocol;
  if (protocol == IPPROTO_TCP || protocol == IPPROTO_UDP) return (__u8)protocol;
  return 0;
}

static __always_inline __be16 sock_port(struct bpf_sock_addr* ctx) {
  volatile __u32 port = ctx->user_port; /* a 4-byte load; the port is its low 16 bits */
  return (__be16)port;
}

static __always_inline __u32 sock_hash(struct bpf_sock_addr* ctx) {
  __u64 cookie = bpf_get_socket_cookie(ctx);
  return (__u32)(cookie ^ (cookie >> 32)) * 2654435761u;
}

/* Only what the choice needs is computed on this path: the netns cookie
 * for affinity, the socket hash for Maglev (lb_selection is a load-time
 * constant, so the verifier drops the unused branch). */
static __always_inline __u32 sock_pick_backend(struct bpf_sock_addr* ctx,
                                               const struct lb_service* svc,
                                               struct lb_affinity_key* affinity) {
  if (svc->flags & BERTH_LB_F_AFFINITY) affinity->client_cookie = bpf_get_netns_cookie(ctx);
  __u32 hash = lb_selection == BERTH_LB_SELECT_MAGLEV ? sock_hash(ctx) : 0;
  return lb_pick_backend(svc, hash, affinity);
}

static __always_inline int sock_refuse(__u32 service_id) {
  lb_count(service_id, 1);
  bpf_set_retval(-BERTH_ECONNREFUSED);
  return 0;
}

/* The v4 backend for a flow to `key`, or NULL when `*svc_out` has none
 * (refuse). Retries once when an update raced the lookup. */
static __always_inline struct lb4_backend* sock4_select(struct bpf_sock_addr* ctx,
                                                        struct lb4_service_key* key,
                                                        __u32* service_id) {
  struct lb4_backend* backend = NULL;
  for (int attempt = 0; attempt < 2; attempt++) {
    struct lb_service* svc = bpf_map_lookup_elem(&lb4_services, key);
    if (!svc) return NULL;
    *service_id = svc->id;
    if (svc->count == 0) return NULL;
    struct lb_affinity_key affinity = {};
    __u32 backend_id = sock_pick_backend(ctx, svc, &affinity);
    if (backend_id) backend = bpf_map_lookup_elem(&lb4_backends, &backend_id);
    if (backend) return backend;
    if (affinity.service_id) bpf_map_delete_elem(&lb_affinity, &affinity);
  }
  return NULL;
}

/* 1: not a service (leave the call alone) or rewritten; 0: refused. */
static __always_inline int sock4_forward(struct bpf_sock_addr* ctx) {
  __u8 protocol = sock_protocol(ctx);
  if (!protocol) return 1;
  struct lb4_service_key key = {
      .address = ctx->user_ip4,
      .port = sock_port(ctx),
      .protocol = protocol,
      .scope = BERTH_LB_SCOPE_INTERNAL,
  };
  __u32 service_id = 0;
  struct lb4_backend* backend = sock4_select(ctx, &key, &service_id);
  if (!backend) return service_id ? sock_refuse(service_id) : 1;

  struct lb4_reverse_sock_key reverse = {
      .cookie = bpf_get_socket_cookie(ctx),
      .address = backend->address,
      .port = backend->port,
  };
  struct lb4_reverse_sock_value original = {.address = key.address, .port = key.port};
  bpf_map_update_elem(&lb4_rev_sock, &reverse, &original, BPF_ANY);

  ctx->user_ip4 = backend->address;
  ctx->user_port = (__u32)backend->port;
  lb_count(service_id, 0);
  return 1;
}

static __always_inline void sock4_reverse(struct bpf_sock_addr* ctx) {
  struct lb4_reverse_sock_key reverse = {
      .cookie = bpf_get_socket_cookie(ctx),
      .address = ctx->user_ip4,
      .port = sock_port(ctx),
  };
  struct lb4_reverse_sock_value* original = bpf_map_lookup_elem(&lb4_rev_sock, &reverse);
  if (!original) return;
  ctx->user_ip4 = original->address;
  ctx->user_port = (__u32)original->port;
}

SEC("cgroup/connect4")
int berth_connect4(struct bpf_sock_addr* ctx) {
  return sock4_forward(ctx);
}

SEC("cgroup/sendmsg4")
int berth_sendmsg4(struct bpf_sock_addr* ctx) {
  return sock4_forward(ctx);
}

SEC("cgroup/recvmsg4")
int berth_recvmsg4(struct bpf_sock_addr* ctx) {
  sock4_reverse(ctx);
  return 1;
}

SEC("cgroup/getpeername4")
int berth_getpeername4(struct bpf_sock_addr* ctx) {
  sock4_reverse(ctx);
  return 1;
}

/* IPv6 sockets: native v6 services, and v4 services reached through a
 * v4-mapped address (::ffff:10.96.0.1) by dual-stack sockets. */

static __always_inline int sock6_is_v4mapped(struct bpf_sock_addr* ctx) {
  return ctx->user_ip6[0] == 0 && ctx->user_ip6[1] == 0 &&
         ctx->user_ip6[2] == bpf_htonl(BERTH_AF_INET6_V4MAPPED_WORD);
}

static __always_inline void sock6_read_address(struct bpf_sock_addr* ctx, __u8 address[16]) {
  __u32* words = (__u32*)address;
  words[0] = ctx->user_ip6[0];
  words[1] = ctx->user_ip6[1];
  words[2] = ctx->user_ip6[2];
  words[3] = ctx->user_ip6[3];
}

static __always_inline void sock6_write_address(struct bpf_sock_addr* ctx, const __u8 address[16]) {
  const __u32* words = (const __u32*)address;
  ctx->user_ip6[0] = words[0];
  ctx->user_ip6[1] = words[1];
  ctx->user_ip6[2] = words[2];
  ctx->user_ip6[3] = words[3];
}

static __always_inline int sock6_forward_v4mapped(struct bpf_sock_addr* ctx, __u8 protocol) {
  struct lb4_service_key key = {
      .address = ctx->user_ip6[3],
      .port = sock_port(ctx),
      .protocol = protocol,
      .scope = BERTH_LB_SCOPE_INTERNAL,
  };
  __u32 service_id = 0;
  struct lb4_backend* backend = sock4_select(ctx, &key, &service_id);
  if (!backend) return service_id ? sock_refuse(service_id) : 1;

  struct lb6_reverse_sock_key reverse = {.cookie = bpf_get_socket_cookie(ctx),
                                         .port = backend->port};
  __u32* words = (__u32*)reverse.address;
  words[2] = bpf_htonl(BERTH_AF_INET6_V4MAPPED_WORD);
  words[3] = backend->address;
  struct lb6_reverse_sock_value original = {.port = key.port};
  sock6_read_address(ctx, original.address);
  bpf_map_update_elem(&lb6_rev_sock, &reverse, &original, BPF_ANY);

  ctx->user_ip6[3] = backend->address;
  ctx->user_port = (__u32)backend->port;
  lb_count(service_id, 0);
  return 1;
}

static __always_inline int sock6_forward(struct bpf_sock_addr* ctx) {
  __u8 protocol = sock_protocol(ctx);
  if (!protocol) return 1;
  if (sock6_is_v4mapped(ctx)) return sock6_forward_v4mapped(ctx, protocol);

  struct lb6_service_key key = {
      .port = sock_port(ctx),
      .protocol = protocol,
      .scope = BERTH_LB_SCOPE_INTERNAL,
  };
  sock6_read_address(ctx, key.address);
  __u32 service_id = 0;
  struct lb6_backend* backend = NULL;
  for (int attempt = 0; attempt < 2 && !backend; attempt++) {
    struct lb_service* svc = bpf_map_lookup_elem(&lb6_services, &key);
    if (!svc) return 1;
    service_id = svc->id;
    if (svc->count == 0) break;
    struct lb_affinity_key affinity = {};
    __u32 backend_id = sock_pick_backend(ctx, svc, &affinity);
    if (backend_id) backend = bpf_map_lookup_elem(&lb6_backends, &backend_id);
    if (!backend && affinity.service_id) bpf_map_delete_elem(&lb_affinity, &affinity);
  }
  if (!backend) return sock_refuse(service_id);

  struct lb6_reverse_sock_key reverse = {.cookie = bpf_get_socket_cookie(ctx),
                                         .port = backend->port};
  __builtin_memcpy(reverse.address, backend->address, 16);
  struct lb6_reverse_sock_value original = {.port = key.port};
  __builtin_memcpy(original.address, key.address, 16);
  bpf_map_update_elem(&lb6_rev_sock, &reverse, &original, BPF_ANY);

  sock6_write_address(ctx, backend->address);
  ctx->user_port = (__u32)backend->port;
  lb_count(service_id, 0);
  return 1;
}

static __always_inline void sock6_reverse(struct bpf_sock_addr* ctx) {
  struct lb6_reverse_sock_key reverse = {.cookie = bpf_get_socket_cookie(ctx),
                                         .port = sock_port(ctx)};
  sock6_read_address(ctx, reverse.address);
  struct lb6_reverse_sock_value* original = bpf_map_lookup_elem(&lb6_rev_sock, &reverse);
  if (!original) return;
  sock6_write_address(ctx, original->address);
  ctx->user_port = (__u32)original->port;
}

SEC("cgroup/connect6")
int berth_connect6(struct bpf_sock_addr* ctx) {
  return sock6_forward(ctx);
}

SEC("cgroup/sendmsg6")
int berth_sendmsg6(struct bpf_sock_addr* ctx) {
  return sock6_forward(ctx);
}

SEC("cgroup/recvmsg6")
int berth_recvmsg6(struct bpf_sock_addr* ctx) {
  sock6_reverse(ctx);
  return 1;
}

SEC("cgroup/getpeername6")
int berth_getpeername6(struct bpf_sock_addr* ctx) {
  sock6_reverse(ctx);
  return 1;
}
