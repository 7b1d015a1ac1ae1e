#pragma once
// The pod's API status from what the runtime has (upstream
// generateAPIPodStatus + getPhase): phase, conditions, container and init
// container statuses with state, lastState, ready, started, restartCount,
// image, imageID, containerID; podIP(s), hostIP(s), startTime, qosClass.

#include <boost/json.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/pods/runtime_pod.h"

namespace berth::agent {

struct ContainerWaiting {
  std::string reason, message;
};

struct StatusInputs {
  const boost::json::object* pod = nullptr;
  const RuntimePod* runtime = nullptr;
  // Why a container has no running instance (ErrImagePull,
  // CrashLoopBackOff, CreateContainerConfigError ...), set by the worker.
  std::map<std::string, ContainerWaiting> waiting;
  // Readiness / startup results; nullopt when the container has no such probe.
  std::function<std::optional<bool>(const std::string& name)> ready;
  std::function<std::optional<bool>(const std::string& name)> started;
  std::vector<std::string> host_ips;
  std::string runtime_name = "berth";  // containerID is <runtime_name>://<id>
  // Where termination message files are: <dir>/<container>/<attempt>.
  std::string termination_messages_dir;
  // Killed for deletion or deadline: the phase becomes terminal.
  bool terminated = false;
  // Rejected at admission or failed outright: phase Failed with these.
  std::string reason, message;
};

boost::json::object ComputePodStatus(const StatusInputs& in);

// The termination message of a finished container: its file (up to 4 KiB),
// or with FallbackToLogsOnError and a failure the log's last 80 lines (up
// to 2 KiB).
std::string TerminationMessage(const v1::ContainerStatus& c, const std::string& messages_dir,
                               const std::string& policy);

// Unix nanoseconds -> RFC 3339 (seconds), the API's time format.
std::string ApiTime(int64_t unix_nanos);

}  // namespace berth::agent
