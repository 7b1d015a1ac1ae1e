#include "agent/server/stats.h"

#include <sys/sysinfo.h>
#include <unistd.h>

#include <set>

#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/time.h"

namespace berth::agent::kubelet {
namespace {

constexpr int64_t kNanos = 1'000'000'000;
// Rate samples of objects not seen for this long are dropped.
constexpr auto kForgetAfter = std::chrono::minutes(10);

int64_t NowNanos() {
  timespec ts = WallClockNow();
  return static_cast<int64_t>(ts.tv_sec) * kNanos + ts.tv_nsec;
}

std::optional<uint64_t> Value(bool has, const v1::UInt64Value& v) {
  return has ? std::optional<uint64_t>(v.value()) : std::nullopt;
}

CpuSample FromCri(const v1::CpuUsage& c, int64_t now) {
  CpuSample s;
  s.time_nanos = c.timestamp() > 0 ? c.timestamp() : now;
  s.usage_core_nano_seconds = Value(c.has_usage_core_nano_seconds(), c.usage_core_nano_seconds());
  s.usage_nano_cores = Value(c.has_usage_nano_cores(), c.usage_nano_cores());
  return s;
}

MemorySample FromCri(const v1::MemoryUsage& m, int64_t now) {
  MemorySample s;
  s.time_nanos = m.timestamp() > 0 ? m.timestamp() : now;
  s.available_bytes = Value(m.has_available_bytes(), m.available_bytes());
  s.usage_bytes = Value(m.has_usage_bytes(), m.usage_bytes());
  s.working_set_bytes = Value(m.has_working_set_bytes(), m.working_set_bytes());
  s.rss_bytes = Value(m.has_rss_bytes(), m.rss_bytes());
  s.page_faults = Value(m.has_page_faults(), m.page_faults());
  s.major_page_faults = Value(m.has_major_page_faults(), m.major_page_faults());
  return s;
}

void Add(std::optional<uint64_t>& sum, const std::optional<uint64_t>& v) {
  if (v) sum = sum.value_or(0) + *v;
}

FsSample FsFrom(const FsStats& f, int64_t now) {
  FsSample s;
  s.time_nanos = now;
  s.available_bytes = f.available_bytes;
  s.capacity_bytes = f.capacity_bytes;
  s.used_bytes = f.used_bytes;
  s.inodes = f.inodes;
  s.inodes_free = f.inodes_free;
  s.inodes_used = f.inodes_used;
  return s;
}

NetworkSample NetworkFrom(const v1::NetworkUsage& n, int64_t now) {
  NetworkSample s;
  s.time_nanos = n.timestamp() > 0 ? n.timestamp() : now;
  auto add = [&](const v1::NetworkInterfaceUsage& i) {
    s.interfaces.push_back({i.name(), i.rx_bytes().value(), i.rx_errors().value(),
                            i.tx_bytes().value(), i.tx_errors().value()});
  };
  if (n.has_default_interface() && !n.default_interface().name().empty()) {
    s.default_interface = n.default_interface().name();
    add(n.default_interface());
  }
  for (const v1::NetworkInterfaceUsage& i : n.interfaces())
    add(i);
  return s;
}

}  // namespace

void CpuRates::Fill(const std::string& key, CpuSample& sample) {
  if (!sample.usage_core_nano_seconds) return;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto it = last_.find(key);
  if (it != last_.end()) {
    Last& prev = it->second;
    int64_t dt = sample.time_nanos - prev.time_nanos;
    uint64_t usage = *sample.usage_core_nano_seconds;
    if (dt > 0 && usage >= prev.usage && !sample.usage_nano_cores) {
      sample.usage_nano_cores =
          static_cast<uint64_t>(static_cast<double>(usage - prev.usage) *
                                static_cast<double>(kNanos) / static_cast<double>(dt));
    }
    if (dt <= 0) {
      // Not newer (a cached runtime sample): keep the older baseline.
      prev.seen = now;
      return;
    }
  }
  last_[key] = Last{sample.time_nanos, *sample.usage_core_nano_seconds, now};
  std::erase_if(last_, [&](const auto& e) { return now - e.second.seen > kForgetAfter; });
}

Result<StatsSample> StatsCollector::Collect(bool cpu_and_memory_only) {
  StatsSample s;
  s.node = BERTH_TRY(Node(cpu_and_memory_only));
  s.pods = BERTH_TRY(Pods(cpu_and_memory_only));
  return s;
}

Result<NodeSample> StatsCollector::Node(bool cpu_and_memory_only) {
  NodeSample n;
  n.name = node_name_;
  int64_t now = NowNanos();
  std::string proc_stat = BERTH_TRY(ReadFile("/proc/stat"));
  n.boot_time_nanos = BERTH_TRY(ParseProcStatBootTime(proc_stat)) * kNanos;
  n.cpu.time_nanos = now;
  n.cpu.usage_core_nano_seconds =
      BERTH_TRY(ParseProcStatBusyNanos(proc_stat, ::sysconf(_SC_CLK_TCK)));
  rates_.Fill("node", n.cpu);

  MemInfo mem = BERTH_TRY(ParseMeminfo(BERTH_TRY(ReadFile("/proc/meminfo"))));
  VmStat vm = ParseVmstat(ReadFile("/proc/vmstat").value_or(""));
  uint64_t usage = mem.total - std::min(mem.free, mem.total);
  uint64_t working_set = usage - std::min(mem.inactive_file, usage);
  n.memory.time_nanos = now;
  n.memory.usage_bytes = usage;
  n.memory.working_set_bytes = working_set;
  n.memory.available_bytes = mem.total - working_set;  // kubelet: capacity - working set
  n.memory.rss_bytes = mem.anon;
  n.memory.page_faults = vm.page_faults;
  n.memory.major_page_faults = vm.major_page_faults;

  if (Result<ProcessStats> self = SelfStats(); self.ok()) {
    ContainerSample k;
    k.name = "kubelet";
    k.start_nanos = static_cast<int64_t>(self->start_time_seconds * static_cast<double>(kNanos));
    k.cpu.time_nanos = now;
    k.cpu.usage_core_nano_seconds =
        static_cast<uint64_t>(self->cpu_seconds * static_cast<double>(kNanos));
    rates_.Fill("kubelet", k.cpu);
    k.memory.time_nanos = now;
    k.memory.usage_bytes = self->resident_bytes;
    k.memory.working_set_bytes = self->resident_bytes;
    k.memory.rss_bytes = self->resident_bytes;
    n.kubelet = k;
  }
  if (cpu_and_memory_only) return n;

  NetworkSample net;
  net.time_nanos = now;
  net.interfaces = ParseNetDev(ReadFile("/proc/net/dev").value_or(""));
  net.default_interface = DefaultRouteInterface(ReadFile("/proc/net/route").value_or(""));
  if (net.default_interface.empty() && !net.interfaces.empty()) {
    net.default_interface = net.interfaces.front().name;
  }
  n.network = net;
  if (Result<FsStats> fs = StatFs(root_dir_); fs.ok()) n.fs = FsFrom(*fs, now);

  v1::ImageFsInfoRequest req;
  v1::ImageFsInfoResponse resp;
  Status info = cri_.Call(&v1::ImageService::Stub::ImageFsInfo, req, &resp, "ImageFsInfo",
                          std::chrono::seconds(30));
  if (info.ok() && resp.image_filesystems_size() > 0) {
    const v1::FilesystemUsage& u = resp.image_filesystems(0);
    FsSample image;
    if (Result<FsStats> fs = StatFs(u.fs_id().mountpoint()); fs.ok()) image = FsFrom(*fs, now);
    image.time_nanos = u.timestamp() > 0 ? u.timestamp() : now;
    image.used_bytes = u.used_bytes().value();  // by images, not the whole filesystem
    image.inodes_used = u.inodes_used().value();
    n.image_fs = image;
  } else if (!info.ok()) {
    BLOG(kDebug) << "stats: " << info.error().str();
  }

  n.rlimit_time_nanos = now;
  if (Result<std::string> pid_max = ReadFile("/proc/sys/kernel/pid_max"); pid_max.ok()) {
    if (Result<int64_t> v = ParseInt<int64_t>(Trim(*pid_max), "pid_max"); v.ok()) n.max_pid = *v;
  }
  struct sysinfo si {};
  if (::sysinfo(&si) == 0) n.num_processes = si.procs;
  return n;
}

Result<std::vector<PodSample>> StatsCollector::Pods(bool cpu_and_memory_only) {
  int64_t now = NowNanos();
  v1::ListPodSandboxRequest sreq;
  sreq.mutable_filter()->mutable_state()->set_state(v1::SANDBOX_READY);
  v1::ListPodSandboxResponse sandboxes;
  BERTH_TRY(cri_.Call(&v1::RuntimeService::Stub::ListPodSandbox, sreq, &sandboxes, "ListPodSandbox",
                      std::chrono::seconds(30)));
  v1::ListContainersRequest creq;
  creq.mutable_filter()->mutable_state()->set_state(v1::CONTAINER_RUNNING);
  v1::ListContainersResponse containers;
  BERTH_TRY(cri_.Call(&v1::RuntimeService::Stub::ListContainers, creq, &containers,
                      "ListContainers", std::chrono::seconds(30)));
  v1::ListContainerStatsRequest csreq;
  v1::ListContainerStatsResponse container_stats;
  BERTH_TRY(cri_.Call(&v1::RuntimeService::Stub::ListContainerStats, csreq, &container_stats,
                      "ListContainerStats", std::chrono::seconds(30)));
  std::map<std::string, const v1::ContainerStats*> by_container;
  for (const v1::ContainerStats& c : container_stats.stats())
    by_container[c.attributes().id()] = &c;
  v1::ListPodSandboxStatsRequest psreq;
  v1::ListPodSandboxStatsResponse pod_stats;
  Status have_pod_stats = cri_.Call(&v1::RuntimeService::Stub::ListPodSandboxStats, psreq,
                                    &pod_stats, "ListPodSandboxStats", std::chrono::seconds(30));
  if (!have_pod_stats.ok() && have_pod_stats.error().code() != Errc::kUnimplemented) {
    BLOG(kWarn) << "stats: " << have_pod_stats.error().str() << "; summing containers instead";
  }
  std::map<std::string, const v1::PodSandboxStats*> by_sandbox;
  if (have_pod_stats.ok()) {
    for (const v1::PodSandboxStats& p : pod_stats.stats())
      by_sandbox[p.attributes().id()] = &p;
  }
  std::optional<FsStats> image_fs;
  if (!cpu_and_memory_only) {
    v1::ImageFsInfoResponse info;
    if (cri_.Call(&v1::ImageService::Stub::ImageFsInfo, v1::ImageFsInfoRequest(), &info,
                  "ImageFsInfo", std::chrono::seconds(30))
            .ok() &&
        info.image_filesystems_size() > 0) {
      if (Result<FsStats> fs = StatFs(info.image_filesystems(0).fs_id().mountpoint()); fs.ok()) {
        image_fs = *fs;
      }
    }
  }

  // One sandbox per pod: the newest ready one.
  std::map<std::string, const v1::PodSandbox*> newest;
  for (const v1::PodSandbox& s : sandboxes.items()) {
    const v1::PodSandbox*& at = newest[s.metadata().uid()];
    if (at == nullptr || s.created_at() > at->created_at()) at = &s;
  }
  std::vector<PodSample> out;
  for (const auto& [uid, s] : newest) {
    PodSample p;
    p.name = s->metadata().name();
    p.namespace_ = s->metadata().namespace_();
    p.uid = uid;
    p.start_nanos = s->created_at();
    const v1::PodSandboxStats* ps = by_sandbox.count(s->id()) ? by_sandbox[s->id()] : nullptr;
    for (const v1::Container& c : containers.containers()) {
      if (c.pod_sandbox_id() != s->id()) continue;
      const v1::ContainerStats* cs = by_container.count(c.id()) ? by_container[c.id()] : nullptr;
      if (cs == nullptr && ps != nullptr) {
        for (const v1::ContainerStats& in_pod : ps->linux().containers())
          if (in_pod.attributes().id() == c.id()) cs = &in_pod;
      }
      ContainerSample sample;
      sample.name = c.metadata().name();
      sample.start_nanos = c.created_at();
      if (cs != nullptr) {
        sample.cpu = FromCri(cs->cpu(), now);
        sample.memory = FromCri(cs->memory(), now);
        if (!cpu_and_memory_only && cs->has_writable_layer()) {
          FsSample fs = image_fs ? FsFrom(*image_fs, now) : FsSample{};
          const v1::FilesystemUsage& w = cs->writable_layer();
          fs.time_nanos = w.timestamp() > 0 ? w.timestamp() : now;
          fs.used_bytes = w.used_bytes().value();
          fs.inodes_used = w.inodes_used().value();
          sample.rootfs = fs;
        }
      } else {
        sample.cpu.time_nanos = now;
        sample.memory.time_nanos = now;
      }
      rates_.Fill("container/" + c.id(), sample.cpu);
      p.containers.push_back(std::move(sample));
    }
    if (ps != nullptr && ps->has_linux()) {
      p.cpu = FromCri(ps->linux().cpu(), now);
      p.memory = FromCri(ps->linux().memory(), now);
      if (!cpu_and_memory_only && ps->linux().has_network()) {
        p.network = NetworkFrom(ps->linux().network(), now);
      }
      if (ps->linux().has_process() && ps->linux().process().has_process_count()) {
        p.process_count = ps->linux().process().process_count().value();
      }
    } else {
      p.cpu.time_nanos = now;
      p.memory.time_nanos = now;
      for (const ContainerSample& c : p.containers) {
        Add(p.cpu.usage_core_nano_seconds, c.cpu.usage_core_nano_seconds);
        Add(p.memory.usage_bytes, c.memory.usage_bytes);
        Add(p.memory.working_set_bytes, c.memory.working_set_bytes);
        Add(p.memory.rss_bytes, c.memory.rss_bytes);
      }
    }
    rates_.Fill("pod/" + s->id(), p.cpu);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace berth::agent::kubelet
