/* Service load balancing for IPv4 traffic arriving from outside the node
 * (NodePort, externalIPs, LoadBalancer ingress IPs): sched_cls programs on
 * the node's uplinks. Ingress translates a new flow's destination to a
 * backend chosen from the EXTERNAL-scope service entry and records the
 * translation in the connection table; a remote backend also gets the
 * node's address as source (SNAT) and the packet is sent out at once.
 * Replies are translated back: at egress when the backend runs on this
 * node, at ingress (then sent back to the client) when it came through
 * SNAT. A frontend without backends is passed to the stack unchanged: no
 * socket listens there, so the kernel refuses it (TCP RST, ICMP port
 * unreachable). */
// clang-format off: vmlinux.h defines the kernel types libbpf's headers use.
#include "vmlinux.h"
// clang-format on

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lb_select.bpf.h"

#define BERTH_TC_ACT_OK 0
#define BERTH_TC_ACT_SHOT 2
#define BERTH_ETH_P_IP 0x0800
#define BERTH_ETH_HLEN 14
#define BERTH_AF_INET 2
#define BERTH_IP_MF 0x2000
#define BERTH_IP_OFFSET 0x1fff
#define BERTH_TCP_SYN 0x02
#define BERTH_TCP_ACK 0x10
#define BERTH_SNAT_TRIES 8

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The node address SNAT uses; 0: the frontend's own address (a NodePort
 * frontend is a node address). Set by the loader. */
const volatile __be32 lb_snat4 = 0;

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __type(key, struct lb4_ct_key);
  __type(value, struct lb4_ct_entry);
  __uint(max_entries, 262144);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb4_ct SEC(".maps");

/* ifindex -> 1 for each device the programs are attached to; written by
 * the loader so that cleanup finds them after a restart. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);
  __type(value, __u32);
  __uint(max_entries, 256);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_tc_devices SEC(".maps");

/* Where the packet's IPv4 and L4 headers are, and its 5-tuple. */
struct packet4 {
  __u32 l4_offset;
  __u32 csum_offset; /* the L4 checksum */
  __be32 saddr;
  __be32 daddr;
  __be16 sport;
  __be16 dport;
  __u8 protocol;
  __u8 tcp_flags;
  __u16 tot_len;
  __u8 tos;
};

/* The IPv4 header as RFC 791 fixes it. Packet layouts are not kernel
 * types: no CO-RE relocation (vmlinux.h's struct iphdr would get them). */
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

#define BERTH_IP_CSUM_OFFSET (BERTH_ETH_HLEN + 10)
#define BERTH_IP_SADDR_OFFSET (BERTH_ETH_HLEN + 12)
#define BERTH_IP_DADDR_OFFSET (BERTH_ETH_HLEN + 16)
#define BERTH_TCP_FLAGS_OFFSET 13
#define BERTH_TCP_CSUM_OFFSET 16
#define BERTH_UDP_CSUM_OFFSET 6

/* 1 when the packet is an unfragmented IPv4 TCP/UDP packet; fills `p`.
 * Fragments pass untouched (they carry no ports). */
static __always_inline int parse4(struct __sk_buff* skb, struct packet4* p) {
  if (skb->protocol != bpf_htons(BERTH_ETH_P_IP)) return 0;
  struct ipv4_header ip;
  if (bpf_skb_load_bytes(skb, BERTH_ETH_HLEN, &ip, sizeof(ip)) != 0) return 0;
  __u32 ihl = ip.version_ihl & 0xf;
  if ((ip.version_ihl >> 4) != 4 || ihl < 5 ||
      (ip.frag_off & bpf_htons(BERTH_IP_MF | BERTH_IP_OFFSET)))
    return 0;
  if (ip.protocol != IPPROTO_TCP && ip.protocol != IPPROTO_UDP) return 0;
  p->l4_offset = BERTH_ETH_HLEN + ihl * 4;
  p->saddr = ip.saddr;
  p->daddr = ip.daddr;
  p->protocol = ip.protocol;
  p->tot_len = bpf_ntohs(ip.tot_len);
  p->tos = ip.tos;
  __be16 ports[2];
  if (bpf_skb_load_bytes(skb, p->l4_offset, ports, sizeof(ports)) != 0) return 0;
  p->sport = ports[0];
  p->dport = ports[1];
  p->tcp_flags = 0;
  if (ip.protocol == IPPROTO_TCP) {
    p->csum_offset = p->l4_offset + BERTH_TCP_CSUM_OFFSET;
    if (bpf_skb_load_bytes(skb, p->l4_offset + BERTH_TCP_FLAGS_OFFSET, &p->tcp_flags, 1) != 0)
      return 0;
  } else {
    p->csum_offset = p->l4_offset + BERTH_UDP_CSUM_OFFSET;
  }
  return 1;
}

