#pragma once
// Which pods are bound to each node: upstream's spec.nodeName index on
// the pod informer, kept from the informer's events (a controller calls
// these from its pod handlers) so that a node's pods are found without
// copying the whole pod cache.

#include <boost/json.hpp>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace berth::controlplane::controllers {

class PodsByNode {
 public:
  void Added(const boost::json::object& pod);
  void Updated(const boost::json::object& old, const boost::json::object& now);
  void Deleted(const boost::json::object& pod);
  // The ObjectKeys (namespace/name) of the pods bound to `node`.
  std::vector<std::string> Keys(const std::string& node) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>> pods_;  // node -> pod keys
};

}  // namespace berth::controlplane::controllers
