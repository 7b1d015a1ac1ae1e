#include "controlplane/controllers/pods_by_node.h"

#include "controlplane/client/informer.h"
#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

std::string NodeOf(const boost::json::object& pod) {
  return StringAt(pod, {"spec", "nodeName"});
}

}  // namespace

void PodsByNode::Added(const boost::json::object& pod) {
  std::string node = NodeOf(pod);
  if (node.empty()) return;
  std::lock_guard lock(mu_);
  pods_[node].insert(client::ObjectKey(pod));
}

void PodsByNode::Updated(const boost::json::object& old, const boost::json::object& now) {
  if (NodeOf(old) == NodeOf(now)) return;
  Deleted(old);
  Added(now);
}

void PodsByNode::Deleted(const boost::json::object& pod) {
  std::string node = NodeOf(pod);
  if (node.empty()) return;
  std::lock_guard lock(mu_);
  auto it = pods_.find(node);
  if (it == pods_.end()) return;
  it->second.erase(client::ObjectKey(pod));
  if (it->second.empty()) pods_.erase(it);
}

std::vector<std::string> PodsByNode::Keys(const std::string& node) const {
  std::lock_guard lock(mu_);
  auto it = pods_.find(node);
  if (it == pods_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

}  // namespace berth::controlplane::controllers
