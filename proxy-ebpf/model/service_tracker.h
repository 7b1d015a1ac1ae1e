#pragma once
// The proxy's view of Services and EndpointSlices as informers report
// them, turned into deltas of frontends: after any events, TakeDelta()
// says which frontends appeared or changed and which keys went away, for
// only the services those events touched (never a full recompute).

#include <boost/json.hpp>
#include <compare>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "proxy-ebpf/model/frontends.h"

namespace berth::proxy {

struct FrontendDelta {
  std::vector<Frontend> upserted;    // new or changed
  std::vector<FrontendKey> removed;  // gone (never also in upserted)
  bool empty() const { return upserted.empty() && removed.empty(); }
};

class ServiceTracker {
 public:
  explicit ServiceTracker(NodeInfo node);

  void ServiceUpserted(const boost::json::object& service);
  void ServiceDeleted(const boost::json::object& service);
  void SliceUpserted(const boost::json::object& slice);
  void SliceDeleted(const boost::json::object& slice);

  // What changed since the last call.
  FrontendDelta TakeDelta();
  // Every frontend now, one per key.
  std::vector<Frontend> AllFrontends() const;
  std::vector<HealthCheck> HealthChecks() const;

 private:
  // A service's claim on a key. When services collide on a key the least
  // claim serves it: the oldest (creationTimestamp, objects without one
  // last), then ns/name.
  struct Claim {
    bool unknown_age = false;
    std::string created;
    std::string service;
    auto operator<=>(const Claim&) const = default;
  };
  struct ServiceState {
    boost::json::object object;
    Claim claim;
    // The last frontends FrontendsOf gave (kept when it later fails).
    std::map<FrontendKey, Frontend> frontends;
    std::optional<HealthCheck> health_check;
  };
  // A key's change since the last TakeDelta.
  struct Pending {
    bool was_reported = false;         // the consumer held the key at the last TakeDelta
    std::optional<Frontend> frontend;  // nullopt: removed
  };

  void Refresh(const std::string& service);
  void Reclaim(const Claim& old_claim, const std::map<FrontendKey, Frontend>& old,
               const Claim& new_claim, const std::map<FrontendKey, Frontend>& fresh);
  void Resolve(const FrontendKey& key);
  void RemoveSlice(const std::string& slice_key);

  NodeInfo node_;
  std::map<std::string, ServiceState> services_;  // by ns/name
  // ns/service-name -> slice name -> slice; kept while the service is absent.
  std::map<std::string, std::map<std::string, boost::json::object>> slices_;
  std::map<std::string, std::string> slice_owner_;  // slice ns/name -> ns/service-name
  std::map<FrontendKey, std::set<Claim>> claims_;   // never an empty set
  std::map<FrontendKey, Frontend> effective_;       // each key's winner: AllFrontends
  std::map<FrontendKey, Pending> pending_;
};

}  // namespace berth::proxy
