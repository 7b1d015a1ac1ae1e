#pragma once
// Informers shared by the controllers of one manager, as client-go's
// shared informer factory shares them: one client::Informer (one list and
// one watch) per collection URL, however many controllers look at it,
// each event fanned out to every controller's handlers in order. The
// informers list through one ApiClient of their own; each watch has its
// own connection.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controlplane/client/api_client.h"
#include "controlplane/client/informer.h"

namespace berth::controlplane::controllers {

class SharedInformers {
 public:
  explicit SharedInformers(client::ClientConfig config,
                           std::chrono::seconds watch_timeout = std::chrono::seconds(300));
  ~SharedInformers();  // Stop()
  SharedInformers(const SharedInformers&) = delete;
  SharedInformers& operator=(const SharedInformers&) = delete;

  // Adds `handlers` to the informer of `collection` (a list URL, query
  // included; made on first use) and returns that informer for Synced,
  // Get and Snapshot. Handlers run on the informer's thread and must not
  // block or call Register. Registered after the informer started, they
  // are first told of every cached object as added, as client-go does.
  const client::Informer& Register(const std::string& collection,
                                   client::InformerHandlers handlers);

  // Starts the informers; one registered later starts when made.
  void Start();
  void Stop();
  // Every informer has listed once.
  bool Synced() const;

 private:
  struct Shared {
    std::mutex mu;  // held while handlers run, so a late Register misses nothing
    std::vector<client::InformerHandlers> handlers;
    std::unique_ptr<client::Informer> informer;
    bool started = false;  // guarded by SharedInformers::mu_
  };

  client::ApiClient client_;
  std::chrono::seconds watch_timeout_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Shared>> informers_;  // by collection
  bool started_ = false;
};

}  // namespace berth::controlplane::controllers
