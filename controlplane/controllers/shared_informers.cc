#include "controlplane/controllers/shared_informers.h"

namespace berth::controlplane::controllers {

namespace bj = boost::json;

SharedInformers::SharedInformers(client::ClientConfig config, std::chrono::seconds watch_timeout)
    : client_(std::move(config)), watch_timeout_(watch_timeout) {}

SharedInformers::~SharedInformers() {
  Stop();
}

const client::Informer& SharedInformers::Register(const std::string& collection,
                                                  client::InformerHandlers handlers) {
  std::lock_guard lock(mu_);
  std::unique_ptr<Shared>& slot = informers_[collection];
  if (!slot) {
    slot = std::make_unique<Shared>();
    Shared* shared = slot.get();
    client::InformerHandlers fan_out;
    fan_out.added = [shared](const bj::object& obj) {
      std::lock_guard hold(shared->mu);
      for (const client::InformerHandlers& h : shared->handlers)
        if (h.added) h.added(obj);
    };
    fan_out.updated = [shared](const bj::object& old, const bj::object& now) {
      std::lock_guard hold(shared->mu);
      for (const client::InformerHandlers& h : shared->handlers)
        if (h.updated) h.updated(old, now);
    };
    fan_out.deleted = [shared](const bj::object& obj) {
      std::lock_guard hold(shared->mu);
      for (const client::InformerHandlers& h : shared->handlers)
        if (h.deleted) h.deleted(obj);
    };
    shared->informer =
        std::make_unique<client::Informer>(client_, collection, std::move(fan_out), watch_timeout_);
  }
  Shared& shared = *slot;
  {
    std::lock_guard hold(shared.mu);
    // The cache changes before its handlers run, and they wait for this
    // lock: whatever the snapshot lacks is still to be told.
    if (shared.started && handlers.added) {
      for (const auto& [key, obj] : shared.informer->Snapshot())
        handlers.added(obj);
    }
    shared.handlers.push_back(std::move(handlers));
  }
  if (started_ && !shared.started) {
    shared.started = true;
    shared.informer->Start();
  }
  return *shared.informer;
}

void SharedInformers::Start() {
  std::lock_guard lock(mu_);
  started_ = true;
  for (auto& [collection, shared] : informers_) {
    if (shared->started) continue;
    shared->started = true;
    shared->informer->Start();
  }
}

void SharedInformers::Stop() {
  std::lock_guard lock(mu_);
  // Stop joins the informer's thread, which may be waiting for shared->mu
  // in a handler: not held here.
  for (auto& [collection, shared] : informers_)
    shared->informer->Stop();
}

bool SharedInformers::Synced() const {
  std::lock_guard lock(mu_);
  for (const auto& [collection, shared] : informers_)
    if (!shared->informer->Synced()) return false;
  return true;
}

}  // namespace berth::controlplane::controllers
