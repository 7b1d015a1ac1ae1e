#pragma once
// A CRI runtime for the node agent's tests, in this process: Version,
// Status, ListImages and ImageFsInfo answer from state the test sets.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/cri/cri_client.h"
#include "runtime/cri/proto/api.grpc.pb.h"

namespace berth::agent::testing {

namespace v1 = ::runtime::v1;

struct FakeRuntimeState {
  std::mutex mu;
  bool runtime_ready = true;
  bool network_ready = true;
  std::string network_reason, network_message;
  std::vector<v1::Image> images;
  std::string imagefs_mountpoint;  // "" = none reported
  int status_calls = 0;
};

class FakeRuntimeService : public v1::RuntimeService::Service {
 public:
  explicit FakeRuntimeService(FakeRuntimeState& s) : s_(s) {}
  grpc::Status Version(grpc::ServerContext*, const v1::VersionRequest*,
                       v1::VersionResponse* out) override {
    out->set_version("0.1.0");
    out->set_runtime_name("fake");
    out->set_runtime_version("1.2.3");
    out->set_runtime_api_version("v1");
    return grpc::Status::OK;
  }
  grpc::Status Status(grpc::ServerContext*, const v1::StatusRequest*,
                      v1::StatusResponse* out) override {
    std::lock_guard lock(s_.mu);
    ++s_.status_calls;
    auto* runtime = out->mutable_status()->add_conditions();
    runtime->set_type("RuntimeReady");
    runtime->set_status(s_.runtime_ready);
    if (!s_.runtime_ready) {
      runtime->set_reason("NotStarted");
      runtime->set_message("still starting");
    }
    auto* network = out->mutable_status()->add_conditions();
    network->set_type("NetworkReady");
    network->set_status(s_.network_ready);
    network->set_reason(s_.network_reason);
    network->set_message(s_.network_message);
    auto* handler = out->add_runtime_handlers();
    handler->mutable_features()->set_recursive_read_only_mounts(true);
    out->mutable_features()->set_supplemental_groups_policy(true);
    return grpc::Status::OK;
  }

 private:
  FakeRuntimeState& s_;
};

class FakeImageService : public v1::ImageService::Service {
 public:
  explicit FakeImageService(FakeRuntimeState& s) : s_(s) {}
  grpc::Status ListImages(grpc::ServerContext*, const v1::ListImagesRequest*,
                          v1::ListImagesResponse* out) override {
    std::lock_guard lock(s_.mu);
    for (const v1::Image& i : s_.images)
      *out->add_images() = i;
    return grpc::Status::OK;
  }
  grpc::Status ImageFsInfo(grpc::ServerContext*, const v1::ImageFsInfoRequest*,
                           v1::ImageFsInfoResponse* out) override {
    std::lock_guard lock(s_.mu);
    if (!s_.imagefs_mountpoint.empty()) {
      out->add_image_filesystems()->mutable_fs_id()->set_mountpoint(s_.imagefs_mountpoint);
    }
    return grpc::Status::OK;
  }

 private:
  FakeRuntimeState& s_;
};

class FakeRuntime {
 public:
  FakeRuntime() {
    grpc::ServerBuilder builder;
    builder.RegisterService(&runtime_);
    builder.RegisterService(&images_);
    server_ = builder.BuildAndStart();
    client_ = std::make_unique<CriClient>(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  ~FakeRuntime() { server_->Shutdown(); }
  FakeRuntime(const FakeRuntime&) = delete;
  FakeRuntime& operator=(const FakeRuntime&) = delete;

  CriClient& cri() { return *client_; }
  FakeRuntimeState& state() { return state_; }

  static v1::Image Image(const std::string& tag, const std::string& digest, uint64_t size) {
    v1::Image i;
    i.set_id("sha256:" + digest);
    if (!tag.empty()) i.add_repo_tags(tag);
    if (!digest.empty()) i.add_repo_digests("example.com/img@sha256:" + digest);
    i.set_size(size);
    return i;
  }

 private:
  FakeRuntimeState state_;
  FakeRuntimeService runtime_{state_};
  FakeImageService images_{state_};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<CriClient> client_;
};

}  // namespace berth::agent::testing
