#pragma once
// What every controller has: a WorkQueue of keys its informer handlers
// fill, and worker threads that take one key at a time and Sync it, as
// client-go controllers run. Each worker has an ApiClient (a connection)
// of its own, so workers do not wait on each other's requests. Workers
// start syncing once the controller's informers have listed. A failed
// Sync is logged and retried with the queue's per-key backoff; one that
// succeeds resets it.
//
// A subclass registers its informer handlers in its constructor and
// calls Stop() in its destructor (workers call its Sync).

#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/work_queue.h"

namespace berth::controlplane::controllers {

class Controller {
 public:
  Controller(std::string name, client::ClientConfig config, int workers, RateLimit limit = {});
  virtual ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Virtual for controllers with threads of their own besides the workers.
  virtual void Start();
  // Ends the workers (a Sync under way finishes first).
  virtual void Stop();
  const std::string& name() const { return name_; }

 protected:
  // Makes the world right for `key`, using `api` (the worker's own).
  virtual Status Sync(client::ApiClient& api, const std::string& key) = 0;
  // The informers the controller reads have listed.
  virtual bool CachesSynced() const = 0;

  WorkQueue& queue() { return queue_; }
  // Handlers that queue the name of every namespace added, or updated
  // while not being deleted: for controllers that keep something in
  // every namespace.
  client::InformerHandlers QueueActiveNamespaces();

 private:
  void Work();

  std::string name_;
  client::ClientConfig config_;
  int workers_;
  WorkQueue queue_;
  std::vector<std::thread> threads_;
};

}  // namespace berth::controlplane::controllers
