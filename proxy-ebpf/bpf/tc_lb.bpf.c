/* Service load balancing for traffic arriving from outside the node
 * (NodePort, externalIPs, LoadBalancer ingress IPs), IPv4 and IPv6:
 * sched_cls programs on the node's uplinks. Ingress translates a new
 * flow's destination to a backend chosen from the EXTERNAL-scope service
 * entry and records the translation in the connection table; a remote
 * backend also gets the node's address as source (SNAT) and the packet is
 * sent out at once. Replies are translated back: at egress when the
 * backend runs on this node, at ingress (then sent back to the client)
 * when it came through SNAT. A frontend without backends is passed to the
 * stack unchanged: no socket listens there, so the kernel refuses it (TCP
 * RST, ICMP port unreachable). */
// clang-format off: vmlinux.h defines the kernel types libbpf's headers use.
#include "vmlinux.h"
// clang-format on

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lb_select.bpf.h"

#define BERTH_TC_ACT_OK 0
#define BERTH_TC_ACT_SHOT 2
#define BERTH_ETH_P_IP 0x0800
#define BERTH_ETH_P_IPV6 0x86DD
#define BERTH_ETH_HLEN 14
#define BERTH_AF_INET 2
#define BERTH_AF_INET6 10
#define BERTH_IP_MF 0x2000
#define BERTH_IP_OFFSET 0x1fff
#define BERTH_TCP_SYN 0x02
#define BERTH_TCP_ACK 0x10
#define BERTH_SNAT_TRIES 8

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The node addresses SNAT uses; zero: the frontend's own address (a
 * NodePort frontend is a node address). Set by the loader. */
const volatile __be32 lb_snat4 = 0;
const volatile __be32 lb_snat6[4] = {};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __type(key, struct lb_ct_key);
  __type(value, struct lb_ct_entry);
  __uint(max_entries, 262144);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_ct SEC(".maps");

/* ifindex -> 1 for each device the programs are attached to; written by
 * the loader so that cleanup finds them after a restart. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);
  __type(value, __u32);
  __uint(max_entries, 256);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_tc_devices SEC(".maps");

/* Packet layouts as RFC 791 / 8200 fix them, and bpf_fib_lookup's
 * parameters as the UAPI fixes them, declared without vmlinux.h's
 * preserve_access_index: these are not kernel types, and libbpf 1.1
 * relocates the members of vmlinux.h's anonymous unions (smac, dmac, ...)
 * to offset 0 against a 6.x kernel's BTF. */
struct ipv4_header {
  __u8 version_ihl;
  __u8 tos;
  __be16 tot_len;
  __be16 id;
  __be16 frag_off;
  __u8 ttl;
  __u8 protocol;
  __u16 check;
  __be32 saddr;
  __be32 daddr;
};

struct ipv6_header {
  __be32 version_class_flow;
  __be16 payload_len;
  __u8 nexthdr;
  __u8 hop_limit;
  __be32 saddr[4];
  __be32 daddr[4];
};

struct fib_params {
  __u8 family;
  __u8 l4_protocol;
  __be16 sport;
  __be16 dport;
  __u16 tot_len;
  __u32 ifindex;
  __u32 tos;
  __be32 src[4];
  __be32 dst[4];
  __u32 vlan;
  __u8 smac[6];
  __u8 dmac[6];
};
_Static_assert(sizeof(struct fib_params) == 64, "struct bpf_fib_lookup is 64 bytes");

#define BERTH_IP_CSUM_OFFSET (BERTH_ETH_HLEN + 10)
#define BERTH_IP_SADDR_OFFSET (BERTH_ETH_HLEN + 12)
#define BERTH_IP_DADDR_OFFSET (BERTH_ETH_HLEN + 16)
#define BERTH_IP6_SADDR_OFFSET (BERTH_ETH_HLEN + 8)
#define BERTH_IP6_DADDR_OFFSET (BERTH_ETH_HLEN + 24)
#define BERTH_IP6_HLEN 40
#define BERTH_TCP_FLAGS_OFFSET 13
#define BERTH_TCP_CSUM_OFFSET 16
#define BERTH_UDP_CSUM_OFFSET 6

/* Where the packet's headers are, and its 5-tuple. IPv4 addresses sit in
 * word 0, the rest zero (the layout of lb_ct_key). */
struct packet {
  __u32 l4_offset;
  __u32 csum_offset; /* the L4 checksum */
  __be32 saddr[4];
  __be32 daddr[4];
  __be16 sport;
  __be16 dport;
  __u8 protocol;
  __u8 tcp_flags;
  __u8 v6;
  __u8 tos;
  __u16 tot_len; /* the L3 length, for the route's MTU */
};

