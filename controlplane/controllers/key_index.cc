#include "controlplane/controllers/key_index.h"

#include "controlplane/client/informer.h"

namespace berth::controlplane::controllers {

void KeyIndex::Add(const boost::json::object& obj) {
  std::string value = index_(obj);
  if (value.empty()) return;
  std::lock_guard lock(mu_);
  keys_[value].insert(client::ObjectKey(obj));
}

void KeyIndex::Update(const boost::json::object& old, const boost::json::object& now) {
  if (index_(old) == index_(now)) return Add(now);
  Delete(old);
  Add(now);
}

void KeyIndex::Delete(const boost::json::object& obj) {
  std::string value = index_(obj);
  if (value.empty()) return;
  std::lock_guard lock(mu_);
  auto it = keys_.find(value);
  if (it == keys_.end()) return;
  it->second.erase(client::ObjectKey(obj));
  if (it->second.empty()) keys_.erase(it);
}

std::vector<std::string> KeyIndex::Keys(const std::string& value) const {
  std::lock_guard lock(mu_);
  auto it = keys_.find(value);
  if (it == keys_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

}  // namespace berth::controlplane::controllers
