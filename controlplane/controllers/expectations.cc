#include "controlplane/controllers/expectations.h"

namespace berth::controlplane::controllers {

bool Expectations::Satisfied(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return true;
  const Record& r = it->second;
  if (r.add <= 0 && r.del <= 0) return true;
  return Clock::now() - r.at > ttl_;
}

void Expectations::ExpectCreations(const std::string& key, int count) {
  std::lock_guard lock(mu_);
  records_[key] = Record{count, 0, {}, Clock::now()};
}

void Expectations::ExpectDeletions(const std::string& key,
                                   const std::vector<std::string>& pod_keys) {
  std::lock_guard lock(mu_);
  Record r{0, static_cast<int>(pod_keys.size()), {}, Clock::now()};
  r.deleting.insert(pod_keys.begin(), pod_keys.end());
  records_[key] = std::move(r);
}

void Expectations::CreationObserved(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it != records_.end()) --it->second.add;
}

void Expectations::DeletionObserved(const std::string& key, const std::string& pod_key) {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return;
  if (it->second.deleting.erase(pod_key) > 0) --it->second.del;
}

void Expectations::Delete(const std::string& key) {
  std::lock_guard lock(mu_);
  records_.erase(key);
}

}  // namespace berth::controlplane::controllers
