#pragma once
// /stats/summary (kubelet's stats/v1alpha1 Summary, the shape
// metrics-server and `kubectl get --raw .../proxy/stats/summary` read) and
// /metrics/resource (the Prometheus form metrics-server scrapes since
// v0.6), both from one StatsSample.

#include <boost/json.hpp>
#include <string>

#include "agent/server/stats.h"

namespace berth::agent::kubelet {

// `cpu_and_memory_only`: what kubelet's GetCPUAndMemoryStats returns.
boost::json::object SummaryJson(const StatsSample& s, bool cpu_and_memory_only);

// The resource metrics in Prometheus text format, samples timestamped;
// `scrape_error` marks a failed collection (then `s` may be empty).
std::string ResourceMetricsText(const StatsSample& s, bool scrape_error);

}  // namespace berth::agent::kubelet
