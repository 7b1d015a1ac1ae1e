#pragma once
// What a pod worker uses of the rest of the agent; the pod manager owns
// all of it and outlives its workers.

#include <boost/json.hpp>
#include <functional>
#include <string>
#include <vector>

#include "agent/cri/cri_client.h"
#include "agent/pods/image_puller.h"
#include "agent/pods/pod_options.h"
#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "controlplane/client/event_recorder.h"
#include "volumes/field_ref.h"

namespace berth::volumes {
class VolumeManager;
}

namespace berth::agent {

class ProberManager;
class PodCgroups;

struct PodDeps {
  const PodOptions* options = nullptr;
  controlplane::client::ApiClient* api = nullptr;
  CriClient* cri = nullptr;
  controlplane::client::EventRecorder* events = nullptr;
  ImagePuller* images = nullptr;
  volumes::VolumeManager* volumes = nullptr;
  ProberManager* probers = nullptr;
  // The QoS tree and the pods' cgroups; null: left to the runtime.
  PodCgroups* cgroups = nullptr;
  std::string runtime_name = "berth";  // containerID prefix, from CRI Version
  std::function<std::vector<std::string>()> host_ips;
  std::function<volumes::NodeAllocatable()> allocatable;
  std::function<Result<boost::json::object>(const std::string&ns, const std::string&name)>
      config_map, secret;
  // Services for the link variables (the pod's namespace and default).
  std::function<std::vector<boost::json::object>(const std::string& ns)> services;
  // Whether `services` has read the Services at least once; null: always.
  std::function<bool()> services_synced;
  // Admission of a pod not yet started: "" or a rejection (reason, message).
  std::function<std::pair<std::string, std::string>(const boost::json::object& pod)> admit;
};

}  // namespace berth::agent
