/* The layout of berth's load-balancing maps, shared by the BPF programs
 * (C, included after vmlinux.h) and the userspace writer (C++, after
 * <linux/types.h>). Addresses and ports are in network byte order.
 *
 * A frontend (address, port, protocol, scope) maps to a service entry
 * {id, count, rev}. Its backend ids live in the slot map under (id, rev,
 * i) for i < count, or in the Maglev map under id. A change writes the
 * new slots under rev+1 first, then replaces the service entry in one
 * update, then (later) deletes the old slots: a lookup never sees a
 * half-written backend list. Ids are 32-bit: no 16-bit ceiling. */
#ifndef BERTH_PROXY_LB_LAYOUT_H
#define BERTH_PROXY_LB_LAYOUT_H

#define BERTH_LB_SCOPE_INTERNAL 0 /* clients on the node: socket programs */
#define BERTH_LB_SCOPE_EXTERNAL 1 /* traffic from outside: TC programs */

#define BERTH_LB_F_AFFINITY 0x1u /* sessionAffinity ClientIP */
#define BERTH_LB_F_LOCAL 0x2u    /* a Local traffic policy narrowed the backends */
#define BERTH_LB_F_NODEPORT 0x4u /* a NodePort/externalIP/LB frontend */

#define BERTH_LB_BACKEND_F_LOCAL 0x1u       /* the endpoint runs on this node */
#define BERTH_LB_BACKEND_F_TERMINATING 0x2u /* serving and terminating */

#define BERTH_LB_SELECT_RANDOM 0
#define BERTH_LB_SELECT_MAGLEV 1

struct lb4_service_key {
  __be32 address;
  __be16 port;
  __u8 protocol; /* IPPROTO_TCP / IPPROTO_UDP */
  __u8 scope;
};

struct lb6_service_key {
  __u8 address[16];
  __be16 port;
  __u8 protocol;
  __u8 scope;
};

struct lb_service {
  __u32 id;               /* > 0; indexes slots, maglev, stats, names */
  __u32 count;            /* backends; 0 = refuse connections */
  __u32 rev;              /* slot generation */
  __u32 flags;            /* BERTH_LB_F_* */
  __u32 affinity_timeout; /* seconds, with BERTH_LB_F_AFFINITY */
  __u32 pad;
};

struct lb_slot_key {
  __u32 service_id;
  __u32 rev;
  __u32 slot;
};

struct lb4_backend {
  __be32 address;
  __be16 port;
  __u8 protocol;
  __u8 flags; /* BERTH_LB_BACKEND_F_* */
};

struct lb6_backend {
  __u8 address[16];
  __be16 port;
  __u8 protocol;
  __u8 flags;
};

/* sessionAffinity: the client is the netns cookie for socket programs,
 * the source address for TC. */
struct lb_affinity_key {
  __u32 service_id;
  __u32 pad;
  __u64 client_cookie;
  __u8 client_address[16];
};

struct lb_affinity_value {
  __u32 backend_id;
  __u32 pad;
  __u64 last_used_ns; /* bpf_ktime_get_ns */
};

/* Socket-level reverse translation: what a socket connected (or sent) to
 * before the rewrite, so recvmsg/getpeername show the service address. */
struct lb4_reverse_sock_key {
  __u64 cookie; /* bpf_get_socket_cookie */
  __be32 address;
  __be16 port;
  __u16 pad;
};

struct lb4_reverse_sock_value {
  __be32 address;
  __be16 port;
  __u16 pad;
};

struct lb6_reverse_sock_key {
  __u64 cookie;
  __u8 address[16];
  __be16 port;
  __u16 pad;
  __u32 pad2;
};

struct lb6_reverse_sock_value {
  __u8 address[16];
  __be16 port;
  __u16 pad;
};

/* Per service id, per CPU: translated connections (and UDP sends). */
struct lb_service_stats {
  __u64 connections;
  __u64 refused;
};

/* Per service id, for `berth proxy status` and bpftool readers. */
#define BERTH_LB_NAME_LEN 120
struct lb_service_name {
  char name[BERTH_LB_NAME_LEN]; /* "namespace/name:port-name" */
  __u32 kind;                   /* model::FrontendKind */
  __u32 pad;
};

/* The TC programs' connection table. A flow from outside is keyed twice:
 * as the client sent it (FORWARD, seen at ingress) and as the backend's
 * replies carry it (REPLY: at egress for a backend on this node, at
 * ingress for a remote backend reached through SNAT). Both keys hold the
 * whole translation, so either direction is rewritten from one lookup.
 * Addresses are 16 bytes for both families; IPv4 uses the first 4. */
#define BERTH_CT_FORWARD 0
#define BERTH_CT_REPLY 1

#define BERTH_CT_F_SNAT 0x1u /* the backend is remote: source rewritten to the node */

/* Source ports for SNAT: above Linux's default ephemeral range
 * (ip_local_port_range 32768-60999), so node sockets never collide. */
#define BERTH_SNAT_PORT_MIN 61000
#define BERTH_SNAT_PORT_COUNT 4536

struct lb_ct_key {
  __be32 saddr[4];
  __be32 daddr[4];
  __be16 sport;
  __be16 dport;
  __u8 protocol;
  __u8 direction; /* BERTH_CT_* */
  __u8 v6;
  __u8 pad;
};

struct lb_ct_entry {
  __be32 client_address[4];
  __be32 frontend_address[4];
  __be32 backend_address[4];
  __be32 snat_address[4]; /* with BERTH_CT_F_SNAT */
  __be16 client_port;
  __be16 frontend_port;
  __be16 backend_port;
  __be16 snat_port;
  __u32 service_id;
  __u32 backend_id;
  __u32 flags; /* BERTH_CT_F_* */
};

#endif
