#pragma once
// Records core/v1 Events about API objects, as client-go's event
// broadcaster does for controllers: Record returns at once, a thread of
// the recorder's own writes them. The same event (object, type, reason,
// message) recorded again within ten minutes bumps the count and
// lastTimestamp of the first one instead of making another, which is
// what `kubectl describe` shows as "(x3 over 2m)". When the queue is
// full, events are dropped with a warning rather than slowing the caller.

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "controlplane/client/api_client.h"

namespace berth::controlplane::client {

// The object an event is about (involvedObject).
struct ObjectRef {
  std::string api_version;  // "v1", "apps/v1"
  std::string kind;         // "Pod"
  std::string namespace_;   // "" for cluster-scoped objects (their events go to "default")
  std::string name;
  std::string uid;
  std::string field_path = {};  // "spec.containers{app}" for an event about one container

  // From an object's apiVersion, kind and metadata.
  static ObjectRef Of(const boost::json::object& obj);
};

class EventRecorder {
 public:
  // `component`: source.component and reportingComponent ("default-scheduler").
  // `host`: source.host and reportingInstance ("" = this machine's name;
  // kubelet passes its node name).
  EventRecorder(ClientConfig config, std::string component, size_t queue_limit = 10000,
                std::string host = "");
  ~EventRecorder();  // writes what is queued, then stops
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // `type`: "Normal" or "Warning".
  void Record(const ObjectRef& object, const std::string& type, const std::string& reason,
              const std::string& message);
  // Waits until every event recorded so far was written (tests, shutdown).
  void Flush();

 private:
  struct Pending {
    ObjectRef object;
    std::string type, reason, message;
    std::string timestamp;
  };
  struct Written {
    std::string namespace_, name;
    int64_t count = 1;
    std::chrono::steady_clock::time_point at;
  };
  void Run();
  void Write(const Pending& e);

  ApiClient client_;
  std::string component_;
  std::string host_;
  size_t queue_limit_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  size_t in_flight_ = 0;
  bool stopping_ = false;
  std::map<std::string, Written> recent_;  // by object uid/type/reason/message
  std::chrono::steady_clock::time_point last_sweep_;
  std::thread thread_;
};

}  // namespace berth::controlplane::client
