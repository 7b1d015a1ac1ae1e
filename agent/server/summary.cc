#include "agent/server/summary.h"

#include "agent/server/prometheus.h"
#include "common/time.h"

namespace berth::agent::kubelet {
namespace {

namespace bj = boost::json;

constexpr int64_t kNanos = 1'000'000'000;

// metav1.Time: RFC 3339 to the second, UTC.
std::string Time(int64_t unix_nanos) {
  return FormatRfc3339(static_cast<time_t>(unix_nanos / kNanos));
}

void Put(bj::object& o, std::string_view key, const std::optional<uint64_t>& v) {
  if (v) o[key] = *v;
}

bj::object CpuJson(const CpuSample& c) {
  bj::object o{{"time", Time(c.time_nanos)}};
  Put(o, "usageNanoCores", c.usage_nano_cores);
  Put(o, "usageCoreNanoSeconds", c.usage_core_nano_seconds);
  return o;
}

bj::object MemoryJson(const MemorySample& m) {
  bj::object o{{"time", Time(m.time_nanos)}};
  Put(o, "availableBytes", m.available_bytes);
  Put(o, "usageBytes", m.usage_bytes);
  Put(o, "workingSetBytes", m.working_set_bytes);
  Put(o, "rssBytes", m.rss_bytes);
  Put(o, "pageFaults", m.page_faults);
  Put(o, "majorPageFaults", m.major_page_faults);
  return o;
}

bj::object FsJson(const FsSample& f) {
  bj::object o{{"time", Time(f.time_nanos)}};
  Put(o, "availableBytes", f.available_bytes);
  Put(o, "capacityBytes", f.capacity_bytes);
  Put(o, "usedBytes", f.used_bytes);
  Put(o, "inodesFree", f.inodes_free);
  Put(o, "inodes", f.inodes);
  Put(o, "inodesUsed", f.inodes_used);
  return o;
}

bj::object InterfaceJson(const InterfaceStats& i) {
  return bj::object{{"name", i.name},
                    {"rxBytes", i.rx_bytes},
                    {"rxErrors", i.rx_errors},
                    {"txBytes", i.tx_bytes},
                    {"txErrors", i.tx_errors}};
}

// The default interface's counters inline, every interface in "interfaces".
bj::object NetworkJson(const NetworkSample& n) {
  bj::object o{{"time", Time(n.time_nanos)}};
  bj::array all;
  for (const InterfaceStats& i : n.interfaces) {
    if (i.name == n.default_interface) {
      for (const auto& [k, v] : InterfaceJson(i))
        o[k] = v;
    }
    all.push_back(InterfaceJson(i));
  }
  o["interfaces"] = std::move(all);
  return o;
}

bj::object ContainerJson(const ContainerSample& c, bool cpu_and_memory_only) {
  bj::object o{{"name", c.name},
               {"startTime", Time(c.start_nanos)},
               {"cpu", CpuJson(c.cpu)},
               {"memory", MemoryJson(c.memory)}};
  if (!cpu_and_memory_only && c.rootfs) o["rootfs"] = FsJson(*c.rootfs);
  return o;
}

}  // namespace

bj::object SummaryJson(const StatsSample& s, bool cpu_and_memory_only) {
  const NodeSample& n = s.node;
  bj::object node{{"nodeName", n.name}};
  bj::array system;
  if (n.kubelet) system.push_back(ContainerJson(*n.kubelet, true));
  node["systemContainers"] = std::move(system);
  node["startTime"] = Time(n.boot_time_nanos);
  node["cpu"] = CpuJson(n.cpu);
  node["memory"] = MemoryJson(n.memory);
  if (!cpu_and_memory_only) {
    if (n.network) node["network"] = NetworkJson(*n.network);
    if (n.fs) node["fs"] = FsJson(*n.fs);
    if (n.image_fs) {
      node["runtime"] =
          bj::object{{"imageFs", FsJson(*n.image_fs)}, {"containerFs", FsJson(*n.image_fs)}};
    }
    bj::object rlimit{{"time", Time(n.rlimit_time_nanos)}};
    if (n.max_pid) rlimit["maxpid"] = *n.max_pid;
    if (n.num_processes) rlimit["curproc"] = *n.num_processes;
    node["rlimit"] = std::move(rlimit);
  }

  bj::array pods;
  for (const PodSample& p : s.pods) {
    bj::array containers;
    for (const ContainerSample& c : p.containers)
      containers.push_back(ContainerJson(c, cpu_and_memory_only));
    bj::object pod{
        {"podRef", bj::object{{"name", p.name}, {"namespace", p.namespace_}, {"uid", p.uid}}},
        {"startTime", Time(p.start_nanos)},
        {"containers", std::move(containers)},
        {"cpu", CpuJson(p.cpu)},
        {"memory", MemoryJson(p.memory)}};
    if (!cpu_and_memory_only) {
      if (p.network) pod["network"] = NetworkJson(*p.network);
      if (p.process_count) pod["process_stats"] = bj::object{{"process_count", *p.process_count}};
    }
    pods.push_back(std::move(pod));
  }
  return bj::object{{"node", std::move(node)}, {"pods", std::move(pods)}};
}

std::string ResourceMetricsText(const StatsSample& s, bool scrape_error) {
  PromText t;
  auto millis = [](int64_t nanos) { return nanos / 1'000'000; };
  auto seconds = [](uint64_t nanos) { return static_cast<double>(nanos) / 1e9; };

  t.Family("container_cpu_usage_seconds_total",
           "[STABLE] Cumulative cpu time consumed by the container in core-seconds", "counter");
  for (const PodSample& p : s.pods) {
    for (const ContainerSample& c : p.containers) {
      if (!c.cpu.usage_core_nano_seconds) continue;
      t.Sample("container_cpu_usage_seconds_total",
               {{"container", c.name}, {"namespace", p.namespace_}, {"pod", p.name}},
               seconds(*c.cpu.usage_core_nano_seconds), millis(c.cpu.time_nanos));
    }
  }
  t.Family("container_memory_working_set_bytes",
           "[STABLE] Current working set of the container in bytes", "gauge");
  for (const PodSample& p : s.pods) {
    for (const ContainerSample& c : p.containers) {
      if (!c.memory.working_set_bytes) continue;
      t.Sample("container_memory_working_set_bytes",
               {{"container", c.name}, {"namespace", p.namespace_}, {"pod", p.name}},
               static_cast<double>(*c.memory.working_set_bytes), millis(c.memory.time_nanos));
    }
  }
  t.Family("container_start_time_seconds",
           "[STABLE] Start time of the container since unix epoch in seconds", "gauge");
  for (const PodSample& p : s.pods) {
    for (const ContainerSample& c : p.containers) {
      t.Sample("container_start_time_seconds",
               {{"container", c.name}, {"namespace", p.namespace_}, {"pod", p.name}},
               static_cast<double>(c.start_nanos) / 1e9, millis(c.start_nanos));
    }
  }
  if (!scrape_error) {
    t.Family("node_cpu_usage_seconds_total",
             "[STABLE] Cumulative cpu time consumed by the node in core-seconds", "counter");
    if (s.node.cpu.usage_core_nano_seconds) {
      t.Sample("node_cpu_usage_seconds_total", {}, seconds(*s.node.cpu.usage_core_nano_seconds),
               millis(s.node.cpu.time_nanos));
    }
    t.Family("node_memory_working_set_bytes", "[STABLE] Current working set of the node in bytes",
             "gauge");
    if (s.node.memory.working_set_bytes) {
      t.Sample("node_memory_working_set_bytes", {},
               static_cast<double>(*s.node.memory.working_set_bytes),
               millis(s.node.memory.time_nanos));
    }
  }
  t.Family("pod_cpu_usage_seconds_total",
           "[STABLE] Cumulative cpu time consumed by the pod in core-seconds", "counter");
  for (const PodSample& p : s.pods) {
    if (!p.cpu.usage_core_nano_seconds) continue;
    t.Sample("pod_cpu_usage_seconds_total", {{"namespace", p.namespace_}, {"pod", p.name}},
             seconds(*p.cpu.usage_core_nano_seconds), millis(p.cpu.time_nanos));
  }
  t.Family("pod_memory_working_set_bytes", "[STABLE] Current working set of the pod in bytes",
           "gauge");
  for (const PodSample& p : s.pods) {
    if (!p.memory.working_set_bytes) continue;
    t.Sample("pod_memory_working_set_bytes", {{"namespace", p.namespace_}, {"pod", p.name}},
             static_cast<double>(*p.memory.working_set_bytes), millis(p.memory.time_nanos));
  }
  t.Family("resource_scrape_error",
           "[STABLE] 1 if there was an error while getting container metrics, 0 otherwise",
           "gauge");
  t.Sample("resource_scrape_error", {}, scrape_error ? 1 : 0);
  return t.str();
}

}  // namespace berth::agent::kubelet
