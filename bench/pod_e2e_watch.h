#pragma once
// bench/pod-e2e: pods created through the API and timed by a watch. An
// Informer on the bench's namespace notes, per pod, when the watch first
// showed it bound (spec.nodeName), Running (status.phase) and Running with
// the Ready condition True; the creating side notes when its POST went out
// and when it was answered. All times are CLOCK_MONOTONIC nanoseconds of
// this process.

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "controlplane/client/informer.h"

namespace berth::bench::pod_e2e {

struct PodTimes {
  int64_t create_sent = 0;      // the POST went out
  int64_t create_answered = 0;  // 201 came back
  int64_t bound = 0;            // the watch first showed spec.nodeName
  int64_t running = 0;          // ... status.phase Running
  int64_t ready = 0;            // ... Running and condition Ready True
  bool gone = false;            // deleted from the API
  std::string failure;          // a terminal phase or a create error
};

class PodClock {
 public:
  // Watches pods in `ns` with `admin`'s identity; Start waits for the
  // first list.
  PodClock(const controlplane::client::ClientConfig& admin, std::string ns);
  ~PodClock();  // Stop()
  PodClock(const PodClock&) = delete;
  PodClock& operator=(const PodClock&) = delete;

  Status Start();
  void Stop();

  // POSTs the pod (a Pod object as JSON) with `api`, noting its times.
  Status Create(controlplane::client::ApiClient& api, const std::string& name,
                const std::string& pod_json);
  // Waits until every one of `names` is Running and Ready (or failed),
  // until `deadline_ns`; true when all got there without failing.
  bool WaitReady(const std::vector<std::string>& names, int64_t deadline_ns);
  // Waits until none of `names` is in the API any more.
  bool WaitGone(const std::vector<std::string>& names, int64_t deadline_ns);
  PodTimes Times(const std::string& name) const;
  // Forgets `names` (after they are gone), so a name can be used again.
  void Forget(const std::vector<std::string>& names);

 private:
  void Observe(const boost::json::object& pod);
  void ObserveDeleted(const boost::json::object& pod);

  std::string ns_;
  std::unique_ptr<controlplane::client::ApiClient> client_;
  std::unique_ptr<controlplane::client::Informer> informer_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, PodTimes> pods_;
};

// A bare pod of the demo image on `node` (nodeSelector on its hostname
// label, through the scheduler), labelled bench=pod-e2e.
std::string DemoPod(const std::string& name, const std::string& node, const std::string& image);

}  // namespace berth::bench::pod_e2e
