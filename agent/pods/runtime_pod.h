#pragma once
// What the runtime has of one pod: its sandboxes and containers, found by
// the io.kubernetes.pod.uid label. Nothing is kept between syncs; the
// runtime is the record, which is what lets the agent restart (even after
// kill -9) and pick up running pods with their container IDs and restart
// counts unchanged.

#include <optional>
#include <string>
#include <vector>

#include "agent/cri/cri_client.h"
#include "common/error.h"

namespace berth::agent {

struct RuntimePod {
  std::vector<v1::PodSandboxStatus> sandboxes;  // newest first
  std::vector<v1::ContainerStatus> containers;  // newest first

  // The newest sandbox, if any.
  const v1::PodSandboxStatus* Sandbox() const;
  bool SandboxReady() const;
  // Instances of container `name` (newest first), in any sandbox.
  std::vector<const v1::ContainerStatus*> Instances(const std::string& name) const;
  // The newest instance of `name` in the newest sandbox.
  const v1::ContainerStatus* Current(const std::string& name) const;
  std::vector<std::string> PodIps() const;
};

Result<RuntimePod> InspectPod(CriClient& cri, const std::string& uid);

// A container's start attempt (= its restartCount).
uint32_t Attempt(const v1::ContainerStatus& c);
std::string SandboxIdOf(const v1::ContainerStatus& c);

}  // namespace berth::agent
