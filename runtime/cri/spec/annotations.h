#pragma once
// The io.kubernetes.cri.* annotations containerd's CRI plugin writes into
// every config.json (runtimes such as Kata read them), with the same keys.

namespace berth::cri::annotations {

inline constexpr char kContainerType[] = "io.kubernetes.cri.container-type";
inline constexpr char kContainerTypeSandbox[] = "sandbox";
inline constexpr char kContainerTypeContainer[] = "container";
inline constexpr char kSandboxId[] = "io.kubernetes.cri.sandbox-id";
inline constexpr char kSandboxName[] = "io.kubernetes.cri.sandbox-name";
inline constexpr char kSandboxNamespace[] = "io.kubernetes.cri.sandbox-namespace";
inline constexpr char kSandboxUid[] = "io.kubernetes.cri.sandbox-uid";
inline constexpr char kSandboxLogDir[] = "io.kubernetes.cri.sandbox-log-directory";
inline constexpr char kSandboxCpuPeriod[] = "io.kubernetes.cri.sandbox-cpu-period";
inline constexpr char kSandboxCpuQuota[] = "io.kubernetes.cri.sandbox-cpu-quota";
inline constexpr char kSandboxCpuShares[] = "io.kubernetes.cri.sandbox-cpu-shares";
inline constexpr char kSandboxMemory[] = "io.kubernetes.cri.sandbox-memory";
inline constexpr char kContainerName[] = "io.kubernetes.cri.container-name";
inline constexpr char kImageName[] = "io.kubernetes.cri.image-name";

}  // namespace berth::cri::annotations
