#include "integration/cri/cri_calls.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/file.h"
#include "common/strings.h"

namespace berth::integration {

grpc::ClientContext* Ctx(grpc::ClientContext& ctx, std::chrono::seconds timeout) {
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  return &ctx;
}

std::vector<std::string> LogLines(const std::string& path) {
  std::vector<std::string> out;
  for (const std::string& line : SplitNonEmpty(ReadFile(path).value_or(""), '\n')) {
    size_t sp = line.find(' ');
    out.push_back(sp == std::string::npos ? line : line.substr(sp + 1));
  }
  return out;
}

std::string CriCalls::RunPod(const v1::PodSandboxConfig& config) {
  grpc::ClientContext ctx;
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = config;
  v1::RunPodSandboxResponse resp;
  grpc::Status s = stub_->RunPodSandbox(Ctx(ctx, timeout_), req, &resp);
  EXPECT_TRUE(s.ok()) << "RunPodSandbox " << config.metadata().name() << ": " << s.error_message();
  return s.ok() ? resp.pod_sandbox_id() : "";
}

grpc::Status CriCalls::Create(const std::string& pod, const v1::PodSandboxConfig& pod_config,
                              const v1::ContainerConfig& config, std::string* id) {
  grpc::ClientContext ctx;
  v1::CreateContainerRequest req;
  req.set_pod_sandbox_id(pod);
  *req.mutable_config() = config;
  *req.mutable_sandbox_config() = pod_config;
  v1::CreateContainerResponse resp;
  grpc::Status s = stub_->CreateContainer(Ctx(ctx, timeout_), req, &resp);
  *id = resp.container_id();
  return s;
}

std::string CriCalls::CreateAndStart(const std::string& pod, const v1::PodSandboxConfig& pod_config,
                                     const v1::ContainerConfig& config) {
  std::string id;
  grpc::Status s = Create(pod, pod_config, config, &id);
  EXPECT_TRUE(s.ok()) << "CreateContainer " << config.metadata().name() << ": "
                      << s.error_message();
  if (!s.ok()) return "";
  grpc::ClientContext ctx;
  v1::StartContainerRequest req;
  req.set_container_id(id);
  v1::StartContainerResponse resp;
  s = stub_->StartContainer(Ctx(ctx, timeout_), req, &resp);
  EXPECT_TRUE(s.ok()) << "StartContainer " << config.metadata().name() << ": " << s.error_message();
  return id;
}

v1::ContainerStatus CriCalls::ContainerStatus(const std::string& id) {
  grpc::ClientContext ctx;
  v1::ContainerStatusRequest req;
  req.set_container_id(id);
  v1::ContainerStatusResponse resp;
  grpc::Status s = stub_->ContainerStatus(Ctx(ctx, timeout_), req, &resp);
  EXPECT_TRUE(s.ok()) << "ContainerStatus " << id << ": " << s.error_message();
  return resp.status();
}

v1::ContainerStatus CriCalls::WaitExited(const std::string& id, std::chrono::milliseconds timeout,
                                         std::chrono::milliseconds poll) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  v1::ContainerStatus st;
  do {
    st = ContainerStatus(id);
    if (st.state() == v1::CONTAINER_EXITED) break;
    std::this_thread::sleep_for(poll);
  } while (std::chrono::steady_clock::now() < deadline);
  return st;
}

v1::PodSandboxStatus CriCalls::PodStatus(const std::string& id) {
  grpc::ClientContext ctx;
  v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(id);
  v1::PodSandboxStatusResponse resp;
  grpc::Status s = stub_->PodSandboxStatus(Ctx(ctx, timeout_), req, &resp);
  EXPECT_TRUE(s.ok()) << "PodSandboxStatus " << id << ": " << s.error_message();
  return resp.status();
}

grpc::Status CriCalls::RemovePod(const std::string& id) {
  grpc::ClientContext ctx;
  v1::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id(id);
  v1::RemovePodSandboxResponse resp;
  return stub_->RemovePodSandbox(Ctx(ctx, timeout_), req, &resp);
}

}  // namespace berth::integration
