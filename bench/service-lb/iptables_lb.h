#pragma once
// The peer: kube-proxy's iptables mode, its rules loaded with
// iptables-restore into the bench's netns (kube_rules.h for the text).

#include <chrono>
#include <string>

#include "bench/service-lb/service_set.h"
#include "common/error.h"

namespace berth::bench {

class IptablesLb {
 public:
  // `restore` is iptables-restore or a backend's own (iptables-nft-restore,
  // iptables-legacy-restore). Each stage runs in a fresh netns (no reset).
  // A run of iptables-restore longer than `timeout` is killed and fails
  // with kDeadlineExceeded (the nft backend takes minutes at 10,000
  // services).
  IptablesLb(std::string restore, std::chrono::seconds timeout);

  // "iptables-restore v1.8.9 (nf_tables)".
  Result<std::string> Version() const;
  // Full sync from empty; milliseconds the iptables-restore run took.
  Result<double> Program(const ServiceSet& set) const;
  // One endpoint of set.services[set.changed] replaced, as a partial sync;
  // with_services also rewrites KUBE-SERVICES. `set` is updated.
  Result<double> Change(ServiceSet& set, bool with_services) const;

 private:
  Result<double> Restore(const std::string& text, const std::string& what) const;

  std::string restore_;
  std::chrono::seconds timeout_;
};

}  // namespace berth::bench
