#include "runtime/cri/spec/resources.h"

#include <algorithm>
#include <vector>

#include "common/log.h"

namespace berth::cri {
namespace {

namespace bj = boost::json;

bool IpcSysctl(const std::string& key) {
  return key.rfind("kernel.shm", 0) == 0 || key.rfind("kernel.msg", 0) == 0 ||
         key == "kernel.sem" || key.rfind("fs.mqueue.", 0) == 0;
}

}  // namespace

void AddContainerResources(const ::runtime::v1::LinuxContainerResources& r, bool swap_accounting,
                           boost::json::object& resources) {
  bj::object memory;
  if (r.memory_limit_in_bytes() != 0) {
    memory["limit"] = r.memory_limit_in_bytes();
    if (r.memory_swap_limit_in_bytes() == 0 && swap_accounting) {
      memory["swap"] = r.memory_limit_in_bytes();
    }
  }
  if (r.memory_swap_limit_in_bytes() != 0 && swap_accounting) {
    memory["swap"] = r.memory_swap_limit_in_bytes();
  }
  if (!memory.empty()) resources["memory"] = std::move(memory);

  bj::object cpu;
  if (r.cpu_shares() != 0) cpu["shares"] = static_cast<uint64_t>(r.cpu_shares());
  if (r.cpu_quota() != 0) cpu["quota"] = r.cpu_quota();
  if (r.cpu_period() != 0) cpu["period"] = static_cast<uint64_t>(r.cpu_period());
  if (!r.cpuset_cpus().empty()) cpu["cpus"] = r.cpuset_cpus();
  if (!r.cpuset_mems().empty()) cpu["mems"] = r.cpuset_mems();
  if (!cpu.empty()) resources["cpu"] = std::move(cpu);

  if (r.hugepage_limits_size() != 0) {
    bj::array pages;
    for (const auto& h : r.hugepage_limits())
      pages.emplace_back(bj::object{{"pageSize", h.page_size()}, {"limit", h.limit()}});
    resources["hugepageLimits"] = std::move(pages);
  }
  if (!r.unified().empty()) {
    // Sorted, so the document is the same for the same request.
    std::map<std::string, std::string> sorted(r.unified().begin(), r.unified().end());
    bj::object unified;
    for (const auto& [k, v] : sorted)
      unified[k] = v;
    resources["unified"] = std::move(unified);
  }
}

int ClampOomScoreAdj(int adj, std::optional<int> floor) {
  if (floor && adj < *floor) {
    BLOG(kDebug) << "oom_score_adj " << adj << " raised to " << *floor
                 << " (restrict_oom_score_adj)";
    return *floor;
  }
  return adj;
}

Status CheckSysctls(const google::protobuf::Map<std::string, std::string>& sysctls,
                    bool host_network, bool host_ipc) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : sysctls)
    keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  for (const std::string& key : keys) {
    std::string field = "sysctls[\"" + key + "\"]";
    if (IpcSysctl(key)) {
      if (host_ipc) {
        return Error(Errc::kInvalidArgument,
                     field + ": needs the pod's own IPC namespace, but the pod uses the host's");
      }
    } else if (key.rfind("net.", 0) == 0) {
      if (host_network) {
        return Error(Errc::kInvalidArgument,
                     field +
                         ": needs the pod's own network namespace, but the pod uses the "
                         "host network");
      }
    } else {
      return Error(Errc::kInvalidArgument,
                   field +
                       ": not a namespaced sysctl (kernel.shm*, kernel.msg*, kernel.sem, "
                       "fs.mqueue.*, net.*)");
    }
  }
  return Ok();
}

}  // namespace berth::cri
