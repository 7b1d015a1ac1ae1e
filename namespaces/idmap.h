#pragma once
// User-namespace id mappings (user_namespaces(7)): uid_map / gid_map.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace berth::ns {

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

// "0 100000 65536\n..." as the kernel expects it in one write.
std::string FormatIdMap(const std::vector<IdMapping>& mappings);
// Maps an id inside the namespace to the host; nullopt when unmapped.
std::optional<uint32_t> ToHost(const std::vector<IdMapping>& mappings, uint32_t container_id);

// Writes /proc/<pid>/uid_map and gid_map. The writer must be privileged in
// the parent user namespace; then setgroups need not be denied.
Status WriteIdMaps(pid_t pid, const std::vector<IdMapping>& uid_mappings,
                   const std::vector<IdMapping>& gid_mappings);

}  // namespace berth::ns
