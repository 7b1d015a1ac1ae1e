// The text of kube-proxy-style nat rules (kube_rules.h).
#include "bench/service-lb/kube_rules.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <set>

namespace berth::bench {
namespace {

constexpr const char* kClusterCidr = "10.244.0.0/16";

uint64_t Fnv1a(const std::string& text, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// 16 base32 characters (80 bits) of a hash of `text`; kube-proxy takes
// them from SHA-256, here any stable spread of names is enough.
std::string ChainSuffix(const std::string& text) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  uint64_t hi = Fnv1a(text, 0xcbf29ce484222325ULL);
  uint64_t lo = Fnv1a(text, 0x84222325cbf29ce4ULL);
  std::string out;
  for (int i = 0; i < 16; ++i) {
    uint64_t bits = i < 12 ? (hi >> (i * 5)) : (lo >> ((i - 12) * 5));
    out += kAlphabet[bits & 31];
  }
  return out;
}

std::string PortName(const Service& s) {
  return s.name + ":http";
}

std::string ServicesRule(const Service& s) {
  return "-A KUBE-SERVICES -d " + s.vip + "/32 -p tcp -m comment --comment \"" + PortName(s) +
         " cluster IP\" -m tcp --dport " + std::to_string(s.port) + " -j " + ServiceChain(s) + "\n";
}

std::string Probability(size_t remaining) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0.10f", 1.0 / static_cast<double>(remaining));
  return buf;
}

void AppendServiceRules(const Service& s, std::string& out) {
  const std::string chain = ServiceChain(s);
  out += "-A " + chain + " ! -s " + kClusterCidr + " -d " + s.vip + "/32 -p tcp -m comment " +
         "--comment \"" + PortName(s) + " cluster IP\" -m tcp --dport " + std::to_string(s.port) +
         " -j KUBE-MARK-MASQ\n";
  const size_t n = s.endpoints.size();
  for (size_t i = 0; i < n; ++i) {
    const Endpoint& ep = s.endpoints[i];
    out += "-A " + chain + " -m comment --comment \"" + PortName(s) + " -> " + ep.str() + "\"";
    if (i + 1 < n) out += " -m statistic --mode random --probability " + Probability(n - i);
    out += " -j " + EndpointChain(s, ep) + "\n";
  }
}

void AppendEndpointRules(const Service& s, const Endpoint& ep, std::string& out) {
  const std::string chain = EndpointChain(s, ep);
  out += "-A " + chain + " -s " + ep.ip + "/32 -m comment --comment \"" + PortName(s) +
         "\" -j KUBE-MARK-MASQ\n";
  out += "-A " + chain + " -p tcp -m comment --comment \"" + PortName(s) +
         "\" -m tcp -j DNAT --to-destination " + ep.str() + "\n";
}

std::string ChainLine(const std::string& chain) {
  return ":" + chain + " - [0:0]\n";
}

// KUBE-SERVICES' rules; the NodePort jump must stay last.
std::string ServicesChainRules(const ServiceSet& set) {
  std::string out;
  for (const Service& s : set.services)
    out += ServicesRule(s);
  out +=
      "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be "
      "the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n";
  return out;
}

}  // namespace

std::string ServiceChain(const Service& service) {
  return "KUBE-SVC-" + ChainSuffix(PortName(service) + "/tcp");
}

std::string EndpointChain(const Service& service, const Endpoint& endpoint) {
  return "KUBE-SEP-" + ChainSuffix(PortName(service) + "/tcp" + endpoint.str());
}

std::string FullRestore(const ServiceSet& set) {
  std::string chains = "*nat\n";
  for (const char* top : {"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ"})
    chains += ChainLine(top);
  std::string rules =
      "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
      "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
      "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j "
      "KUBE-POSTROUTING\n"
      "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"
      "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n"
      "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" "
      "-j MASQUERADE --random-fully\n"
      "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n";
  rules += ServicesChainRules(set);
  for (const Service& s : set.services) {
    chains += ChainLine(ServiceChain(s));
    AppendServiceRules(s, rules);
    for (const Endpoint& ep : s.endpoints) {
      chains += ChainLine(EndpointChain(s, ep));
      AppendEndpointRules(s, ep, rules);
    }
  }
  return chains + rules + "COMMIT\n";
}

std::string ChangeRestore(const Service& before, const Service& after, const ServiceSet* all) {
  std::set<std::string> kept;
  for (const Endpoint& ep : after.endpoints)
    kept.insert(EndpointChain(after, ep));
  std::string chains = "*nat\n";
  std::string rules;
  std::string deletes;
  if (all != nullptr) {
    chains += ChainLine("KUBE-SERVICES");
    rules += ServicesChainRules(*all);
  }
  chains += ChainLine(ServiceChain(after));
  AppendServiceRules(after, rules);
  for (const Endpoint& ep : after.endpoints) {
    bool existed =
        std::find(before.endpoints.begin(), before.endpoints.end(), ep) != before.endpoints.end();
    if (existed) continue;  // unchanged KUBE-SEP chains are not rewritten
    chains += ChainLine(EndpointChain(after, ep));
    AppendEndpointRules(after, ep, rules);
  }
  for (const Endpoint& ep : before.endpoints) {
    std::string chain = EndpointChain(before, ep);
    if (kept.contains(chain)) continue;
    chains += ChainLine(chain);  // flushed first, so that -X may delete it
    deletes += "-X " + chain + "\n";
  }
  return chains + rules + deletes + "COMMIT\n";
}

}  // namespace berth::bench
