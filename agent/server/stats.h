#pragma once
// Resource usage of the node, its pods and their containers, collected
// the way kubelet's CRI stats provider does: the pods' and containers'
// from CRI ListPodSandboxStats / ListContainerStats (summing the
// containers when a runtime has no pod stats), the node's from /proc, the
// filesystems from statvfs and CRI ImageFsInfo. CPU rates (usageNanoCores)
// come from the runtime when it reports them, else from the previous
// sample of the same object.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/cri/cri_client.h"
#include "agent/server/node_stats.h"
#include "common/error.h"

namespace berth::agent::kubelet {

struct CpuSample {
  int64_t time_nanos = 0;  // unix
  std::optional<uint64_t> usage_nano_cores;
  std::optional<uint64_t> usage_core_nano_seconds;
};

struct MemorySample {
  int64_t time_nanos = 0;
  std::optional<uint64_t> available_bytes;
  std::optional<uint64_t> usage_bytes;
  std::optional<uint64_t> working_set_bytes;
  std::optional<uint64_t> rss_bytes;
  std::optional<uint64_t> page_faults;
  std::optional<uint64_t> major_page_faults;
};

struct FsSample {
  int64_t time_nanos = 0;
  std::optional<uint64_t> available_bytes;
  std::optional<uint64_t> capacity_bytes;
  std::optional<uint64_t> used_bytes;
  std::optional<uint64_t> inodes_free;
  std::optional<uint64_t> inodes;
  std::optional<uint64_t> inodes_used;
};

struct NetworkSample {
  int64_t time_nanos = 0;
  std::string default_interface;  // "" when none
  std::vector<InterfaceStats> interfaces;
};

struct ContainerSample {
  std::string name;
  int64_t start_nanos = 0;
  CpuSample cpu;
  MemorySample memory;
  std::optional<FsSample> rootfs;
};

struct PodSample {
  std::string name;
  std::string namespace_;
  std::string uid;
  int64_t start_nanos = 0;
  std::vector<ContainerSample> containers;
  CpuSample cpu;
  MemorySample memory;
  std::optional<NetworkSample> network;
  std::optional<uint64_t> process_count;
};

struct NodeSample {
  std::string name;
  int64_t boot_time_nanos = 0;
  CpuSample cpu;
  MemorySample memory;
  std::optional<NetworkSample> network;
  std::optional<FsSample> fs;
  std::optional<FsSample> image_fs;
  std::optional<ContainerSample> kubelet;  // this process
  int64_t rlimit_time_nanos = 0;
  std::optional<int64_t> max_pid;
  std::optional<int64_t> num_processes;
};

struct StatsSample {
  NodeSample node;
  std::vector<PodSample> pods;
};

// Rates of cumulative CPU counters between samples of the same key.
class CpuRates {
 public:
  // Records `sample` (when newer than the last one) and fills its
  // usage_nano_cores from the previous sample when it has none.
  void Fill(const std::string& key, CpuSample& sample);

 private:
  struct Last {
    int64_t time_nanos;
    uint64_t usage;
    std::chrono::steady_clock::time_point seen;
  };
  std::mutex mu_;
  std::map<std::string, Last> last_;
};

class StatsCollector {
 public:
  StatsCollector(CriClient& cri, std::string node_name, std::string root_dir)
      : cri_(cri), node_name_(std::move(node_name)), root_dir_(std::move(root_dir)) {}

  // `cpu_and_memory_only`: skips filesystems and networks (what
  // /stats/summary?only_cpu_and_memory=true and /metrics/resource need).
  Result<StatsSample> Collect(bool cpu_and_memory_only);

 private:
  Result<NodeSample> Node(bool cpu_and_memory_only);
  Result<std::vector<PodSample>> Pods(bool cpu_and_memory_only);

  CriClient& cri_;
  std::string node_name_;
  std::string root_dir_;
  CpuRates rates_;
};

}  // namespace berth::agent::kubelet
