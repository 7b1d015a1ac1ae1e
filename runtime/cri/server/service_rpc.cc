// The service itself: creation and re-adoption, Version, Status,
// RuntimeConfig, UpdateRuntimeConfig, GetContainerEvents.

#include <chrono>

#include "common/file.h"
#include "common/log.h"
#include "generated/version.h"
#include "runtime/cri/server/grpc_status.h"
#include "runtime/cri/server/helpers.h"
#include "runtime/cri/server/runtime_service.h"
#include "runtime/cri/server/stream_backend.h"

namespace berth::cri {

RuntimeService::RuntimeService(CriOptions options, ImageResolver images)
    : options_(std::move(options)), images_(std::move(images)) {}

RuntimeService::~RuntimeService() {
  if (streaming_) streaming_->Stop();
  StopWatchers();
}

Result<std::unique_ptr<RuntimeService>> RuntimeService::Create(const CriOptions& options,
                                                               ImageResolver images) {
  std::unique_ptr<RuntimeService> s(new RuntimeService(options, std::move(images)));
  BERTH_TRY(MkdirAll(options.run_root, 0711));
  s->store_ = BERTH_TRY(RecordStore::Open(options.root + "/cri"));
  BERTH_TRY_CTX(PreparePauseRootfs(s->PauseRootfs(), options.pause_binary),
                "prepare the pause rootfs from " + options.pause_binary);
  cni::ClientOptions cni;
  cni.conf_dir = options.cni_conf_dir;
  cni.plugin_dirs = options.cni_bin_dirs;
  cni.cache_dir =
      options.cni_cache_dir.empty() ? options.root + "/cni/results" : options.cni_cache_dir;
  s->cni_ = std::make_unique<cni::Client>(cni);
  (void)s->cni_->Reload();  // no config yet is NetworkReady=false, not an error
  BERTH_TRY(s->Readopt());
  s->streaming_ =
      std::make_unique<streaming::Server>(std::make_shared<StreamBackend>(s->store_.get()));
  std::string bound = BERTH_TRY_CTX(s->streaming_->Start(options.stream_address),
                                    "start the streaming server on " + options.stream_address);
  BLOG(kInfo) << "streaming server on " << bound;
  return s;
}

void RuntimeService::Emit(v1::ContainerEventType type, const ContainerRecord& c) {
  v1::ContainerEventResponse e;
  e.set_container_id(c.id());
  e.set_container_event_type(type);
  e.set_created_at(NowNs());
  if (std::optional<SandboxRecord> s = store_->Sandbox(c.sandbox_id())) {
    *e.mutable_pod_sandbox_status() = SandboxStatusOf(*s);
  }
  *e.add_containers_statuses() = ContainerStatusOf(c);
  events_.Publish(e);
}

grpc::Status RuntimeService::Version(grpc::ServerContext*, const v1::VersionRequest*,
                                     v1::VersionResponse* resp) {
  resp->set_version("0.1.0");
  resp->set_runtime_name("berth");
  resp->set_runtime_version(BERTH_VERSION);
  resp->set_runtime_api_version("v1");
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Status(grpc::ServerContext*, const v1::StatusRequest* req,
                                    v1::StatusResponse* resp) {
  v1::RuntimeCondition* runtime = resp->mutable_status()->add_conditions();
  runtime->set_type("RuntimeReady");
  runtime->set_status(true);
  v1::RuntimeCondition* network = resp->mutable_status()->add_conditions();
  network->set_type("NetworkReady");
  berth::Status net = cni_->NetworkStatus();
  network->set_status(net.ok());
  if (!net.ok()) {
    network->set_reason("NetworkPluginNotReady");
    network->set_message("Network plugin returns error: " + net.error().str());
  }
  if (req->verbose()) {
    (*resp->mutable_info())["config"] = "{\"root\":\"" + options_.root + "\",\"runRoot\":\"" +
                                        options_.run_root + "\",\"cniConfDir\":\"" +
                                        options_.cni_conf_dir + "\"}";
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::RuntimeConfig(grpc::ServerContext*, const v1::RuntimeConfigRequest*,
                                           v1::RuntimeConfigResponse* resp) {
  resp->mutable_linux()->set_cgroup_driver(v1::CGROUPFS);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::UpdateRuntimeConfig(grpc::ServerContext*,
                                                 const v1::UpdateRuntimeConfigRequest* req,
                                                 v1::UpdateRuntimeConfigResponse*) {
  // kubelet sends the node's pod CIDR; CNI plugins read theirs from their
  // configuration, so only a reload is due.
  if (!req->runtime_config().network_config().pod_cidr().empty()) (void)cni_->Reload();
  return grpc::Status::OK;
}

// Exec/Attach/PortForward answer with a URL of the streaming server; the
// container must exist (and run) now, as kubelet expects NotFound early.
grpc::Status RuntimeService::Exec(grpc::ServerContext*, const v1::ExecRequest* req,
                                  v1::ExecResponse* resp) {
  Result<std::string> id = store_->ResolveContainerId(req->container_id());
  if (!id.ok()) return ToGrpc(id.error());
  streaming::ExecRequest r{*id,           {req->cmd().begin(), req->cmd().end()},
                           req->tty(),    req->stdin(),
                           req->stdout(), req->stderr()};
  Result<std::string> url = streaming_->GetExec(r);
  if (!url.ok()) return ToGrpc(url.error());
  resp->set_url(*url);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::Attach(grpc::ServerContext*, const v1::AttachRequest* req,
                                    v1::AttachResponse* resp) {
  Result<std::string> id = store_->ResolveContainerId(req->container_id());
  if (!id.ok()) return ToGrpc(id.error());
  streaming::AttachRequest r{*id, req->stdin(), req->tty(), req->stdout(), req->stderr()};
  Result<std::string> url = streaming_->GetAttach(r);
  if (!url.ok()) return ToGrpc(url.error());
  resp->set_url(*url);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::PortForward(grpc::ServerContext*, const v1::PortForwardRequest* req,
                                         v1::PortForwardResponse* resp) {
  Result<std::string> id = store_->ResolveSandboxId(req->pod_sandbox_id());
  if (!id.ok()) return ToGrpc(id.error());
  streaming::PortForwardRequest r{*id, {req->port().begin(), req->port().end()}};
  Result<std::string> url = streaming_->GetPortForward(r);
  if (!url.ok()) return ToGrpc(url.error());
  resp->set_url(*url);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::GetContainerEvents(
    grpc::ServerContext* ctx, const v1::GetEventsRequest*,
    grpc::ServerWriter<v1::ContainerEventResponse>* writer) {
  auto sub = events_.Subscribe();
  while (!ctx->IsCancelled() && !stopping_) {
    std::optional<v1::ContainerEventResponse> e = sub->Next(std::chrono::milliseconds(200));
    if (e && !writer->Write(*e)) break;
  }
  events_.Unsubscribe(sub);
  return grpc::Status::OK;
}

}  // namespace berth::cri
