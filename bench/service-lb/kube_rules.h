#pragma once
// kube-proxy's iptables-mode rule set for a ServiceSet, as iptables-restore
// input: KUBE-SERVICES jumps per ClusterIP to a KUBE-SVC-* chain that picks
// a KUBE-SEP-* chain with `-m statistic --mode random`, each KUBE-SEP doing
// the DNAT; masquerade marking as kube-proxy sets it up with a cluster CIDR
// of 10.244.0.0/16. Every text is meant for `iptables-restore --noflush`,
// as kube-proxy runs it.

#include <string>

#include "bench/service-lb/service_set.h"

namespace berth::bench {

// KUBE-SVC-<16 base32 chars>, as kube-proxy names them (a hash of
// "namespace/name:port/protocol"); KUBE-SEP adds the endpoint.
std::string ServiceChain(const Service& service);
std::string EndpointChain(const Service& service, const Endpoint& endpoint);

// A full sync from nothing: every chain and rule, plus the jumps from the
// nat base chains (kube-proxy ensures those separately, once).
std::string FullRestore(const ServiceSet& set);

// One endpoint of `before` replaced (`after`), as a partial sync applies
// it: the service's KUBE-SVC chain rewritten, the new KUBE-SEP chain
// created, the old one flushed and deleted. With `all` set, KUBE-SERVICES
// is rewritten too (`all` must already hold `after`), as kube-proxy does
// for its top-level chains on every sync, partial or not.
std::string ChangeRestore(const Service& before, const Service& after, const ServiceSet* all);

}  // namespace berth::bench
