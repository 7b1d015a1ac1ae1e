#pragma once
// Pod -> CRI PodSandboxConfig as kubelet's generatePodSandboxConfig builds
// it: metadata, hostname, log directory, DNS per dnsPolicy, host ports,
// namespaces, cgroup parent by QoS class, sysctls and the pod-level
// security context.

#include <boost/json.hpp>

#include "agent/cri/cri_client.h"
#include "agent/pods/pod_options.h"
#include "common/error.h"

namespace berth::agent {

Result<v1::PodSandboxConfig> BuildSandboxConfig(const boost::json::object& pod,
                                                const PodOptions& options, uint32_t attempt);

// The DNS settings the pod gets (servers, searches, options).
Result<v1::DNSConfig> PodDns(const boost::json::object& pod, const PodOptions& options);

// <cgroup_root>/kubepods[/burstable|/besteffort]/pod<uid>
std::string PodCgroupParent(const boost::json::object& pod, const PodOptions& options);

// The log directory kubelet gives the pod: <logs>/<ns>_<name>_<uid>.
std::string PodLogDirectory(const boost::json::object& pod, const PodOptions& options);

// Labels the runtime objects of a pod carry (kubelet's newPodLabels).
constexpr const char* kPodNameLabel = "io.kubernetes.pod.name";
constexpr const char* kPodNamespaceLabel = "io.kubernetes.pod.namespace";
constexpr const char* kPodUidLabel = "io.kubernetes.pod.uid";
constexpr const char* kContainerNameLabel = "io.kubernetes.container.name";

}  // namespace berth::agent
