#pragma once
// The agent's pods as the runtime sees them, found through CRI by the
// labels the pod worker puts on sandboxes and containers
// (io.kubernetes.pod.namespace/name/uid, io.kubernetes.container.name):
// the running container an exec, attach or /run goes to, the ready sandbox
// of a port-forward, and the container whose log `kubectl logs
// [--previous]` shows.

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "agent/cri/cri_client.h"
#include "common/error.h"

namespace berth::agent::kubelet {

inline constexpr const char* kPodNameLabel = "io.kubernetes.pod.name";
inline constexpr const char* kPodNamespaceLabel = "io.kubernetes.pod.namespace";
inline constexpr const char* kPodUidLabel = "io.kubernetes.pod.uid";
inline constexpr const char* kContainerNameLabel = "io.kubernetes.container.name";
inline constexpr const char* kRestartCountAnnotation = "io.kubernetes.container.restartCount";

class PodRuntime {
 public:
  explicit PodRuntime(CriClient& cri) : cri_(cri) {}

  // The newest running container `container` of pod `ns`/`pod` (`uid`
  // when not ""). kNotFound "container not found ("c")" as kubelet says.
  Result<std::string> RunningContainer(const std::string& ns, const std::string& pod,
                                       const std::string& uid, const std::string& container);
  // The newest ready sandbox of the pod. kNotFound "pod not found ("name_ns")".
  Result<std::string> ReadySandbox(const std::string& ns, const std::string& pod,
                                   const std::string& uid);
  // The container `kubectl logs` reads (kubelet's validateContainerLogStatus):
  // from the pod's status when it has the container's, else from the
  // runtime (newest instance; with `previous` the one before, or the newest
  // when it exited and is going to be restarted). kInvalidArgument with
  // kubelet's message when there is none (answered 400).
  Result<std::string> LogContainer(const boost::json::object& pod, const std::string& container,
                                   bool previous);
  // The container's log file: CRI ContainerStatus.log_path, or where the
  // pod worker lays logs out when the runtime reports none
  // (<pod_logs_dir>/<ns>_<name>_<uid>/<container>/<restartCount>.log).
  Result<std::string> LogPath(const std::string& container_id, const std::string& pod_logs_dir);
  bool IsRunning(const std::string& container_id);

  // Pods from the runtime's ready sandboxes and running containers, as
  // kubelet's /runningpods lists them (name, namespace, uid, containers).
  Result<boost::json::array> RunningPods();

 private:
  Result<std::vector<v1::Container>> Containers(const std::string& ns, const std::string& pod,
                                                const std::string& uid,
                                                const std::string& container, bool running_only);
  Result<std::string> LogContainerFromRuntime(const boost::json::object& pod,
                                              const std::string& container, bool previous);

  CriClient& cri_;
};

// The runtime's id in a status containerID ("containerd://abc" -> "abc").
std::string StripRuntimeScheme(const std::string& container_id);

}  // namespace berth::agent::kubelet
