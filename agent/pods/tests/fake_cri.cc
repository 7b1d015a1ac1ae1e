#include "agent/pods/tests/fake_cri.h"

#include <chrono>

namespace berth::agent::testing {

void FakeImages::Add(const std::string& image, const std::string& id) {
  std::lock_guard lock(mu_);
  images_[image] = id;
}

void FakeImages::FailPulls(grpc::StatusCode code, const std::string& message) {
  std::lock_guard lock(mu_);
  pull_error_ = code;
  pull_message_ = message;
}

std::vector<v1::PullImageRequest> FakeImages::pulls() {
  std::lock_guard lock(mu_);
  return pulls_;
}

std::vector<std::string> FakeImages::status_queries() {
  std::lock_guard lock(mu_);
  return status_queries_;
}

grpc::Status FakeImages::ImageStatus(grpc::ServerContext*, const v1::ImageStatusRequest* req,
                                     v1::ImageStatusResponse* resp) {
  std::lock_guard lock(mu_);
  status_queries_.push_back(req->image().image());
  auto it = images_.find(req->image().image());
  if (it != images_.end()) {
    resp->mutable_image()->set_id(it->second);
    resp->mutable_image()->add_repo_tags(it->first);
  }
  return grpc::Status::OK;
}

void FakeImages::BlockPulls() {
  std::lock_guard lock(mu_);
  block_pulls_ = true;
}

void FakeImages::ReleasePulls() {
  {
    std::lock_guard lock(mu_);
    block_pulls_ = false;
  }
  pull_cv_.notify_all();
}

int FakeImages::pulls_in_flight() {
  std::lock_guard lock(mu_);
  return in_flight_;
}

int FakeImages::cancelled_pulls() {
  std::lock_guard lock(mu_);
  return cancelled_;
}

grpc::Status FakeImages::PullImage(grpc::ServerContext* ctx, const v1::PullImageRequest* req,
                                   v1::PullImageResponse* resp) {
  std::unique_lock lock(mu_);
  pulls_.push_back(*req);
  ++in_flight_;
  // As a runtime would between chunks: look at the call now and then.
  while (block_pulls_ && !ctx->IsCancelled())
    pull_cv_.wait_for(lock, std::chrono::milliseconds(5));
  --in_flight_;
  if (ctx->IsCancelled()) {
    ++cancelled_;
    return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client");
  }
  if (pull_error_ != grpc::StatusCode::OK) return grpc::Status(pull_error_, pull_message_);
  std::string id = "sha256:pulled-" + std::to_string(pulls_.size());
  images_[req->image().image()] = id;
  resp->set_image_ref(id);
  return grpc::Status::OK;
}

void FakeRuntimeService::AddSandbox(const v1::PodSandboxStatus& s) {
  std::lock_guard lock(mu_);
  sandboxes_.push_back(s);
}

void FakeRuntimeService::AddContainer(const v1::ContainerStatus& c, const std::string& sandbox_id) {
  std::lock_guard lock(mu_);
  containers_.emplace_back(c, sandbox_id);
}

void FakeRuntimeService::Vanish(const std::string& id) {
  std::lock_guard lock(mu_);
  vanished_.insert(id);
}

std::vector<std::map<std::string, std::string>> FakeRuntimeService::selectors() {
  std::lock_guard lock(mu_);
  return selectors_;
}

bool FakeRuntimeService::Matches(const google::protobuf::Map<std::string, std::string>& selector,
                                 const google::protobuf::Map<std::string, std::string>& labels) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

grpc::Status FakeRuntimeService::ListPodSandbox(grpc::ServerContext*,
                                                const v1::ListPodSandboxRequest* req,
                                                v1::ListPodSandboxResponse* resp) {
  std::lock_guard lock(mu_);
  const auto& selector = req->filter().label_selector();
  selectors_.emplace_back(selector.begin(), selector.end());
  for (const v1::PodSandboxStatus& s : sandboxes_) {
    if (!Matches(selector, s.labels())) continue;
    v1::PodSandbox* item = resp->add_items();
    item->set_id(s.id());
    *item->mutable_metadata() = s.metadata();
    item->set_state(s.state());
    item->set_created_at(s.created_at());
    *item->mutable_labels() = s.labels();
  }
  return grpc::Status::OK;
}

grpc::Status FakeRuntimeService::PodSandboxStatus(grpc::ServerContext*,
                                                  const v1::PodSandboxStatusRequest* req,
                                                  v1::PodSandboxStatusResponse* resp) {
  std::lock_guard lock(mu_);
  if (vanished_.contains(req->pod_sandbox_id())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such sandbox");
  }
  for (const v1::PodSandboxStatus& s : sandboxes_) {
    if (s.id() == req->pod_sandbox_id()) {
      *resp->mutable_status() = s;
      return grpc::Status::OK;
    }
  }
  return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such sandbox");
}

grpc::Status FakeRuntimeService::ListContainers(grpc::ServerContext*,
                                                const v1::ListContainersRequest* req,
                                                v1::ListContainersResponse* resp) {
  std::lock_guard lock(mu_);
  const auto& selector = req->filter().label_selector();
  selectors_.emplace_back(selector.begin(), selector.end());
  for (const auto& [c, sandbox_id] : containers_) {
    if (!Matches(selector, c.labels())) continue;
    v1::Container* item = resp->add_containers();
    item->set_id(c.id());
    item->set_pod_sandbox_id(sandbox_id);
    *item->mutable_metadata() = c.metadata();
    item->set_state(c.state());
    item->set_created_at(c.created_at());
    *item->mutable_labels() = c.labels();
  }
  return grpc::Status::OK;
}

grpc::Status FakeRuntimeService::ContainerStatus(grpc::ServerContext*,
                                                 const v1::ContainerStatusRequest* req,
                                                 v1::ContainerStatusResponse* resp) {
  std::lock_guard lock(mu_);
  if (vanished_.contains(req->container_id())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such container");
  }
  for (const auto& [c, sandbox_id] : containers_) {
    if (c.id() == req->container_id()) {
      *resp->mutable_status() = c;
      return grpc::Status::OK;
    }
  }
  return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such container");
}

FakeCri::FakeCri() {
  grpc::ServerBuilder builder;
  builder.RegisterService(&images_);
  builder.RegisterService(&runtime_);
  server_ = builder.BuildAndStart();
  client_ = std::make_unique<CriClient>(server_->InProcessChannel(grpc::ChannelArguments()));
}

FakeCri::~FakeCri() {
  server_->Shutdown();
}

grpc::Status FakeRuntimeService::RemoveContainer(grpc::ServerContext*,
                                                 const v1::RemoveContainerRequest* req,
                                                 v1::RemoveContainerResponse*) {
  std::lock_guard lock(mu_);
  std::erase_if(containers_, [&](const auto& c) { return c.first.id() == req->container_id(); });
  return grpc::Status::OK;
}

grpc::Status FakeRuntimeService::RemovePodSandbox(grpc::ServerContext*,
                                                  const v1::RemovePodSandboxRequest* req,
                                                  v1::RemovePodSandboxResponse*) {
  std::lock_guard lock(mu_);
  std::erase_if(sandboxes_, [&](const auto& s) { return s.id() == req->pod_sandbox_id(); });
  std::erase_if(containers_, [&](const auto& c) { return c.second == req->pod_sandbox_id(); });
  return grpc::Status::OK;
}

}  // namespace berth::agent::testing
