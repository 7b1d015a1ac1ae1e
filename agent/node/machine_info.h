#pragma once
// What kubelet learns about the machine (upstream gets it from cAdvisor):
// CPUs, memory, huge pages, the root directory's filesystem, and the
// identity and versions status.nodeInfo reports.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "common/error.h"

namespace berth::agent {

// Where the files are read from; tests point them at a fake tree.
struct MachinePaths {
  std::string proc = "/proc";
  std::string sys = "/sys";
  std::string etc = "/etc";
};

struct MachineInfo {
  int64_t milli_cpu = 0;                     // CPUs this process may run on, x1000
  int64_t memory_bytes = 0;                  // MemTotal
  std::map<std::string, int64_t> hugepages;  // "hugepages-2Mi" -> bytes (pages x size)
  std::string machine_id;                    // /etc/machine-id
  std::string system_uuid;                   // /sys/class/dmi/id/product_uuid, else the machine ID
  std::string boot_id;                       // /proc/sys/kernel/random/boot_id
  std::string kernel_version;                // uname -r
  std::string os_image;                      // PRETTY_NAME of /etc/os-release ("Linux" without one)
  std::string architecture;                  // GOARCH spelling: amd64, arm64, ...
};

// CPU count from sched_getaffinity; an error only when /proc/meminfo
// cannot be read (the identity files are optional and left empty).
Result<MachineInfo> ReadMachineInfo(const MachinePaths& paths = {});

struct FsStats {
  int64_t capacity_bytes = 0;
  int64_t available_bytes = 0;  // to unprivileged users (f_bavail)
  int64_t inodes = 0;
  int64_t inodes_free = 0;
};
// statfs(2) of the filesystem holding `path`.
Result<FsStats> StatFs(const std::string& path);

struct MemoryStats {
  int64_t total_bytes = 0;      // MemTotal
  int64_t available_bytes = 0;  // MemAvailable
};
Result<MemoryStats> ReadMemoryStats(const MachinePaths& paths = {});

struct PidStats {
  int64_t max = 0;      // min(kernel.pid_max, kernel.threads-max)
  int64_t running = 0;  // tasks, from /proc/loadavg
};
Result<PidStats> ReadPidStats(const MachinePaths& paths = {});

// The GOARCH name of the architecture this was built for.
const char* GoArch();

}  // namespace berth::agent