static __always_inline __u64 l4_csum_flags(const struct packet4* p) {
  /* A UDP checksum of 0 means "none": leave it so, and never produce it. */
  return p->protocol == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
}

static __always_inline int rewrite_address(struct __sk_buff* skb, const struct packet4* p,
                                           __u32 offset, __be32 from, __be32 to) {
  if (from == to) return 0;
  if (bpf_l4_csum_replace(skb, p->csum_offset, from, to,
                          l4_csum_flags(p) | BPF_F_PSEUDO_HDR | sizeof(to)) != 0)
    return -1;
  if (bpf_l3_csum_replace(skb, BERTH_IP_CSUM_OFFSET, from, to, sizeof(to)) != 0) return -1;
  return bpf_skb_store_bytes(skb, offset, &to, sizeof(to), 0);
}

static __always_inline int rewrite_port(struct __sk_buff* skb, const struct packet4* p,
                                        __u32 offset, __be16 from, __be16 to) {
  if (from == to) return 0;
  if (bpf_l4_csum_replace(skb, p->csum_offset, from, to, l4_csum_flags(p) | sizeof(to)) != 0)
    return -1;
  return bpf_skb_store_bytes(skb, offset, &to, sizeof(to), 0);
}

/* Rewrites the packet's 4-tuple to (saddr:sport -> daddr:dport). */
static __always_inline int rewrite4(struct __sk_buff* skb, const struct packet4* p, __be32 saddr,
                                    __be16 sport, __be32 daddr, __be16 dport) {
  if (rewrite_address(skb, p, BERTH_IP_SADDR_OFFSET, p->saddr, saddr) != 0 ||
      rewrite_address(skb, p, BERTH_IP_DADDR_OFFSET, p->daddr, daddr) != 0 ||
      rewrite_port(skb, p, p->l4_offset, p->sport, sport) != 0 ||
      rewrite_port(skb, p, p->l4_offset + 2, p->dport, dport) != 0)
    return -1;
  return 0;
}

/* struct bpf_fib_lookup as the UAPI fixes it, declared without
 * vmlinux.h's preserve_access_index: libbpf 1.1 relocates the members of
 * its anonymous unions (smac, dmac, ...) to offset 0 against a 6.x
 * kernel's BTF, which zeroes `family` and fails every lookup. */
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

/* Sends a packet whose addresses were rewritten to (saddr -> daddr) out
 * of the device the route to daddr uses. The stack cannot take it: its
 * source may be a node address, which the input path drops as martian. */
static __always_inline int redirect4(struct __sk_buff* skb, const struct packet4* p, __be32 saddr,
                                     __be32 daddr) {
  struct fib_params fib;
  __builtin_memset(&fib, 0, sizeof(fib));
  fib.family = BERTH_AF_INET;
  fib.l4_protocol = p->protocol;
  fib.tot_len = p->tot_len;
  fib.tos = p->tos;
  fib.ifindex = skb->ingress_ifindex;
  fib.src[0] = saddr;
  fib.dst[0] = daddr;
  long rc = bpf_fib_lookup(skb, (struct bpf_fib_lookup*)&fib, sizeof(fib), 0);
  if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) return bpf_redirect_neigh(fib.ifindex, NULL, 0, 0);
  if (rc != BPF_FIB_LKUP_RET_SUCCESS) return BERTH_TC_ACT_SHOT;
  if (bpf_skb_store_bytes(skb, 0, fib.dmac, 6, 0) != 0 ||
      bpf_skb_store_bytes(skb, 6, fib.smac, 6, 0) != 0)
    return BERTH_TC_ACT_SHOT;
  return bpf_redirect(fib.ifindex, 0);
}

static __always_inline __u32 flow_hash4(const struct packet4* p) {
  __u32 h = p->saddr * 2654435761u;
  h ^= ((__u32)p->sport << 16 | p->protocol) * 2246822519u;
  h ^= p->daddr * 3266489917u;
  return h ^ (h >> 15);
}