static __always_inline int parse_l4(struct __sk_buff* skb, struct packet* p) {
  if (p->protocol != IPPROTO_TCP && p->protocol != IPPROTO_UDP) return 0;
  __be16 ports[2];
  if (bpf_skb_load_bytes(skb, p->l4_offset, ports, sizeof(ports)) != 0) return 0;
  p->sport = ports[0];
  p->dport = ports[1];
  p->tcp_flags = 0;
  if (p->protocol == IPPROTO_UDP) {
    p->csum_offset = p->l4_offset + BERTH_UDP_CSUM_OFFSET;
    return 1;
  }
  p->csum_offset = p->l4_offset + BERTH_TCP_CSUM_OFFSET;
  return bpf_skb_load_bytes(skb, p->l4_offset + BERTH_TCP_FLAGS_OFFSET, &p->tcp_flags, 1) == 0;
}

/* 1 for an unfragmented IPv4 or an IPv6 TCP/UDP packet (IPv6 extension
 * headers and IPv4 fragments, which carry no ports, pass untouched). */
static __always_inline int parse(struct __sk_buff* skb, struct packet* p) {
  __builtin_memset(p, 0, sizeof(*p));
  if (skb->protocol == bpf_htons(BERTH_ETH_P_IP)) {
    struct ipv4_header ip;
    if (bpf_skb_load_bytes(skb, BERTH_ETH_HLEN, &ip, sizeof(ip)) != 0) return 0;
    __u32 ihl = ip.version_ihl & 0xf;
    if ((ip.version_ihl >> 4) != 4 || ihl < 5 ||
        (ip.frag_off & bpf_htons(BERTH_IP_MF | BERTH_IP_OFFSET)))
      return 0;
    p->l4_offset = BERTH_ETH_HLEN + ihl * 4;
    p->saddr[0] = ip.saddr;
    p->daddr[0] = ip.daddr;
    p->protocol = ip.protocol;
    p->tot_len = bpf_ntohs(ip.tot_len);
    p->tos = ip.tos;
    return parse_l4(skb, p);
  }
  if (skb->protocol == bpf_htons(BERTH_ETH_P_IPV6)) {
    struct ipv6_header ip;
    if (bpf_skb_load_bytes(skb, BERTH_ETH_HLEN, &ip, sizeof(ip)) != 0) return 0;
    p->v6 = 1;
    p->l4_offset = BERTH_ETH_HLEN + BERTH_IP6_HLEN;
    __builtin_memcpy(p->saddr, ip.saddr, 16);
    __builtin_memcpy(p->daddr, ip.daddr, 16);
    p->protocol = ip.nexthdr;
    p->tot_len = bpf_ntohs(ip.payload_len) + BERTH_IP6_HLEN;
    return parse_l4(skb, p);
  }
  return 0;
}

