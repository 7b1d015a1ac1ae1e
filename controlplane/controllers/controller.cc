#include "controlplane/controllers/controller.h"

#include <chrono>
#include <exception>

#include "common/log.h"
#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {

Controller::Controller(std::string name, client::ClientConfig config, int workers, RateLimit limit)
    : name_(std::move(name)), config_(std::move(config)), workers_(workers), queue_(limit) {}

Controller::~Controller() {
  Stop();
}

void Controller::Start() {
  for (int i = 0; i < workers_; ++i)
    threads_.emplace_back([this] { Work(); });
}

void Controller::Stop() {
  queue_.ShutDown();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

client::InformerHandlers Controller::QueueActiveNamespaces() {
  client::InformerHandlers h;
  h.added = [this](const boost::json::object& ns) {
    queue_.Add(StringAt(ns, {"metadata", "name"}));
  };
  h.updated = [this](const boost::json::object&, const boost::json::object& ns) {
    if (!BeingDeleted(ns)) queue_.Add(StringAt(ns, {"metadata", "name"}));
  };
  return h;
}

void Controller::Work() {
  while (!CachesSynced()) {
    if (queue_.ShuttingDown()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  client::ApiClient api(config_);
  for (;;) {
    std::optional<std::string> key = queue_.Get();
    if (!key) return;
    Status synced = Ok();
    try {
      synced = Sync(api, *key);
    } catch (const std::exception& e) {  // Boost.JSON throws on a malformed object
      synced = Error(Errc::kInternal, e.what());
    }
    if (synced.ok()) {
      queue_.Forget(*key);
    } else {
      BLOG(kWarn) << name_ << " controller: sync " << *key << ": " << synced.error().str()
                  << " (retry " << queue_.NumRequeues(*key) + 1 << ")";
      queue_.AddRateLimited(*key);
    }
    queue_.Done(*key);
  }
}

}  // namespace berth::controlplane::controllers
