#pragma once
// Runtime objects as the CRI reports them, for tests of what the worker
// makes of a pod's sandboxes and containers.

#include <string>

#include "agent/cri/cri_client.h"
#include "agent/pods/sandbox_config.h"

namespace berth::agent::testing {

inline v1::PodSandboxStatus Sandbox(const std::string& id, const std::string& uid, uint32_t attempt,
                                    int64_t created_at, bool ready) {
  v1::PodSandboxStatus s;
  s.set_id(id);
  s.mutable_metadata()->set_uid(uid);
  s.mutable_metadata()->set_attempt(attempt);
  s.set_created_at(created_at);
  s.set_state(ready ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY);
  (*s.mutable_labels())[kPodUidLabel] = uid;
  return s;
}

inline v1::ContainerStatus Container(const std::string& id, const std::string& uid,
                                     const std::string& name, uint32_t attempt,
                                     int64_t created_at) {
  v1::ContainerStatus c;
  c.set_id(id);
  c.mutable_metadata()->set_name(name);
  c.mutable_metadata()->set_attempt(attempt);
  c.set_created_at(created_at);
  c.set_state(v1::CONTAINER_EXITED);
  (*c.mutable_labels())[kPodUidLabel] = uid;
  (*c.mutable_labels())[kContainerNameLabel] = name;
  return c;
}

}  // namespace berth::agent::testing