static __always_inline int address_equal(const __be32 a[4], const __be32 b[4]) {
  return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

static __always_inline __u64 l4_csum_flags(const struct packet* p) {
  /* A UDP checksum of 0 means "none" over IPv4: leave it so, and never
   * produce it. */
  return p->protocol == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
}

/* Rewrites the source (`source`) or destination address and fixes the
 * checksums it is part of. */
static __always_inline int rewrite_address(struct __sk_buff* skb, const struct packet* p,
                                           int source, const __be32 from[4], const __be32 to[4]) {
  if (address_equal(from, to)) return 0;
  if (!p->v6) {
    __u32 offset = source ? BERTH_IP_SADDR_OFFSET : BERTH_IP_DADDR_OFFSET;
    if (bpf_l4_csum_replace(skb, p->csum_offset, from[0], to[0],
                            l4_csum_flags(p) | BPF_F_PSEUDO_HDR | sizeof(__be32)) != 0 ||
        bpf_l3_csum_replace(skb, BERTH_IP_CSUM_OFFSET, from[0], to[0], sizeof(__be32)) != 0)
      return -1;
    return bpf_skb_store_bytes(skb, offset, &to[0], sizeof(__be32), 0);
  }
  /* IPv6 has no header checksum; the pseudo-header sum changes by the
   * difference of the two addresses. */
  __be32 old[4] = {from[0], from[1], from[2], from[3]};
  __be32 new[4] = {to[0], to[1], to[2], to[3]};
  __s64 diff = bpf_csum_diff(old, sizeof(old), new, sizeof(new), 0);
  if (diff < 0 || bpf_l4_csum_replace(skb, p->csum_offset, 0, (__u32)diff,
                                      l4_csum_flags(p) | BPF_F_PSEUDO_HDR) != 0)
    return -1;
  return bpf_skb_store_bytes(skb, source ? BERTH_IP6_SADDR_OFFSET : BERTH_IP6_DADDR_OFFSET, new,
                             sizeof(new), 0);
}

static __always_inline int rewrite_port(struct __sk_buff* skb, const struct packet* p, __u32 offset,
                                        __be16 from, __be16 to) {
  if (from == to) return 0;
  if (bpf_l4_csum_replace(skb, p->csum_offset, from, to, l4_csum_flags(p) | sizeof(to)) != 0)
    return -1;
  return bpf_skb_store_bytes(skb, offset, &to, sizeof(to), 0);
}

/* Rewrites the packet's 4-tuple to (saddr:sport -> daddr:dport). */
static __always_inline int rewrite(struct __sk_buff* skb, const struct packet* p,
                                   const __be32 saddr[4], __be16 sport, const __be32 daddr[4],
                                   __be16 dport) {
  if (rewrite_address(skb, p, 1, p->saddr, saddr) != 0 ||
      rewrite_address(skb, p, 0, p->daddr, daddr) != 0 ||
      rewrite_port(skb, p, p->l4_offset, p->sport, sport) != 0 ||
      rewrite_port(skb, p, p->l4_offset + 2, p->dport, dport) != 0)
    return -1;
  return 0;
}

/* Sends a packet whose addresses were rewritten to (saddr -> daddr) out
 * of the device the route to daddr uses. The stack cannot take it: its
 * source may be a node address, which the input path drops as martian. */
static __always_inline int redirect(struct __sk_buff* skb, const struct packet* p,
                                    const __be32 saddr[4], const __be32 daddr[4]) {
  struct fib_params fib;
  __builtin_memset(&fib, 0, sizeof(fib));
  fib.family = p->v6 ? BERTH_AF_INET6 : BERTH_AF_INET;
  fib.l4_protocol = p->protocol;
  fib.tot_len = p->tot_len;
  fib.tos = p->v6 ? 0 : p->tos;
  fib.ifindex = skb->ingress_ifindex;
  __builtin_memcpy(fib.src, saddr, 16);
  __builtin_memcpy(fib.dst, daddr, 16);
  long rc = bpf_fib_lookup(skb, (struct bpf_fib_lookup*)&fib, sizeof(fib), 0);
  if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) return bpf_redirect_neigh(fib.ifindex, NULL, 0, 0);
  if (rc != BPF_FIB_LKUP_RET_SUCCESS) return BERTH_TC_ACT_SHOT;
  if (bpf_skb_store_bytes(skb, 0, fib.dmac, 6, 0) != 0 ||
      bpf_skb_store_bytes(skb, 6, fib.smac, 6, 0) != 0)
    return BERTH_TC_ACT_SHOT;
  return bpf_redirect(fib.ifindex, 0);
}

static __always_inline __u32 flow_hash(const struct packet* p) {
  __u32 h = (p->saddr[0] ^ p->saddr[1] ^ p->saddr[2] ^ p->saddr[3]) * 2654435761u;
  h ^= ((__u32)p->sport << 16 | p->protocol) * 2246822519u;
  h ^= (p->daddr[0] ^ p->daddr[3]) * 3266489917u;
  return h ^ (h >> 15);
}

/* A backend as the connection table records it. */
struct target {
  __be32 address[4];
  __be16 port;
  __u8 flags; /* BERTH_LB_BACKEND_F_* */
};

static __always_inline struct lb_service* service_of(const struct packet* p) {
  if (p->v6) {
    struct lb6_service_key key = {
        .port = p->dport, .protocol = p->protocol, .scope = BERTH_LB_SCOPE_EXTERNAL};
    __builtin_memcpy(key.address, p->daddr, 16);
    return bpf_map_lookup_elem(&lb6_services, &key);
  }
  struct lb4_service_key key = {.address = p->daddr[0],
                                .port = p->dport,
                                .protocol = p->protocol,
                                .scope = BERTH_LB_SCOPE_EXTERNAL};
  return bpf_map_lookup_elem(&lb4_services, &key);
}

/* Reads backend `id` of the packet's family into `t`; 0 when it is gone. */
static __always_inline int backend_of(const struct packet* p, __u32 id, struct target* t) {
  if (p->v6) {
    struct lb6_backend* b = bpf_map_lookup_elem(&lb6_backends, &id);
    if (!b) return 0;
    __builtin_memcpy(t->address, b->address, 16);
    t->port = b->port;
    t->flags = b->flags;
    return 1;
  }
  struct lb4_backend* b = bpf_map_lookup_elem(&lb4_backends, &id);
  if (!b) return 0;
  t->address[0] = b->address;
  t->port = b->port;
  t->flags = b->flags;
  return 1;
}

