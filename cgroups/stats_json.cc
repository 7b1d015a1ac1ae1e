// StatsToRuncJson: Stats in the JSON runc 1.1 prints for
// `runc events --stats` (types.Stats: Go field order, Go's omitempty where
// runc's tags have it, maps with sorted keys), so containerd's runc shim and
// other parsers of runc's output read berth's unchanged.

#include <boost/json.hpp>

#include "cgroups/stats.h"
#include "common/strings.h"

namespace berth::cgroups {

namespace {

namespace bj = boost::json;

void PutIf(bj::object& o, const char* key, uint64_t v) {
  if (v != 0) o[key] = v;
}

bj::array Array(const std::vector<uint64_t>& v) {
  bj::array a;
  for (uint64_t x : v)
    a.emplace_back(x);
  return a;
}

void PutIf(bj::object& o, const char* key, const std::vector<uint64_t>& v) {
  if (!v.empty()) o[key] = Array(v);
}

bj::object Cpu(const CpuStats& c) {
  bj::object usage;
  PutIf(usage, "total", c.total);
  PutIf(usage, "percpu", c.percpu);
  PutIf(usage, "percpu_kernel", c.percpu_kernel);
  PutIf(usage, "percpu_user", c.percpu_user);
  usage["kernel"] = c.kernel;
  usage["user"] = c.user;
  bj::object throttling;
  PutIf(throttling, "periods", c.periods);
  PutIf(throttling, "throttledPeriods", c.throttled_periods);
  PutIf(throttling, "throttledTime", c.throttled_time);
  bj::object cpu;
  cpu["usage"] = std::move(usage);
  cpu["throttling"] = std::move(throttling);
  return cpu;
}

bj::object Cpuset(const CpusetStats& c) {
  bj::object o;
  auto list = [](const std::vector<uint16_t>& v) {
    bj::array a;
    for (uint16_t x : v)
      a.emplace_back(x);
    return a;
  };
  if (!c.cpus.empty()) o["cpus"] = list(c.cpus);
  o["cpu_exclusive"] = c.cpu_exclusive;
  if (!c.mems.empty()) o["mems"] = list(c.mems);
  o["mem_hardwall"] = c.mem_hardwall;
  o["mem_exclusive"] = c.mem_exclusive;
  o["memory_migrate"] = c.memory_migrate;
  o["memory_spread_page"] = c.memory_spread_page;
  o["memory_spread_slab"] = c.memory_spread_slab;
  o["memory_pressure"] = c.memory_pressure;
  o["sched_load_balance"] = c.sched_load_balance;
  o["sched_relax_domain_level"] = c.sched_relax_domain_level;
  return o;
}

bj::object Entry(const MemoryEntry& e) {
  bj::object o;
  o["limit"] = e.limit;
  PutIf(o, "usage", e.usage);
  PutIf(o, "max", e.max);
  o["failcnt"] = e.failcnt;
  return o;
}

bj::object Memory(const MemoryStats& m) {
  bj::object o;
  PutIf(o, "cache", m.cache);
  o["usage"] = Entry(m.usage);
  o["swap"] = Entry(m.swap);
  o["kernel"] = Entry(m.kernel);
  o["kernelTCP"] = Entry(m.kernel_tcp);
  if (!m.raw.empty()) {
    bj::object raw;
    for (const auto& [k, v] : m.raw)
      raw[k] = v;
    o["raw"] = std::move(raw);
  }
  return o;
}

bj::array Blkio(const std::vector<BlkioEntry>& entries) {
  bj::array a;
  for (const BlkioEntry& e : entries) {
    bj::object o;
    PutIf(o, "major", e.major);
    PutIf(o, "minor", e.minor);
    if (!e.op.empty()) o["op"] = e.op;
    PutIf(o, "value", e.value);
    a.emplace_back(std::move(o));
  }
  return a;
}

}  // namespace

std::string StatsToRuncJson(const Stats& s) {
  bj::object o;
  o["cpu"] = Cpu(s.cpu);
  o["cpuset"] = Cpuset(s.cpuset);
  o["memory"] = Memory(s.memory);
  bj::object pids;
  PutIf(pids, "current", s.pids.current);
  PutIf(pids, "limit", s.pids.limit);
  o["pids"] = std::move(pids);
  bj::object blkio;
  if (!s.io_service_bytes.empty()) blkio["ioServiceBytesRecursive"] = Blkio(s.io_service_bytes);
  if (!s.io_serviced.empty()) blkio["ioServicedRecursive"] = Blkio(s.io_serviced);
  o["blkio"] = std::move(blkio);
  bj::object hugetlb;
  for (const auto& [size, h] : s.hugetlb) {
    bj::object e;
    PutIf(e, "usage", h.usage);
    PutIf(e, "max", h.max);
    e["failcnt"] = h.failcnt;
    hugetlb[size] = std::move(e);
  }
  o["hugetlb"] = std::move(hugetlb);
  o["intel_rdt"] = bj::object();
  o["network_interfaces"] = nullptr;
  return bj::serialize(o);
}

Result<std::vector<uint16_t>> ParseCpuList(std::string_view text) {
  std::vector<uint16_t> out;
  for (const std::string& part : SplitNonEmpty(Trim(text), ',')) {
    size_t dash = part.find('-');
    uint16_t first = BERTH_TRY(ParseInt<uint16_t>(part.substr(0, dash), "cpu list"));
    uint16_t last = first;
    if (dash != std::string::npos)
      last = BERTH_TRY(ParseInt<uint16_t>(part.substr(dash + 1), "cpu list"));
    if (last < first) {
      return Error(Errc::kInvalidArgument, "cpu list: bad range \"" + part + "\"");
    }
    for (uint32_t i = first; i <= last; ++i)
      out.push_back(static_cast<uint16_t>(i));
  }
  return out;
}

}  // namespace berth::cgroups
