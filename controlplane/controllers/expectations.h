#pragma once
// Upstream's ControllerExpectations (with UIDTrackingControllerExpectations'
// deletion keys): what a controller is waiting to see in its informers
// after creating or deleting pods, so that it does not create or delete
// them again while its cache lags. A controller that created n pods for
// a key expects n creations; each pod added to the cache lowers that by
// one. One that deleted pods expects those pod keys to go (or to get a
// deletionTimestamp). Until both counts reach zero, or the record is five
// minutes old (a watch event was lost), the key is not "satisfied" and
// the controller does not manage its replicas.

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace berth::controlplane::controllers {

class Expectations {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Expectations(Clock::duration ttl = std::chrono::minutes(5)) : ttl_(ttl) {}

  // No record, a fulfilled one, or an expired one.
  bool Satisfied(const std::string& key) const;
  void ExpectCreations(const std::string& key, int count);
  void ExpectDeletions(const std::string& key, const std::vector<std::string>& pod_keys);
  void CreationObserved(const std::string& key);
  // A creation that will never be seen (the create failed or was skipped).
  void CreationSkipped(const std::string& key) { CreationObserved(key); }
  void DeletionObserved(const std::string& key, const std::string& pod_key);
  void Delete(const std::string& key);

 private:
  struct Record {
    int add = 0;
    int del = 0;
    std::set<std::string> deleting;  // pod keys
    Clock::time_point at;
  };

  Clock::duration ttl_;
  mutable std::mutex mu_;
  std::map<std::string, Record> records_;
};

}  // namespace berth::controlplane::controllers