/* The backend for a new flow: 1 with `t` filled, 0 when the frontend is
 * not a service (*service_id 0), has no backends, or an update raced the
 * lookup twice. */
static __always_inline int choose(const struct packet* p, __u32* service_id, __u32* backend_id,
                                  struct target* t) {
  for (int attempt = 0; attempt < 2; attempt++) {
    struct lb_service* svc = service_of(p);
    if (!svc) return 0;
    *service_id = svc->id;
    if (svc->count == 0) return 0;
    struct lb_affinity_key affinity = {};
    __builtin_memcpy(affinity.client_address, p->saddr, 16);
    *backend_id = lb_pick_backend(svc, flow_hash(p), &affinity);
    if (*backend_id && backend_of(p, *backend_id, t)) return 1;
    if (affinity.service_id) bpf_map_delete_elem(&lb_affinity, &affinity);
  }
  return 0;
}

/* The connection-table key of the packet (saddr:sport -> daddr:dport). */
static __always_inline void ct_key(struct lb_ct_key* key, const struct packet* p,
                                   const __be32 saddr[4], __be16 sport, const __be32 daddr[4],
                                   __be16 dport, __u8 direction) {
  __builtin_memset(key, 0, sizeof(*key));
  __builtin_memcpy(key->saddr, saddr, 16);
  __builtin_memcpy(key->daddr, daddr, 16);
  key->sport = sport;
  key->dport = dport;
  key->protocol = p->protocol;
  key->direction = direction;
  key->v6 = p->v6;
}

/* Claims a source port on the node for `entry`'s flow to its backend:
 * the REPLY key (backend -> node:port) must be free or already this
 * flow's. Returns 0 and fills entry->snat_port, or -1 when every try was
 * taken. */
static __always_inline int claim_snat_port(struct lb_ct_entry* entry, const struct packet* p) {
  __u32 hash = flow_hash(p);
#pragma unroll
  for (int i = 0; i < BERTH_SNAT_TRIES; i++) {
    __u16 port = BERTH_SNAT_PORT_MIN + (hash + i * 2654435761u) % BERTH_SNAT_PORT_COUNT;
    struct lb_ct_key reply;
    ct_key(&reply, p, entry->backend_address, entry->backend_port, entry->snat_address,
           bpf_htons(port), BERTH_CT_REPLY);
    struct lb_ct_entry* taken = bpf_map_lookup_elem(&lb_ct, &reply);
    if (taken && (!address_equal(taken->client_address, entry->client_address) ||
                  taken->client_port != entry->client_port))
      continue;
    entry->snat_port = reply.dport;
    if (bpf_map_update_elem(&lb_ct, &reply, entry, BPF_ANY) == 0) return 0;
  }
  return -1;
}

static __always_inline void snat_address(const struct packet* p, __be32 out[4]) {
  if (p->v6) {
    __be32 w0 = lb_snat6[0], w1 = lb_snat6[1], w2 = lb_snat6[2], w3 = lb_snat6[3];
    if (w0 | w1 | w2 | w3) {
      out[0] = w0;
      out[1] = w1;
      out[2] = w2;
      out[3] = w3;
      return;
    }
  } else if (lb_snat4) {
    out[0] = lb_snat4;
    return;
  }
  __builtin_memcpy(out, p->daddr, 16);
}

/* A new flow to an external frontend: chooses a backend and records the
 * translation in `entry` and the connection table. 1: translate with
 * `entry`; 0: not a service, or one without backends (pass); -1: drop. */
static __always_inline int new_flow(const struct packet* p, struct lb_ct_entry* entry) {
  __u32 service_id = 0;
  __u32 backend_id = 0;
  struct target t = {};
  if (!choose(p, &service_id, &backend_id, &t)) {
    if (service_id) lb_count(service_id, 1);
    return 0;
  }
  __builtin_memcpy(entry->client_address, p->saddr, 16);
  __builtin_memcpy(entry->frontend_address, p->daddr, 16);
  __builtin_memcpy(entry->backend_address, t.address, 16);
  entry->client_port = p->sport;
  entry->frontend_port = p->dport;
  entry->backend_port = t.port;
  entry->service_id = service_id;
  entry->backend_id = backend_id;
  if (!(t.flags & BERTH_LB_BACKEND_F_LOCAL)) {
    entry->flags = BERTH_CT_F_SNAT;
    snat_address(p, entry->snat_address);
    if (claim_snat_port(entry, p) != 0) return -1;
  } else {
    struct lb_ct_key reply;
    ct_key(&reply, p, entry->backend_address, entry->backend_port, entry->client_address,
           entry->client_port, BERTH_CT_REPLY);
    if (bpf_map_update_elem(&lb_ct, &reply, entry, BPF_ANY) != 0) return -1;
  }
  struct lb_ct_key forward;
  ct_key(&forward, p, p->saddr, p->sport, p->daddr, p->dport, BERTH_CT_FORWARD);
  if (bpf_map_update_elem(&lb_ct, &forward, entry, BPF_ANY) != 0) return -1;
  lb_count(service_id, 0);
  return 1;
}

