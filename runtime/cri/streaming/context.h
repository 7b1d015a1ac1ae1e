#pragma once
// What every connection handler of the server shares.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "runtime/cri/streaming/backend.h"
#include "runtime/cri/streaming/server.h"

namespace berth::cri::streaming {

namespace asio = boost::asio;

// Lets any thread post to the event loop for as long as it exists
// (backends report process exits from their own threads).
class LoopHandle {
 public:
  explicit LoopHandle(asio::io_context& io) : io_(&io) {}
  bool Post(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    if (io_ == nullptr) return false;
    asio::post(*io_, std::move(fn));
    return true;
  }
  void Detach() {
    std::lock_guard lock(mu_);
    io_ = nullptr;
  }

 private:
  std::mutex mu_;
  asio::io_context* io_;
};

// Live upgraded connections, so that Stop() can tear them down (which also
// breaks the handler <-> session reference cycles that normally end when
// the connection closes). Event loop thread only.
class ConnectionRegistry {
 public:
  void Add(std::weak_ptr<void> alive, std::function<void()> abort) {
    std::erase_if(entries_, [](const Entry& e) { return e.alive.expired(); });
    entries_.push_back({std::move(alive), std::move(abort)});
  }
  void AbortAll() {
    auto entries = std::move(entries_);
    entries_.clear();
    for (auto& e : entries) {
      if (!e.alive.expired()) e.abort();
    }
  }

 private:
  struct Entry {
    std::weak_ptr<void> alive;
    std::function<void()> abort;
  };
  std::vector<Entry> entries_;
};

struct ServerContext {
  asio::io_context& io;
  BackendPtr backend;
  Config config;
  std::shared_ptr<LoopHandle> loop;
  ConnectionRegistry connections;
};

}  // namespace berth::cri::streaming
