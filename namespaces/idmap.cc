#include "namespaces/idmap.h"

#include "common/file.h"

namespace berth::ns {

std::string FormatIdMap(const std::vector<IdMapping>& mappings) {
  std::string out;
  for (const IdMapping& m : mappings) {
    out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
           std::to_string(m.size) + "\n";
  }
  return out;
}

std::optional<uint32_t> ToHost(const std::vector<IdMapping>& mappings, uint32_t container_id) {
  for (const IdMapping& m : mappings) {
    if (container_id >= m.container_id && container_id - m.container_id < m.size) {
      return m.host_id + (container_id - m.container_id);
    }
  }
  return std::nullopt;
}

Status WriteIdMaps(pid_t pid, const std::vector<IdMapping>& uid_mappings,
                   const std::vector<IdMapping>& gid_mappings) {
  std::string base = "/proc/" + std::to_string(pid);
  if (!uid_mappings.empty()) {
    BERTH_TRY(WriteExisting(base + "/uid_map", FormatIdMap(uid_mappings)));
  }
  if (!gid_mappings.empty()) {
    BERTH_TRY(WriteExisting(base + "/gid_map", FormatIdMap(gid_mappings)));
  }
  return Ok();
}

}  // namespace berth::ns
