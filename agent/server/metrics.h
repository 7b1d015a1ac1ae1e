#pragma once
// /metrics: kubelet's HTTP server metrics (kubelet_http_requests_total,
// kubelet_http_inflight_requests, kubelet_http_requests_duration_seconds,
// labelled as upstream's server does), the runtime's pod and container
// counts (kubelet_running_pods, kubelet_running_containers) and the
// process_* metrics of this process.

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "agent/cri/cri_client.h"
#include "agent/server/prometheus.h"

namespace berth::agent::kubelet {

class HttpMetrics {
 public:
  // Counts a request from construction to destruction.
  class InFlight {
   public:
    InFlight(HttpMetrics& m, const std::string& method, const std::string& path);
    ~InFlight();
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    HttpMetrics& m_;
    std::tuple<std::string, std::string, std::string> key_;
    std::chrono::steady_clock::time_point start_;
  };

  void Write(PromText& out) const;

 private:
  static constexpr std::array<double, 11> kBuckets = {.005, .01, .025, .05, .1, .25,
                                                      .5,   1,   2.5,  5,   10};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};
    uint64_t count = 0;
    double sum = 0;
  };
  // (long_running, method, path)
  using Key = std::tuple<std::string, std::string, std::string>;
  mutable std::mutex mu_;
  std::map<Key, uint64_t> total_;
  std::map<Key, int64_t> inflight_;
  std::map<Key, Histogram> duration_;
};

// Running pod sandboxes and containers by state, from CRI.
Status WriteRuntimeMetrics(CriClient& cri, PromText& out);
// process_cpu_seconds_total, process_resident_memory_bytes, ...
void WriteProcessMetrics(PromText& out);

}  // namespace berth::agent::kubelet
