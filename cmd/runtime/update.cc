// `update`: new cgroup limits from a LinuxResources JSON (--resources FILE,
// "-" for stdin) and/or runc's individual flags, which override it.

#include <unistd.h>

#include <cmath>

#include "cmd/flags.h"
#include "cmd/runtime/cli.h"
#include "common/file.h"
#include "common/json.h"
#include "common/strings.h"

namespace berth::cli::runtime {
namespace {

// docker/go-units RAMInBytes: "64m", "1.5g", "512MiB", binary multiples.
Result<int64_t> ParseBytes(const std::string& flag, const std::string& raw) {
  if (raw == "-1") return -1;
  std::string s = raw;
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.'))
    ++i;
  std::string number = s.substr(0, i);
  std::string unit = std::string(Trim(s.substr(i)));
  for (char& c : unit)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.ends_with("b")) unit.pop_back();
  if (unit.ends_with("i")) unit.pop_back();
  static const std::string kUnits = "kmgtp";
  double mult = 1;
  if (!unit.empty()) {
    size_t pos = unit.size() == 1 ? kUnits.find(unit[0]) : std::string::npos;
    if (pos == std::string::npos)
      return Error(Errc::kInvalidArgument, "--" + flag + ": invalid size \"" + raw + "\"");
    mult = std::pow(1024.0, static_cast<double>(pos + 1));
  }
  char* end = nullptr;
  double value = std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size()) {
    return Error(Errc::kInvalidArgument, "--" + flag + ": invalid size \"" + raw + "\"");
  }
  return static_cast<int64_t>(value * mult);
}

struct UpdateFlags {
  std::string resources, memory, memory_reservation, memory_swap, kernel_memory, kernel_memory_tcp;
  std::string cpu_period, cpu_quota, cpu_share, cpu_rt_period, cpu_rt_runtime, cpuset_cpus,
      cpuset_mems;
  std::string blkio_weight, pids_limit;
};

template <class T>
Status SetInt(const std::string& flag, const std::string& raw, std::optional<T>& out) {
  if (raw.empty()) return Ok();
  out = BERTH_TRY(ParseInt<T>(raw, "--" + flag));
  return Ok();
}

Status SetBytes(const std::string& flag, const std::string& raw, std::optional<int64_t>& out) {
  if (raw.empty()) return Ok();
  out = BERTH_TRY(ParseBytes(flag, raw));
  return Ok();
}

Result<cgroups::Resources> BuildResources(const UpdateFlags& f) {
  cgroups::Resources r;
  if (!f.resources.empty()) {
    std::string text =
        BERTH_TRY(f.resources == "-" ? ReadFileAt(0, "/dev/stdin") : ReadFile(f.resources));
    json::bj::value doc = BERTH_TRY(json::Parse(text, f.resources == "-" ? "stdin" : f.resources));
    r = BERTH_TRY(cgroups::ParseResources(json::Field(&doc, "resources")));
  }
  cgroups::MemoryLimits mem = r.memory.value_or(cgroups::MemoryLimits{});
  BERTH_TRY(SetBytes("memory", f.memory, mem.limit));
  BERTH_TRY(SetBytes("memory-reservation", f.memory_reservation, mem.reservation));
  BERTH_TRY(SetBytes("memory-swap", f.memory_swap, mem.swap));
  BERTH_TRY(SetBytes("kernel-memory", f.kernel_memory, mem.kernel));
  BERTH_TRY(SetBytes("kernel-memory-tcp", f.kernel_memory_tcp, mem.kernel_tcp));
  if (mem.limit || mem.reservation || mem.swap || mem.kernel || mem.kernel_tcp || r.memory)
    r.memory = mem;
  cgroups::CpuLimits cpu = r.cpu.value_or(cgroups::CpuLimits{});
  BERTH_TRY(SetInt("cpu-period", f.cpu_period, cpu.period));
  BERTH_TRY(SetInt("cpu-quota", f.cpu_quota, cpu.quota));
  BERTH_TRY(SetInt("cpu-share", f.cpu_share, cpu.shares));
  BERTH_TRY(SetInt("cpu-rt-period", f.cpu_rt_period, cpu.realtime_period));
  BERTH_TRY(SetInt("cpu-rt-runtime", f.cpu_rt_runtime, cpu.realtime_runtime));
  if (!f.cpuset_cpus.empty()) cpu.cpus = f.cpuset_cpus;
  if (!f.cpuset_mems.empty()) cpu.mems = f.cpuset_mems;
  if (cpu.period || cpu.quota || cpu.shares || cpu.realtime_period || cpu.realtime_runtime ||
      !cpu.cpus.empty() || !cpu.mems.empty() || r.cpu) {
    r.cpu = cpu;
  }
  if (!f.blkio_weight.empty()) {
    cgroups::BlockIo io = r.block_io.value_or(cgroups::BlockIo{});
    BERTH_TRY(SetInt("blkio-weight", f.blkio_weight, io.weight));
    r.block_io = io;
  }
  BERTH_TRY(SetInt("pids-limit", f.pids_limit, r.pids_limit));
  return r;
}

}  // namespace

int Update(Context& ctx, const Args& args) {
  UpdateFlags f;
  FlagSet flags("update");
  flags.String("resources,r", &f.resources,
               "path to a file containing the resources to update, or \"-\" for stdin");
  flags.String("memory", &f.memory, "memory limit (in bytes, or with a unit: 64m)");
  flags.String("memory-reservation", &f.memory_reservation, "memory reservation or soft limit");
  flags.String("memory-swap", &f.memory_swap,
               "total memory usage (memory + swap); -1 for unlimited");
  flags.String("kernel-memory", &f.kernel_memory,
               "kernel memory limit (ignored by modern kernels)");
  flags.String("kernel-memory-tcp", &f.kernel_memory_tcp, "kernel memory limit for tcp buffers");
  flags.String("cpu-period", &f.cpu_period, "CPU CFS period in microseconds");
  flags.String("cpu-quota", &f.cpu_quota, "CPU CFS quota in microseconds");
  flags.String("cpu-share", &f.cpu_share, "CPU shares (relative weight)");
  flags.String("cpu-rt-period", &f.cpu_rt_period, "CPU realtime period in microseconds");
  flags.String("cpu-rt-runtime", &f.cpu_rt_runtime, "CPU realtime runtime in microseconds");
  flags.String("cpuset-cpus", &f.cpuset_cpus, "CPUs to use");
  flags.String("cpuset-mems", &f.cpuset_mems, "memory nodes to use");
  flags.String("blkio-weight", &f.blkio_weight, "block IO weight (10-1000)");
  flags.String("pids-limit", &f.pids_limit, "maximum number of pids; -1 for unlimited");
  Result<std::string> id = ParseContainerId(flags, args, "update", "[options] <container-id>");
  if (!id.ok()) return Fail(ctx, id.error());
  Result<cgroups::Resources> resources = BuildResources(f);
  if (!resources.ok()) return Fail(ctx, resources.error());
  if (Status s = oci::UpdateContainer(ctx.rt, *id, *resources); !s.ok())
    return Fail(ctx, s.error());
  return 0;
}

}  // namespace berth::cli::runtime
