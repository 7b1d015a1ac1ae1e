#include "runtime/cri/spec/spec_common.h"

#include <map>

namespace berth::cri::detail {

namespace bj = boost::json;
namespace v1 = ::runtime::v1;

const std::vector<std::string>& DefaultMaskedPaths() {
  static const std::vector<std::string> paths = {
      "/proc/acpi",          "/proc/asound",
      "/proc/kcore",         "/proc/keys",
      "/proc/latency_stats", "/proc/timer_list",
      "/proc/timer_stats",   "/proc/sched_debug",
      "/sys/firmware",       "/sys/devices/virtual/powercap",
      "/proc/scsi"};
  return paths;
}

const std::vector<std::string>& DefaultReadonlyPaths() {
  static const std::vector<std::string> paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                 "/proc/sysrq-trigger"};
  return paths;
}

boost::json::array Strings(const std::vector<std::string>& list) {
  bj::array out;
  for (const std::string& s : list)
    out.emplace_back(s);
  return out;
}

boost::json::object NamespaceJson(const char* type, const std::string& path) {
  bj::object ns{{"type", type}};
  if (!path.empty()) ns["path"] = path;
  return ns;
}

boost::json::object SortedObject(const google::protobuf::Map<std::string, std::string>& map) {
  std::map<std::string, std::string> sorted(map.begin(), map.end());
  bj::object out;
  for (const auto& [k, v] : sorted)
    out[k] = v;
  return out;
}

bool WantsPodUserNamespace(const v1::NamespaceOption& options) {
  return options.has_userns_options() && options.userns_options().mode() == v1::POD;
}

const v1::NamespaceOption& SandboxNamespaces(const v1::PodSandboxConfig& config) {
  return config.linux().security_context().namespace_options();
}

}  // namespace berth::cri::detail