/* The backend for a new flow to `svc` (count > 0); NULL when an update
 * raced the lookup twice. */
static __always_inline struct lb4_backend* tc4_select(const struct packet4* p,
                                                      struct lb4_service_key* key,
                                                      __u32* service_id, __u32* backend_id) {
  for (int attempt = 0; attempt < 2; attempt++) {
    struct lb_service* svc = bpf_map_lookup_elem(&lb4_services, key);
    if (!svc) return NULL;
    *service_id = svc->id;
    if (svc->count == 0) return NULL;
    struct lb_affinity_key affinity = {};
    __builtin_memcpy(affinity.client_address, &p->saddr, sizeof(p->saddr));
    *backend_id = lb_pick_backend(svc, flow_hash4(p), &affinity);
    struct lb4_backend* backend = NULL;
    if (*backend_id) backend = bpf_map_lookup_elem(&lb4_backends, backend_id);
    if (backend) return backend;
    if (affinity.service_id) bpf_map_delete_elem(&lb_affinity, &affinity);
  }
  return NULL;
}

/* Claims a source port on the node for `entry`'s flow to its backend:
 * the REPLY key (backend -> node:port) must be free or already this
 * flow's. Returns 0 and fills entry->snat_port, or -1 when every try was
 * taken. */
static __always_inline int claim_snat_port(struct lb4_ct_entry* entry, __u8 protocol, __u32 hash) {
#pragma unroll
  for (int i = 0; i < BERTH_SNAT_TRIES; i++) {
    __u16 port = BERTH_SNAT_PORT_MIN + (hash + i * 2654435761u) % BERTH_SNAT_PORT_COUNT;
    struct lb4_ct_key reply = {
        .saddr = entry->backend_address,
        .daddr = entry->snat_address,
        .sport = entry->backend_port,
        .dport = bpf_htons(port),
        .protocol = protocol,
        .direction = BERTH_CT_REPLY,
    };
    struct lb4_ct_entry* taken = bpf_map_lookup_elem(&lb4_ct, &reply);
    if (taken && (taken->client_address != entry->client_address ||
                  taken->client_port != entry->client_port))
      continue;
    entry->snat_port = reply.dport;
    if (bpf_map_update_elem(&lb4_ct, &reply, entry, BPF_ANY) == 0) return 0;
  }
  return -1;
}

/* A new flow to an external frontend: chooses a backend and records the
 * translation in `entry` and the connection table. 1: translate with
 * `entry`; 0: not a service, or one without backends (pass); -1: drop. */
static __always_inline int tc4_new_flow(const struct packet4* p, struct lb4_ct_entry* entry) {
  struct lb4_service_key key = {
      .address = p->daddr,
      .port = p->dport,
      .protocol = p->protocol,
      .scope = BERTH_LB_SCOPE_EXTERNAL,
  };
  __u32 service_id = 0;
  __u32 backend_id = 0;
  struct lb4_backend* backend = tc4_select(p, &key, &service_id, &backend_id);
  if (!backend) {
    if (service_id) lb_count(service_id, 1);
    return 0;
  }

  entry->client_address = p->saddr;
  entry->frontend_address = p->daddr;
  entry->backend_address = backend->address;
  entry->client_port = p->sport;
  entry->frontend_port = p->dport;
  entry->backend_port = backend->port;
  entry->service_id = service_id;
  entry->backend_id = backend_id;
  if (!(backend->flags & BERTH_LB_BACKEND_F_LOCAL)) {
    entry->flags = BERTH_CT_F_SNAT;
    entry->snat_address = lb_snat4 ? lb_snat4 : p->daddr;
    if (claim_snat_port(entry, p->protocol, flow_hash4(p)) != 0) return -1;
  } else {
    struct lb4_ct_key reply = {
        .saddr = entry->backend_address,
        .daddr = entry->client_address,
        .sport = entry->backend_port,
        .dport = entry->client_port,
        .protocol = p->protocol,
        .direction = BERTH_CT_REPLY,
    };
    if (bpf_map_update_elem(&lb4_ct, &reply, entry, BPF_ANY) != 0) return -1;
  }
  struct lb4_ct_key forward = {
      .saddr = p->saddr,
      .daddr = p->daddr,
      .sport = p->sport,
      .dport = p->dport,
      .protocol = p->protocol,
      .direction = BERTH_CT_FORWARD,
  };
  if (bpf_map_update_elem(&lb4_ct, &forward, entry, BPF_ANY) != 0) return -1;
  lb_count(service_id, 0);
  return 1;
}

