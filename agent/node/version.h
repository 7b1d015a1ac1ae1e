#pragma once
// The Kubernetes version whose kubelet behaviour berth's agent implements:
// what the Node reports as status.nodeInfo.kubeletVersion (berth's own
// version shows in containerRuntimeVersion, through CRI Version, when the
// runtime is berth's).

namespace berth::agent {

inline constexpr char kKubeletVersion[] = "v1.33.0";

}  // namespace berth::agent
