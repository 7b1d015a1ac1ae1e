#include "cni/bridge/sysctl.h"

#include "common/file.h"
#include "common/strings.h"

namespace berth::cni::bridge {

Status WriteSysctl(const std::string& key, const std::string& value) {
  return WriteExisting("/proc/sys/" + key, value);
}

Result<std::string> ReadSysctl(const std::string& key) {
  std::string text = BERTH_TRY(ReadFile("/proc/sys/" + key));
  return std::string(Trim(text));
}

}  // namespace berth::cni::bridge
