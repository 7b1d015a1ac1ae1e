#pragma once
// Container spec -> CRI ContainerConfig as kubelet's generateContainerConfig
// builds it: command and args with $(VAR) expanded, environment, volume
// mounts (subPath, readOnly), the termination message file, resources
// (cpu shares/quota, memory limit, oom_score_adj by QoS) and the security
// context (capabilities, users, namespaces, default masked paths).

#include <boost/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "agent/container/expansion.h"
#include "agent/cri/cri_client.h"
#include "agent/pods/pod_options.h"
#include "common/error.h"

namespace berth::agent {

// A volume ready on the host, as the volume manager reports it.
struct PodVolume {
  std::string host_path;
  bool read_only = false;
};

struct ContainerInputs {
  const boost::json::object* pod = nullptr;
  const boost::json::object* container = nullptr;
  uint32_t attempt = 0;   // = restartCount
  std::string image_ref;  // what the pull resolved (image id)
  std::vector<EnvVar> env;
  std::map<std::string, PodVolume> volumes;
  std::string termination_message_host_path;  // "" = none
  int64_t memory_capacity = 0;                // the node's, for oom_score_adj
  // Localhost seccomp profiles are files below it (<root-dir>/seccomp).
  std::string seccomp_root = "/var/lib/berth/kubelet/seccomp";
};

Result<v1::ContainerConfig> BuildContainerConfig(const ContainerInputs& in);

// Upstream's GetContainerOOMScoreAdjust.
int64_t OomScoreAdjust(const boost::json::object& pod, const boost::json::object& container,
                       int64_t memory_capacity);

constexpr const char* kRestartCountAnnotation = "io.kubernetes.container.restartCount";
constexpr const char* kTerminationMessagePathAnnotation =
    "io.kubernetes.container.terminationMessagePath";
constexpr const char* kTerminationMessagePolicyAnnotation =
    "io.kubernetes.container.terminationMessagePolicy";
constexpr const char* kPodTerminationGraceAnnotation = "io.kubernetes.pod.terminationGracePeriod";

}  // namespace berth::agent
