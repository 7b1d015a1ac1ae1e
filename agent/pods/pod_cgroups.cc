#include "agent/pods/pod_cgroups.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string_view>
#include <thread>
#include <utility>

#include "agent/pods/pod_spec.h"
#include "common/file.h"
#include "common/log.h"
#include "common/quantity.h"
#include "controlplane/client/api_util.h"

namespace berth::agent {

using controlplane::client::ValueAt;

namespace {

constexpr int64_t kMinShares = 2;
constexpr int64_t kMaxShares = 262'144;
constexpr int64_t kSharesPerCpu = 1024;
constexpr int64_t kMilliCpuToCpu = 1000;
// Quota is computed against 100 ms whatever cpuCFSQuotaPeriod says while
// the CPUCFSQuotaPeriod feature gate is off (upstream MilliCPUToQuota).
constexpr int64_t kQuotaPeriod = 100'000;
constexpr int64_t kMinQuota = 1000;

// A ResourceList restricted to what pod cgroups use: "cpu" in milli-cores,
// "memory" in bytes. A missing key is "not set".
using ResourceList = std::map<std::string, int64_t, std::less<>>;

ResourceList ContainerResources(const bj::object& c, std::string_view kind) {
  ResourceList out;
  for (std::string_view r : {"cpu", "memory"}) {
    std::optional<int64_t> q = ResourceQuantity(c, kind, r);
    // API defaulting: a request left out is the limit.
    if (!q && kind == "requests") q = ResourceQuantity(c, "limits", r);
    if (q) out[std::string(r)] = *q;
  }
  return out;
}

void AddTo(ResourceList& to, const ResourceList& from) {
  for (const auto& [name, value] : from)
    to[name] += value;
}

void MaxInto(ResourceList& to, const ResourceList& from) {
  for (const auto& [name, value] : from) {
    auto it = to.find(name);
    if (it == to.end() || it->second < value) to[name] = value;
  }
}

// Upstream AggregateContainerRequests / AggregateContainerLimits: `each`
// sees every container's effective list (an init container's includes the
// sidecars started before it).
ResourceList Aggregate(const bj::object& pod, std::string_view kind,
                       const std::function<void(const ResourceList&)>& each) {
  ResourceList total;
  for (const bj::value& cv : Containers(pod)) {
    if (!cv.is_object()) continue;
    ResourceList own = ContainerResources(cv.get_object(), kind);
    each(own);
    AddTo(total, own);
  }
  ResourceList sidecars, init_max;
  for (const bj::value& cv : InitContainers(pod)) {
    if (!cv.is_object()) continue;
    ResourceList own = ContainerResources(cv.get_object(), kind);
    ResourceList effective;
    if (IsSidecar(cv.get_object())) {
      AddTo(total, own);
      AddTo(sidecars, own);
      effective = sidecars;
    } else {
      effective = own;
      AddTo(effective, sidecars);
    }
    each(effective);
    MaxInto(init_max, effective);
  }
  MaxInto(total, init_max);
  return total;
}

ResourceList Overhead(const bj::object& pod) {
  ResourceList out;
  const bj::value* overhead = ValueAt(pod, {"spec", "overhead"});
  if (overhead == nullptr || !overhead->is_object()) return out;
  for (std::string_view r : {"cpu", "memory"}) {
    const bj::value* v = overhead->get_object().if_contains(r);
    if (v == nullptr || !v->is_string()) continue;
    Result<int64_t> q = ParseQuantity(v->get_string(), r == "cpu");
    if (q.ok()) out[std::string(r)] = *q;
  }
  return out;
}

ResourceList PodRequests(const bj::object& pod) {
  ResourceList requests = Aggregate(pod, "requests", [](const ResourceList&) {});
  AddTo(requests, Overhead(pod));
  return requests;
}

int64_t ValueOr0(const ResourceList& list, std::string_view name) {
  auto it = list.find(name);
  return it == list.end() ? 0 : it->second;
}

int64_t MilliCpuToQuota(int64_t milli_cpu) {
  if (milli_cpu == 0) return 0;
  return std::max(milli_cpu * kQuotaPeriod / kMilliCpuToCpu, kMinQuota);
}

std::string Trimmed(std::string root) {
  while (!root.empty() && root.back() == '/')
    root.pop_back();
  return root;
}

}  // namespace

int64_t PodCpuRequestMilli(const bj::object& pod) {
  return ValueOr0(PodRequests(pod), "cpu");
}

uint64_t MilliCpuToShares(int64_t milli_cpu) {
  if (milli_cpu == 0) return kMinShares;
  int64_t shares = milli_cpu * kSharesPerCpu / kMilliCpuToCpu;
  return static_cast<uint64_t>(std::clamp(shares, kMinShares, kMaxShares));
}

cgroups::Resources PodResourceConfig(const bj::object& pod, const PodCgroupSettings& settings) {
  cgroups::Resources r;
  cgroups::CpuLimits cpu;
  std::string qos = QosClass(pod);
  if (qos == "BestEffort") {
    cpu.shares = kMinShares;
  } else {
    bool cpu_limits_declared = true;
    bool memory_limits_declared = true;
    ResourceList limits = Aggregate(pod, "limits", [&](const ResourceList& l) {
      if (ValueOr0(l, "cpu") == 0) cpu_limits_declared = false;
      if (ValueOr0(l, "memory") == 0) memory_limits_declared = false;
    });
    // Overhead adds to the limits that are set (upstream PodLimits).
    for (const auto& [name, value] : Overhead(pod)) {
      auto it = limits.find(name);
      if (it != limits.end() && it->second != 0) it->second += value;
    }
    cpu.shares = MilliCpuToShares(ValueOr0(PodRequests(pod), "cpu"));
    bool guaranteed = qos == "Guaranteed";
    int64_t quota = MilliCpuToQuota(ValueOr0(limits, "cpu"));
    if (!settings.enforce_cpu_limits) quota = -1;
    // 0 is "not set" for the cgroup writers (libcontainer's too).
    if ((guaranteed || cpu_limits_declared) && quota != 0) {
      cpu.quota = quota;
      cpu.period = settings.cpu_period_us;
    }
    int64_t memory = ValueOr0(limits, "memory");
    if ((guaranteed || memory_limits_declared) && memory != 0) {
      cgroups::MemoryLimits m;
      m.limit = memory;
      r.memory = m;
    }
  }
  r.cpu = cpu;
  if (settings.pod_pids_limit > 0) r.pids_limit = settings.pod_pids_limit;
  return r;
}

std::string KubepodsCgroupsPath(const std::string& cgroup_root) {
  return Trimmed(cgroup_root) + "/kubepods";
}

std::string QosCgroupsPath(const std::string& cgroup_root, const std::string& qos_class) {
  std::string path = KubepodsCgroupsPath(cgroup_root);
  if (qos_class == "Burstable") path += "/burstable";
  if (qos_class == "BestEffort") path += "/besteffort";
  return path;
}

PodCgroups::PodCgroups(PodCgroupsOptions options) : options_(std::move(options)) {}

Result<cgroups::Placement> PodCgroups::Resolve(const std::string& cgroups_path) const {
  cgroups::ResolveOptions ro;
  ro.berth_root = options_.berth_root;
  ro.cgroups_path = cgroups_path;
  if (options_.proc_self_cgroup.empty()) return cgroups::Resolve(options_.layout, ro);
  return cgroups::Resolve(options_.layout, ro, options_.proc_self_cgroup);
}

Status PodCgroups::CreateAndApply(const std::string& cgroups_path,
                                  const cgroups::Resources& resources) const {
  cgroups::Placement placement = BERTH_TRY(Resolve(cgroups_path));
  cgroups::DriverPtr driver = BERTH_TRY(cgroups::Open(placement));
  BERTH_TRY(driver->Create());
  Status applied = driver->Apply(resources);
  if (!applied.ok()) return std::move(applied).error().Wrap("cgroup " + cgroups_path);
  return Ok();
}

Status PodCgroups::EnsureQosLocked() {
  const std::string& root = options_.cgroup_root;
  if (!qos_created_) {
    BERTH_TRY(CreateAndApply(KubepodsCgroupsPath(root), {}));
    cgroups::Resources best_effort;
    best_effort.cpu = cgroups::CpuLimits{};
    best_effort.cpu->shares = kMinShares;
    BERTH_TRY(CreateAndApply(QosCgroupsPath(root, "BestEffort"), best_effort));
  }
  int64_t sum = 0;
  for (const auto& [uid, milli] : burstable_requests_)
    sum += milli;
  if (!qos_created_ || burstable_applied_milli_ != sum) {
    cgroups::Resources burstable;
    burstable.cpu = cgroups::CpuLimits{};
    burstable.cpu->shares = MilliCpuToShares(sum);
    BERTH_TRY(CreateAndApply(QosCgroupsPath(root, "Burstable"), burstable));
    burstable_applied_milli_ = sum;
  }
  qos_created_ = true;
  return Ok();
}

Status PodCgroups::EnsurePod(const bj::object& pod) {
  std::string uid = IdOf(pod).uid;
  std::string qos = QosClass(pod);
  std::lock_guard lock(mu_);
  if (qos == "Burstable") {
    burstable_requests_[uid] = PodCpuRequestMilli(pod);
  } else {
    burstable_requests_.erase(uid);
  }
  BERTH_TRY(EnsureQosLocked());
  if (created_.count(uid) != 0) return Ok();
  BERTH_TRY(CreateAndApply(QosCgroupsPath(options_.cgroup_root, qos) + "/pod" + uid,
                           PodResourceConfig(pod, options_.settings)));
  created_.insert(uid);
  return Ok();
}

Status PodCgroups::RemovePod(const std::string& uid) {
  std::lock_guard lock(mu_);
  for (const char* qos : {"Guaranteed", "Burstable", "BestEffort"}) {
    std::string path = QosCgroupsPath(options_.cgroup_root, qos) + "/pod" + uid;
    cgroups::Placement placement = BERTH_TRY(Resolve(path));
    bool exists = std::any_of(placement.paths.begin(), placement.paths.end(),
                              [](const auto& kv) { return PathExists(kv.second); });
    if (!exists) continue;
    cgroups::DriverPtr driver = BERTH_TRY(cgroups::Open(placement));
    // Upstream tryKillingCgroupProcesses: whatever outlived the sandbox.
    Result<std::vector<pid_t>> pids = driver->Pids();
    if (pids.ok() && !pids->empty()) {
      BLOG(kInfo) << "pod " << uid << ": killing " << pids->size()
                  << " processes left in its cgroup";
      BERTH_TRY(driver->Kill(SIGKILL));
      for (int i = 0; i < 100; ++i) {
        pids = driver->Pids();
        if (!pids.ok() || pids->empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    Status destroyed = driver->Destroy();
    if (!destroyed.ok()) {
      return std::move(destroyed).error().Wrap("remove the cgroup of pod " + uid);
    }
  }
  created_.erase(uid);
  if (burstable_requests_.erase(uid) != 0 && qos_created_) BERTH_TRY(EnsureQosLocked());
  return Ok();
}

}  // namespace berth::agent