/* Translates a client's packet along `entry`. */
static __always_inline int forward(struct __sk_buff* skb, const struct packet* p,
                                   const struct lb_ct_entry* entry) {
  if (entry->flags & BERTH_CT_F_SNAT) {
    if (rewrite(skb, p, entry->snat_address, entry->snat_port, entry->backend_address,
                entry->backend_port) != 0)
      return BERTH_TC_ACT_SHOT;
    return redirect(skb, p, entry->snat_address, entry->backend_address);
  }
  if (rewrite(skb, p, p->saddr, p->sport, entry->backend_address, entry->backend_port) != 0)
    return BERTH_TC_ACT_SHOT;
  return BERTH_TC_ACT_OK; /* routed to the local backend by the stack */
}

static __always_inline struct lb_ct_entry* ct_lookup(const struct packet* p, __u8 direction) {
  struct lb_ct_key key;
  ct_key(&key, p, p->saddr, p->sport, p->daddr, p->dport, direction);
  return bpf_map_lookup_elem(&lb_ct, &key);
}

/* An established TCP flow keeps its backend until it ends, so a
 * terminating backend finishes its connections. A SYN (a retransmit, or a
 * reused client port) and a UDP packet keep it only while the backend is
 * still programmed (kube-proxy clears the UDP conntrack entries of removed
 * endpoints). */
static __always_inline int ct_still_valid(const struct packet* p, const struct lb_ct_entry* entry) {
  if (p->protocol == IPPROTO_TCP &&
      (p->tcp_flags & (BERTH_TCP_SYN | BERTH_TCP_ACK)) != BERTH_TCP_SYN)
    return 1;
  struct target t = {};
  return backend_of(p, entry->backend_id, &t) && address_equal(t.address, entry->backend_address) &&
         t.port == entry->backend_port;
}

SEC("tc")
int berth_tc_ingress(struct __sk_buff* skb) {
  struct packet p;
  if (!parse(skb, &p)) return BERTH_TC_ACT_OK;

  /* A remote backend's reply to a SNATed flow: back to the client. Only
   * SNAT ports can carry one, so other traffic skips the lookup. */
  struct lb_ct_entry* reply =
      bpf_ntohs(p.dport) >= BERTH_SNAT_PORT_MIN ? ct_lookup(&p, BERTH_CT_REPLY) : NULL;
  if (reply && (reply->flags & BERTH_CT_F_SNAT)) {
    struct lb_ct_entry entry = *reply;
    if (rewrite(skb, &p, entry.frontend_address, entry.frontend_port, entry.client_address,
                entry.client_port) != 0)
      return BERTH_TC_ACT_SHOT;
    return redirect(skb, &p, entry.frontend_address, entry.client_address);
  }

  struct lb_ct_entry entry = {};
  struct lb_ct_entry* known = ct_lookup(&p, BERTH_CT_FORWARD);
  if (known && ct_still_valid(&p, known)) {
    entry = *known;
  } else {
    int created = new_flow(&p, &entry);
    if (created <= 0) return created == 0 ? BERTH_TC_ACT_OK : BERTH_TC_ACT_SHOT;
  }
  return forward(skb, &p, &entry);
}

/* Replies of a local backend leave with the frontend as their source. */
SEC("tc")
int berth_tc_egress(struct __sk_buff* skb) {
  struct packet p;
  if (!parse(skb, &p)) return BERTH_TC_ACT_OK;
  struct lb_ct_entry* reply = ct_lookup(&p, BERTH_CT_REPLY);
  if (!reply || (reply->flags & BERTH_CT_F_SNAT)) return BERTH_TC_ACT_OK;
  struct lb_ct_entry entry = *reply;
  if (rewrite(skb, &p, entry.frontend_address, entry.frontend_port, p.daddr, p.dport) != 0)
    return BERTH_TC_ACT_SHOT;
  return BERTH_TC_ACT_OK;
}
