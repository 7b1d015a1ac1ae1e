#pragma once
// Container garbage collection for one live pod, as upstream's kubelet does
// it with its defaults (MaxPerPodContainer 1, MinAge 0): of the exited
// instances of each container only the newest stays, for lastState and
// `kubectl logs --previous`; a sandbox that is not ready and holds no
// container goes unless it is the newest such. A container that crashes
// for days leaves two instances, not thousands with their logs.

#include <string>
#include <vector>

#include "agent/cri/cri_client.h"
#include "agent/pods/runtime_pod.h"
#include "common/error.h"

namespace berth::agent {

struct ContainerGcPlan {
  std::vector<const v1::ContainerStatus*> containers;  // to remove, oldest last
  std::vector<const v1::PodSandboxStatus*> sandboxes;
};

// What to remove from `rt`; pointers into it.
ContainerGcPlan PlanContainerGc(const RuntimePod& rt);

// Removes what the plan names through the CRI, with each container's log
// (and its rotated files) and termination-message file
// (<messages_dir>/<name>/<attempt>), as kubelet's removeContainer does.
// Goes on past a failure; the first one is returned.
Status CollectContainerGarbage(CriClient& cri, const RuntimePod& rt,
                               const std::string& messages_dir);

}  // namespace berth::agent
