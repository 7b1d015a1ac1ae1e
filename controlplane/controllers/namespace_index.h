#pragma once
// An informer's object keys by namespace, kept by its handlers, so that a
// controller lists one namespace's objects without copying the whole
// cache (client::Informer::Snapshot copies every object).

#include <boost/json.hpp>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "controlplane/client/informer.h"

namespace berth::controlplane::controllers {

class NamespaceIndex {
 public:
  // From the informer's added and updated handlers.
  void Add(const boost::json::object& obj);
  // From its deleted handler.
  void Remove(const boost::json::object& obj);
  // The objects of `ns` in `informer`'s cache.
  std::vector<boost::json::object> List(const client::Informer& informer,
                                        const std::string& ns) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>> keys_;  // namespace -> keys
};

}  // namespace berth::controlplane::controllers
