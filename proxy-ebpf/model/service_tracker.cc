// ServiceTracker: objects from the informers, grouped per service; each
// event recomputes only the service it touches, and the difference to that
// service's previous frontends flows through the per-key claims (oldest
// service wins a contested key) into the pending delta.

#include "proxy-ebpf/model/service_tracker.h"

#include <utility>

#include "common/log.h"

namespace berth::proxy {
namespace {

namespace bj = boost::json;

std::string MetaString(const bj::object& object, std::string_view key) {
  const bj::value* meta = object.if_contains("metadata");
  if (meta == nullptr || !meta->is_object()) return {};
  const bj::value* v = meta->get_object().if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string NamespaceOf(const bj::object& object) {
  std::string ns = MetaString(object, "namespace");
  return ns.empty() ? "default" : ns;
}

std::string KeyOf(const bj::object& object) {
  return NamespaceOf(object) + "/" + MetaString(object, "name");
}

// "ns/service" for a slice's kubernetes.io/service-name label; "" without.
std::string OwnerOf(const bj::object& slice) {
  const bj::value* meta = slice.if_contains("metadata");
  const bj::value* labels =
      meta != nullptr && meta->is_object() ? meta->get_object().if_contains("labels") : nullptr;
  if (labels == nullptr || !labels->is_object()) return {};
  const bj::value* name = labels->get_object().if_contains("kubernetes.io/service-name");
  if (name == nullptr || !name->is_string() || name->get_string().empty()) return {};
  return NamespaceOf(slice) + "/" + std::string(name->get_string());
}

std::string Describe(const FrontendKey& key) {
  std::string ip = key.address.v6 ? "[" + key.address.ToString() + "]" : key.address.ToString();
  return ip + ":" + std::to_string(key.port) + "/" + std::string(L4Name(key.protocol)) +
         (key.scope == Scope::kExternal ? " (external)" : "");
}

}  // namespace

ServiceTracker::ServiceTracker(NodeInfo node) : node_(std::move(node)) {}

void ServiceTracker::ServiceUpserted(const boost::json::object& service) {
  std::string key = KeyOf(service);
  if (MetaString(service, "name").empty()) {
    BLOG(kError) << "proxy: service without metadata.name ignored";
    return;
  }
  Claim claim;
  claim.created = MetaString(service, "creationTimestamp");
  claim.unknown_age = claim.created.empty();
  claim.service = key;
  ServiceState& state = services_[key];
  state.object = service;
  if (state.claim != claim) {
    Claim old = std::exchange(state.claim, claim);
    Reclaim(old, state.frontends, claim, state.frontends);
  }
  Refresh(key);
}

void ServiceTracker::ServiceDeleted(const boost::json::object& service) {
  auto it = services_.find(KeyOf(service));
  if (it == services_.end()) return;
  Claim claim = it->second.claim;
  std::map<FrontendKey, Frontend> old = std::move(it->second.frontends);
  services_.erase(it);
  Reclaim(claim, old, claim, {});
}

void ServiceTracker::SliceUpserted(const boost::json::object& slice) {
  std::string slice_key = KeyOf(slice);
  std::string owner = OwnerOf(slice);
  auto prev = slice_owner_.find(slice_key);
  if (prev != slice_owner_.end() && prev->second != owner) RemoveSlice(slice_key);
  if (owner.empty()) return;
  slice_owner_[slice_key] = owner;
  slices_[owner][MetaString(slice, "name")] = slice;
  Refresh(owner);
}

void ServiceTracker::SliceDeleted(const boost::json::object& slice) {
  RemoveSlice(KeyOf(slice));
}

void ServiceTracker::RemoveSlice(const std::string& slice_key) {
  auto owner = slice_owner_.find(slice_key);
  if (owner == slice_owner_.end()) return;
  std::string service = owner->second;
  slice_owner_.erase(owner);
  auto group = slices_.find(service);
  if (group != slices_.end()) {
    group->second.erase(slice_key.substr(slice_key.find('/') + 1));
    if (group->second.empty()) slices_.erase(group);
  }
  Refresh(service);
}

void ServiceTracker::Refresh(const std::string& service) {
  auto it = services_.find(service);
  if (it == services_.end()) return;
  ServiceState& state = it->second;
  std::vector<boost::json::object> slices;
  if (auto group = slices_.find(service); group != slices_.end()) {
    slices.reserve(group->second.size());
    for (const auto& [name, slice] : group->second)
      slices.push_back(slice);
  }
  Result<std::vector<Frontend>> computed = FrontendsOf(state.object, slices, node_);
  if (!computed.ok()) {
    BLOG(kError) << "proxy: service " << service << ": " << computed.error().str()
                 << " (keeping its previous frontends)";
    return;
  }
  std::map<FrontendKey, Frontend> fresh;
  for (Frontend& fe : *computed)
    fresh.emplace(fe.key, std::move(fe));
  state.health_check = HealthCheckOf(state.object, slices, node_);
  std::map<FrontendKey, Frontend> old = std::exchange(state.frontends, std::move(fresh));
  Reclaim(state.claim, old, state.claim, state.frontends);
}

void ServiceTracker::Reclaim(const Claim& old_claim, const std::map<FrontendKey, Frontend>& old,
                             const Claim& new_claim, const std::map<FrontendKey, Frontend>& fresh) {
  std::set<FrontendKey> touched;
  for (const auto& [key, fe] : old) {
    auto it = claims_.find(key);
    if (it == claims_.end()) continue;
    it->second.erase(old_claim);
    if (it->second.empty()) claims_.erase(it);
    touched.insert(key);
  }
  for (const auto& [key, fe] : fresh) {
    std::set<Claim>& claimants = claims_[key];
    claimants.insert(new_claim);
    if (claimants.size() > 1 && !old.contains(key)) {
      BLOG(kWarn) << "proxy: " << Describe(key) << " of " << new_claim.service
                  << " is also claimed by another service; the oldest, "
                  << claimants.begin()->service << ", serves it";
    }
    touched.insert(key);
  }
  for (const FrontendKey& key : touched)
    Resolve(key);
}

void ServiceTracker::Resolve(const FrontendKey& key) {
  const Frontend* now = nullptr;
  if (auto claim = claims_.find(key); claim != claims_.end())
    now = &services_.at(claim->second.begin()->service).frontends.at(key);
  auto current = effective_.find(key);
  bool had = current != effective_.end();
  if (now == nullptr && !had) return;
  if (now != nullptr && had && current->second == *now) return;
  auto [pending, inserted] = pending_.try_emplace(key);
  if (inserted) pending->second.was_reported = had;
  if (now != nullptr) {
    pending->second.frontend = *now;
    effective_.insert_or_assign(key, *now);
  } else {
    pending->second.frontend.reset();
    effective_.erase(current);
    // Added and removed within one delta: the consumer never hears of it.
    if (!pending->second.was_reported) pending_.erase(pending);
  }
}

FrontendDelta ServiceTracker::TakeDelta() {
  FrontendDelta delta;
  for (auto& [key, pending] : pending_) {
    if (pending.frontend)
      delta.upserted.push_back(std::move(*pending.frontend));
    else if (pending.was_reported)
      delta.removed.push_back(key);
  }
  pending_.clear();
  return delta;
}

std::vector<Frontend> ServiceTracker::AllFrontends() const {
  std::vector<Frontend> out;
  out.reserve(effective_.size());
  for (const auto& [key, fe] : effective_)
    out.push_back(fe);
  return out;
}

std::vector<HealthCheck> ServiceTracker::HealthChecks() const {
  std::vector<HealthCheck> out;
  for (const auto& [key, state] : services_) {
    if (state.health_check) out.push_back(*state.health_check);
  }
  return out;
}

}  // namespace berth::proxy
