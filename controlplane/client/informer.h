#pragma once
// An informer: a local copy of one resource collection kept current by
// list + watch, as client-go's reflector keeps it. It lists (in pages),
// then watches from the list's resourceVersion with bookmarks; when the
// stream ends it watches again from the last revision seen, and when
// that revision is gone (410 Expired) it lists again and reports the
// difference. Handlers run on the informer's thread, in event order.

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/client/api_client.h"

namespace berth::controlplane::client {

struct InformerHandlers {
  std::function<void(const boost::json::object&)> added;
  std::function<void(const boost::json::object& old, const boost::json::object& now)> updated;
  std::function<void(const boost::json::object&)> deleted;
};

class Informer {
 public:
  // `collection`: the list URL, e.g. "/api/v1/pods" or
  // "/apis/apps/v1/namespaces/ns/deployments" (a query may follow).
  // Each watch asks the server to end it after `watch_timeout` (client-go
  // picks 5-10 min), and is then resumed.
  Informer(ApiClient& client, std::string collection, InformerHandlers handlers,
           std::chrono::seconds watch_timeout = std::chrono::seconds(300));
  ~Informer();  // Stop()
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void Start();
  void Stop();
  // True once the first list is in the cache and the handlers were told of it.
  bool Synced() const;
  // A copy of the cache: namespace/name -> object.
  std::map<std::string, boost::json::object> Snapshot() const;
  // One cached object by its ObjectKey; nullopt when not cached.
  std::optional<boost::json::object> Get(const std::string& key) const;
  // How many lists were made (1 + relists after a 410), for tests.
  int lists() const;

 private:
  void Run();
  // Lists everything and reconciles the cache; the list's revision.
  Result<std::string> Relist();
  // Watches from `rv`, applying events; returns the last revision seen,
  // or kOutOfRange when the server answered 410.
  Result<std::string> WatchFrom(std::string rv);

  ApiClient& client_;
  std::string collection_;
  InformerHandlers handlers_;
  std::chrono::seconds watch_timeout_;
  mutable std::mutex mu_;
  std::map<std::string, boost::json::object> cache_;
  bool synced_ = false;
  int lists_ = 0;
  bool stopping_ = false;
  std::unique_ptr<WatchStream> watch_;  // the open stream, to cancel
  std::thread thread_;
};

// namespace/name of an object ("name" for a cluster-scoped one).
std::string ObjectKey(const boost::json::object& obj);

}  // namespace berth::controlplane::client
