#pragma once
// The CRI calls the suites (integration/cri, integration/cri-vm) make on a
// RuntimeService stub, each with a deadline; the helpers that return a value
// record a gtest failure (non-fatal) when the call fails.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>
#include <vector>

#include "runtime/cri/proto/api.grpc.pb.h"

namespace berth::integration {

namespace v1 = ::runtime::v1;

grpc::ClientContext* Ctx(grpc::ClientContext& ctx,
                         std::chrono::seconds timeout = std::chrono::seconds(60));

// The lines of a CRI log, as "<stream> <tag> <content>".
std::vector<std::string> LogLines(const std::string& path);

class CriCalls {
 public:
  CriCalls(v1::RuntimeService::Stub* stub, std::chrono::seconds timeout)
      : stub_(stub), timeout_(timeout) {}

  // The sandbox id ("" on failure).
  std::string RunPod(const v1::PodSandboxConfig& config);
  grpc::Status Create(const std::string& pod, const v1::PodSandboxConfig& pod_config,
                      const v1::ContainerConfig& config, std::string* id);
  // Create + Start; the container id ("" when create failed).
  std::string CreateAndStart(const std::string& pod, const v1::PodSandboxConfig& pod_config,
                             const v1::ContainerConfig& config);
  v1::ContainerStatus ContainerStatus(const std::string& id);
  // Polls ContainerStatus until the container has exited or `timeout` passed.
  v1::ContainerStatus WaitExited(const std::string& id, std::chrono::milliseconds timeout,
                                 std::chrono::milliseconds poll);
  v1::PodSandboxStatus PodStatus(const std::string& id);
  grpc::Status RemovePod(const std::string& id);

 private:
  v1::RuntimeService::Stub* stub_;
  std::chrono::seconds timeout_;
};

}  // namespace berth::integration
