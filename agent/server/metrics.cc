#include "agent/server/metrics.h"

#include "agent/server/node_stats.h"
#include "agent/server/routes.h"

namespace berth::agent::kubelet {
namespace {

// Upstream's isLongRunningRequest looks the bucket up in a map keyed
// "portforward" while the bucket is "portForward": port-forwards count as
// short requests there, and here.
std::string LongRunning(const std::string& bucket) {
  return bucket == "exec" || bucket == "attach" || bucket == "portforward" || bucket == "debug"
             ? "true"
             : "false";
}

std::string MethodBucket(const std::string& method) {
  for (const char* m : {"OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT"})
    if (method == m) return method;
  return "other";
}

Labels LabelsOf(const std::tuple<std::string, std::string, std::string>& k) {
  return {{"long_running", std::get<0>(k)},
          {"method", std::get<1>(k)},
          {"path", std::get<2>(k)},
          {"server_type", "readwrite"}};
}

}  // namespace

HttpMetrics::InFlight::InFlight(HttpMetrics& m, const std::string& method, const std::string& path)
    : m_(m), start_(std::chrono::steady_clock::now()) {
  std::string bucket = MetricsBucket(path);
  key_ = {LongRunning(bucket), MethodBucket(method), bucket};
  std::lock_guard lock(m_.mu_);
  ++m_.total_[key_];
  ++m_.inflight_[key_];
}

HttpMetrics::InFlight::~InFlight() {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::lock_guard lock(m_.mu_);
  --m_.inflight_[key_];
  Histogram& h = m_.duration_[key_];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++h.counts[i];
  ++h.count;
  h.sum += seconds;
}

void HttpMetrics::Write(PromText& out) const {
  std::lock_guard lock(mu_);
  out.Family("kubelet_http_inflight_requests", "[ALPHA] Number of the inflight http requests",
             "gauge");
  for (const auto& [k, v] : inflight_)
    out.Sample("kubelet_http_inflight_requests", LabelsOf(k), static_cast<double>(v));
  out.Family("kubelet_http_requests_duration_seconds",
             "[ALPHA] Duration in seconds to serve http requests", "histogram");
  for (const auto& [k, h] : duration_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      Labels l = LabelsOf(k);
      l.emplace_back("le", FormatPromValue(kBuckets[i]));
      out.Sample("kubelet_http_requests_duration_seconds_bucket", l,
                 static_cast<double>(h.counts[i]));
    }
    Labels inf = LabelsOf(k);
    inf.emplace_back("le", "+Inf");
    out.Sample("kubelet_http_requests_duration_seconds_bucket", inf, static_cast<double>(h.count));
    out.Sample("kubelet_http_requests_duration_seconds_sum", LabelsOf(k), h.sum);
    out.Sample("kubelet_http_requests_duration_seconds_count", LabelsOf(k),
               static_cast<double>(h.count));
  }
  out.Family("kubelet_http_requests_total",
             "[ALPHA] Number of the http requests received since the server started", "counter");
  for (const auto& [k, v] : total_)
    out.Sample("kubelet_http_requests_total", LabelsOf(k), static_cast<double>(v));
}

Status WriteRuntimeMetrics(CriClient& cri, PromText& out) {
  v1::ListPodSandboxRequest sreq;
  sreq.mutable_filter()->mutable_state()->set_state(v1::SANDBOX_READY);
  v1::ListPodSandboxResponse sandboxes;
  BERTH_TRY(cri.Call(&v1::RuntimeService::Stub::ListPodSandbox, sreq, &sandboxes, "ListPodSandbox",
                     std::chrono::seconds(30)));
  v1::ListContainersResponse containers;
  BERTH_TRY(cri.Call(&v1::RuntimeService::Stub::ListContainers, v1::ListContainersRequest(),
                     &containers, "ListContainers", std::chrono::seconds(30)));
  std::map<std::string, uint64_t> by_state = {
      {"created", 0}, {"exited", 0}, {"running", 0}, {"unknown", 0}};
  for (const v1::Container& c : containers.containers()) {
    switch (c.state()) {
      case v1::CONTAINER_CREATED:
        ++by_state["created"];
        break;
      case v1::CONTAINER_RUNNING:
        ++by_state["running"];
        break;
      case v1::CONTAINER_EXITED:
        ++by_state["exited"];
        break;
      default:
        ++by_state["unknown"];
        break;
    }
  }
  out.Family("kubelet_running_containers", "[ALPHA] Number of containers currently running",
             "gauge");
  for (const auto& [state, n] : by_state)
    out.Sample("kubelet_running_containers", {{"container_state", state}}, static_cast<double>(n));
  out.Family("kubelet_running_pods", "[ALPHA] Number of pods that have a running pod sandbox",
             "gauge");
  out.Sample("kubelet_running_pods", {}, static_cast<double>(sandboxes.items_size()));
  return Ok();
}

void WriteProcessMetrics(PromText& out) {
  Result<ProcessStats> p = SelfStats();
  if (!p.ok()) return;
  out.Family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
             "counter");
  out.Sample("process_cpu_seconds_total", {}, p->cpu_seconds);
  out.Family("process_max_fds", "Maximum number of open file descriptors.", "gauge");
  out.Sample("process_max_fds", {}, static_cast<double>(p->max_fds));
  out.Family("process_open_fds", "Number of open file descriptors.", "gauge");
  out.Sample("process_open_fds", {}, static_cast<double>(p->open_fds));
  out.Family("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
  out.Sample("process_resident_memory_bytes", {}, static_cast<double>(p->resident_bytes));
  out.Family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
             "gauge");
  out.Sample("process_start_time_seconds", {}, p->start_time_seconds);
  out.Family("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
  out.Sample("process_virtual_memory_bytes", {}, static_cast<double>(p->virtual_bytes));
}

}  // namespace berth::agent::kubelet
