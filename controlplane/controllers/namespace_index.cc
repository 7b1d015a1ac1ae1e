#include "controlplane/controllers/namespace_index.h"

#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {

namespace bj = boost::json;

void NamespaceIndex::Add(const bj::object& obj) {
  std::lock_guard lock(mu_);
  keys_[StringAt(obj, {"metadata", "namespace"})].insert(client::ObjectKey(obj));
}

void NamespaceIndex::Remove(const bj::object& obj) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(StringAt(obj, {"metadata", "namespace"}));
  if (it == keys_.end()) return;
  it->second.erase(client::ObjectKey(obj));
  if (it->second.empty()) keys_.erase(it);
}

std::vector<bj::object> NamespaceIndex::List(const client::Informer& informer,
                                             const std::string& ns) const {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mu_);
    auto it = keys_.find(ns);
    if (it != keys_.end()) keys.assign(it->second.begin(), it->second.end());
  }
  std::vector<bj::object> out;
  out.reserve(keys.size());
  for (const std::string& key : keys) {
    // Gone from the cache since: its deleted handler is on its way.
    if (std::optional<bj::object> obj = informer.Get(key)) out.push_back(std::move(*obj));
  }
  return out;
}

}  // namespace berth::controlplane::controllers
