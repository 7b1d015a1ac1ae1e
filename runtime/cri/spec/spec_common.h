#pragma once
// Pieces the sandbox and container specs share (internal to berth_cri_spec).

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "runtime/cri/proto/api.pb.h"

namespace berth::cri::detail {

inline constexpr char kOciVersion[] = "1.1.0";

// containerd's default linux.maskedPaths / linux.readonlyPaths.
const std::vector<std::string>& DefaultMaskedPaths();
const std::vector<std::string>& DefaultReadonlyPaths();

boost::json::array Strings(const std::vector<std::string>& list);
template <class Repeated>
boost::json::array Strings(const Repeated& list) {
  boost::json::array out;
  for (const auto& s : list)
    out.emplace_back(s);
  return out;
}

// {"type": type} or {"type": type, "path": path}.
boost::json::object NamespaceJson(const char* type, const std::string& path = "");

// A protobuf string map as a JSON object, keys sorted (a stable document).
boost::json::object SortedObject(const google::protobuf::Map<std::string, std::string>& map);

// The deprecated seccomp_profile_path field (older kubelets still send it).
template <class SecurityContext>
const std::string& LegacySeccompPath(const SecurityContext& sc) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  return sc.seccomp_profile_path();
#pragma GCC diagnostic pop
}

// A user namespace for the pod (userns_options mode POD) is not supported.
bool WantsPodUserNamespace(const ::runtime::v1::NamespaceOption& options);

// The sandbox's namespace options (absent message: all POD).
const ::runtime::v1::NamespaceOption& SandboxNamespaces(
    const ::runtime::v1::PodSandboxConfig& config);

}  // namespace berth::cri::detail
