#include "controlplane/controllers/endpointslice_tracker.h"

#include <charconv>

#include "controlplane/client/informer.h"
#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

std::string Uid(const bj::object& obj) {
  return StringAt(obj, {"metadata", "uid"});
}

}  // namespace

int64_t SliceVersion(const bj::object& slice) {
  std::string rv = StringAt(slice, {"metadata", "resourceVersion"});
  int64_t version = 0;
  std::from_chars(rv.data(), rv.data() + rv.size(), version);
  return version;
}

std::string SliceServiceKey(const bj::object& slice) {
  std::string service = StringAt(slice, {"metadata", "labels", "kubernetes.io/service-name"});
  if (service.empty()) return "";
  return StringAt(slice, {"metadata", "namespace"}) + "/" + service;
}

bool EndpointSliceTracker::Has(const bj::object& slice) const {
  std::lock_guard lock(mu_);
  auto it = by_service_.find(SliceServiceKey(slice));
  return it != by_service_.end() && it->second.contains(Uid(slice));
}

bool EndpointSliceTracker::ShouldSync(const bj::object& slice) const {
  std::lock_guard lock(mu_);
  auto it = by_service_.find(SliceServiceKey(slice));
  if (it == by_service_.end()) return true;
  auto v = it->second.find(Uid(slice));
  return v == it->second.end() || SliceVersion(slice) > v->second;
}

bool EndpointSliceTracker::StaleSlices(const bj::object& service,
                                       const std::vector<bj::object>& slices) {
  std::lock_guard lock(mu_);
  const std::string key = client::ObjectKey(service);
  const std::string uid = Uid(service);
  if (auto known = service_uids_.find(key); known != service_uids_.end() &&
                                            !known->second.empty() && !uid.empty() &&
                                            known->second != uid) {
    by_service_.erase(key);
  }
  service_uids_[key] = uid;
  auto it = by_service_.find(key);
  if (it == by_service_.end()) return false;
  const Versions& versions = it->second;
  std::map<std::string, int64_t> provided;
  for (const bj::object& slice : slices) {
    provided[Uid(slice)] = SliceVersion(slice);
    auto v = versions.find(Uid(slice));
    if (v != versions.end() &&
        (v->second == kDeletionExpected || v->second > SliceVersion(slice))) {
      return true;
    }
  }
  for (const auto& [slice_uid, version] : versions) {
    if (version != kDeletionExpected && !provided.contains(slice_uid)) return true;
  }
  return false;
}

void EndpointSliceTracker::Update(const bj::object& slice) {
  std::lock_guard lock(mu_);
  by_service_[SliceServiceKey(slice)][Uid(slice)] = SliceVersion(slice);
}

void EndpointSliceTracker::ExpectDeletion(const bj::object& slice) {
  std::lock_guard lock(mu_);
  by_service_[SliceServiceKey(slice)][Uid(slice)] = kDeletionExpected;
}

bool EndpointSliceTracker::HandleDeletion(const bj::object& slice) {
  std::lock_guard lock(mu_);
  auto it = by_service_.find(SliceServiceKey(slice));
  if (it == by_service_.end()) return true;
  auto v = it->second.find(Uid(slice));
  if (v == it->second.end()) return true;
  bool expected = v->second == kDeletionExpected;
  it->second.erase(v);
  return expected;
}

void EndpointSliceTracker::DeleteService(const std::string& key) {
  std::lock_guard lock(mu_);
  by_service_.erase(key);
  service_uids_.erase(key);
}

}  // namespace berth::controlplane::controllers
