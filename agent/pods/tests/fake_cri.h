#pragma once
// An in-process CRI for the pod worker's tests: an ImageService whose
// images and pull results the test sets (pulls recorded with their auth),
// and a RuntimeService answering the list/status RPCs InspectPod makes from
// sandboxes and containers the test declares.

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/cri/cri_client.h"

namespace berth::agent::testing {

class FakeImages final : public v1::ImageService::Service {
 public:
  // An image the runtime has: reference -> image id.
  void Add(const std::string& image, const std::string& id);
  // Makes every PullImage fail with `code`.
  void FailPulls(grpc::StatusCode code, const std::string& message);
  std::vector<v1::PullImageRequest> pulls();
  std::vector<std::string> status_queries();
  // From now on PullImage blocks until the client cancels the call (then
  // it fails CANCELLED) or ReleasePulls() lets it finish.
  void BlockPulls();
  void ReleasePulls();
  int pulls_in_flight();
  // Blocked pulls that ended because the client cancelled them.
  int cancelled_pulls();

  grpc::Status ImageStatus(grpc::ServerContext*, const v1::ImageStatusRequest* req,
                           v1::ImageStatusResponse* resp) override;
  grpc::Status PullImage(grpc::ServerContext*, const v1::PullImageRequest* req,
                         v1::PullImageResponse* resp) override;

 private:
  std::mutex mu_;
  std::map<std::string, std::string> images_;
  std::vector<v1::PullImageRequest> pulls_;
  std::vector<std::string> status_queries_;
  grpc::StatusCode pull_error_ = grpc::StatusCode::OK;
  std::string pull_message_;
  std::condition_variable pull_cv_;
  bool block_pulls_ = false;
  int in_flight_ = 0;
  int cancelled_ = 0;
};

class FakeRuntimeService final : public v1::RuntimeService::Service {
 public:
  void AddSandbox(const v1::PodSandboxStatus& s);
  // `sandbox_id` is what ListContainers reports as pod_sandbox_id.
  void AddContainer(const v1::ContainerStatus& c, const std::string& sandbox_id);
  // Listed, but gone by the time its status is asked for.
  void Vanish(const std::string& id);
  std::vector<std::map<std::string, std::string>> selectors();

  grpc::Status ListPodSandbox(grpc::ServerContext*, const v1::ListPodSandboxRequest* req,
                              v1::ListPodSandboxResponse* resp) override;
  grpc::Status PodSandboxStatus(grpc::ServerContext*, const v1::PodSandboxStatusRequest* req,
                                v1::PodSandboxStatusResponse* resp) override;
  grpc::Status ListContainers(grpc::ServerContext*, const v1::ListContainersRequest* req,
                              v1::ListContainersResponse* resp) override;
  grpc::Status ContainerStatus(grpc::ServerContext*, const v1::ContainerStatusRequest* req,
                               v1::ContainerStatusResponse* resp) override;
  // Removal forgets the object; removing an unknown one succeeds, as the
  // CRI asks.
  grpc::Status RemoveContainer(grpc::ServerContext*, const v1::RemoveContainerRequest* req,
                               v1::RemoveContainerResponse*) override;
  grpc::Status RemovePodSandbox(grpc::ServerContext*, const v1::RemovePodSandboxRequest* req,
                                v1::RemovePodSandboxResponse*) override;

 private:
  static bool Matches(const google::protobuf::Map<std::string, std::string>& selector,
                      const google::protobuf::Map<std::string, std::string>& labels);

  std::mutex mu_;
  std::vector<v1::PodSandboxStatus> sandboxes_;
  std::vector<std::pair<v1::ContainerStatus, std::string>> containers_;
  std::set<std::string> vanished_;
  std::vector<std::map<std::string, std::string>> selectors_;
};

// Both services behind one in-process gRPC server, with a CriClient on it.
class FakeCri {
 public:
  FakeCri();
  ~FakeCri();
  FakeCri(const FakeCri&) = delete;
  FakeCri& operator=(const FakeCri&) = delete;

  CriClient& client() { return *client_; }
  FakeImages& images() { return images_; }
  FakeRuntimeService& runtime() { return runtime_; }

 private:
  FakeImages images_;
  FakeRuntimeService runtime_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<CriClient> client_;
};

}  // namespace berth::agent::testing
