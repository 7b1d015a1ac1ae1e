#pragma once
// Object keys grouped by a value each object yields (a namespace, a
// Service a slice names), as client-go's Indexer keeps one index: what
// a controller uses to find, say, a namespace's pods without copying
// the whole informer cache. An informer's handlers keep it current; the
// objects themselves are read from the informer by key.

#include <boost/json.hpp>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace berth::controlplane::controllers {

class KeyIndex {
 public:
  // The value an object is filed under; "" files it nowhere.
  using IndexFunc = std::function<std::string(const boost::json::object&)>;

  explicit KeyIndex(IndexFunc index) : index_(std::move(index)) {}
  KeyIndex(const KeyIndex&) = delete;
  KeyIndex& operator=(const KeyIndex&) = delete;

  void Add(const boost::json::object& obj);
  void Update(const boost::json::object& old, const boost::json::object& now);
  void Delete(const boost::json::object& obj);
  // The keys (namespace/name) of the objects filed under `value`.
  std::vector<std::string> Keys(const std::string& value) const;

 private:
  IndexFunc index_;
  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>> keys_;  // value -> object keys
};

}  // namespace berth::controlplane::controllers