/* Translates a client's packet along `entry`. */
static __always_inline int tc4_forward(struct __sk_buff* skb, const struct packet4* p,
                                       const struct lb4_ct_entry* entry) {
  if (entry->flags & BERTH_CT_F_SNAT) {
    if (rewrite4(skb, p, entry->snat_address, entry->snat_port, entry->backend_address,
                 entry->backend_port) != 0)
      return BERTH_TC_ACT_SHOT;
    return redirect4(skb, p, entry->snat_address, entry->backend_address);
  }
  if (rewrite4(skb, p, p->saddr, p->sport, entry->backend_address, entry->backend_port) != 0)
    return BERTH_TC_ACT_SHOT;
  return BERTH_TC_ACT_OK; /* routed to the local backend by the stack */
}

static __always_inline struct lb4_ct_entry* ct4_lookup(const struct packet4* p, __u8 direction) {
  struct lb4_ct_key key = {
      .saddr = p->saddr,
      .daddr = p->daddr,
      .sport = p->sport,
      .dport = p->dport,
      .protocol = p->protocol,
      .direction = direction,
  };
  return bpf_map_lookup_elem(&lb4_ct, &key);
}

/* An established TCP flow keeps its backend until it ends, so a
 * terminating backend finishes its connections. A SYN (a retransmit, or a
 * reused client port) and a UDP packet keep it only while the backend is
 * still programmed (kube-proxy clears the UDP conntrack entries of removed
 * endpoints). */
static __always_inline int ct4_still_valid(const struct packet4* p,
                                           const struct lb4_ct_entry* entry) {
  if (p->protocol == IPPROTO_TCP &&
      (p->tcp_flags & (BERTH_TCP_SYN | BERTH_TCP_ACK)) != BERTH_TCP_SYN)
    return 1;
  __u32 id = entry->backend_id;
  struct lb4_backend* backend = bpf_map_lookup_elem(&lb4_backends, &id);
  return backend && backend->address == entry->backend_address &&
         backend->port == entry->backend_port;
}

SEC("tc")
int berth_tc_ingress(struct __sk_buff* skb) {
  struct packet4 p;
  if (!parse4(skb, &p)) return BERTH_TC_ACT_OK;

  /* A remote backend's reply to a SNATed flow: back to the client. */
  struct lb4_ct_entry* reply = ct4_lookup(&p, BERTH_CT_REPLY);
  if (reply && (reply->flags & BERTH_CT_F_SNAT)) {
    struct lb4_ct_entry entry = *reply;
    if (rewrite4(skb, &p, entry.frontend_address, entry.frontend_port, entry.client_address,
                 entry.client_port) != 0)
      return BERTH_TC_ACT_SHOT;
    return redirect4(skb, &p, entry.frontend_address, entry.client_address);
  }

  struct lb4_ct_entry entry = {};
  struct lb4_ct_entry* known = ct4_lookup(&p, BERTH_CT_FORWARD);
  if (known && ct4_still_valid(&p, known)) {
    entry = *known;
  } else {
    int created = tc4_new_flow(&p, &entry);
    if (created <= 0) return created == 0 ? BERTH_TC_ACT_OK : BERTH_TC_ACT_SHOT;
  }
  return tc4_forward(skb, &p, &entry);
}

/* Replies of a local backend leave with the frontend as their source. */
SEC("tc")
int berth_tc_egress(struct __sk_buff* skb) {
  struct packet4 p;
  if (!parse4(skb, &p)) return BERTH_TC_ACT_OK;
  struct lb4_ct_entry* reply = ct4_lookup(&p, BERTH_CT_REPLY);
  if (!reply || (reply->flags & BERTH_CT_F_SNAT)) return BERTH_TC_ACT_OK;
  struct lb4_ct_entry entry = *reply;
  if (rewrite4(skb, &p, entry.frontend_address, entry.frontend_port, p.daddr, p.dport) != 0)
    return BERTH_TC_ACT_SHOT;
  return BERTH_TC_ACT_OK;
}
