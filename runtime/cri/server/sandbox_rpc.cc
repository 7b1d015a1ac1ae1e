// RunPodSandbox / StopPodSandbox / RemovePodSandbox / PodSandboxStatus /
// ListPodSandbox.

#include <signal.h>
#include <sys/random.h>

#include <chrono>
#include <functional>
#include <future>
#include <ranges>
#include <thread>

#include "common/file.h"
#include "common/log.h"
#include "common/time.h"
#include "namespaces/pinned_netns.h"
#include "runtime/cri/server/grpc_status.h"
#include "runtime/cri/server/helpers.h"
#include "runtime/cri/server/runtime_service.h"
#include "runtime/cri/server/sandbox_files.h"
#include "runtime/shim/client.h"

namespace berth::cri {
namespace {

// Steps to undo when a multi-step operation fails part way.
class UndoStack {
 public:
  ~UndoStack() {
    for (auto& step : std::ranges::reverse_view(steps_))
      step();
  }
  void Push(std::function<void()> step) { steps_.push_back(std::move(step)); }
  void Commit() { steps_.clear(); }

 private:
  std::vector<std::function<void()>> steps_;
};

Status RequireMetadata(const v1::PodSandboxMetadata& m) {
  if (m.name().empty()) return Error(Errc::kInvalidArgument, "config.metadata.name: required");
  if (m.namespace_().empty()) {
    return Error(Errc::kInvalidArgument, "config.metadata.namespace: required");
  }
  if (m.uid().empty()) return Error(Errc::kInvalidArgument, "config.metadata.uid: required");
  return Ok();
}

}  // namespace

std::string RandomId() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

int64_t NowNs() {
  timespec ts = WallClockNow();
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Result<std::string> RuntimeService::DoRunPodSandbox(const v1::RunPodSandboxRequest& req) {
  const v1::PodSandboxConfig& config = req.config();
  BERTH_TRY(RequireMetadata(config.metadata()));
  std::string key = SandboxKey(config.metadata());
  if (auto taken = store_->SandboxNamed(key)) {
    return Error(Errc::kAlreadyExists, "pod sandbox name `" + key + "` is reserved for " + *taken);
  }
  if (!req.runtime_handler().empty() && req.runtime_handler() != "berth" &&
      req.runtime_handler() != "runc") {
    return Error(Errc::kInvalidArgument,
                 "runtime_handler `" + req.runtime_handler() + "`: not configured (berth, runc)");
  }
  SandboxRecord r;
  r.set_id(RandomId());
  *r.mutable_config() = config;
  r.set_created_at(NowNs());
  r.set_runtime_handler(req.runtime_handler());
  auto lock = store_->LockObject(r.id());
  std::lock_guard guard(*lock);
  UndoStack undo;
  std::string dir = store_->SandboxDir(r.id());
  undo.Push([dir] { (void)RemoveAll(dir); });
  std::string state_dir = SandboxStateDir(r.id());
  auto shm_released = std::make_shared<bool>(true);
  undo.Push([state_dir, shm_released] {
    if (*shm_released) (void)RemoveAll(state_dir);  // never through a mounted /dev/shm
  });

  SandboxFiles files = BERTH_TRY(PrepareSandboxFiles(state_dir, config));
  *shm_released = false;
  undo.Push([shm = files.shm, shm_released] { *shm_released = ReleaseSandboxShm(shm).ok(); });
  r.set_files_dir(state_dir);
  r.set_shm_path(files.shm);

  // CNI ADD, the slowest step (the plugins run one after another), runs
  // while the shim and the pause container start: those only need the netns.
  std::shared_future<Result<SandboxRecord>> network;
  if (!HostNetwork(config)) {
    BERTH_TRY(MkdirAll(options_.run_root + "/netns", 0755));
    std::string netns = options_.run_root + "/netns/cni-" + r.id().substr(0, 32);
    BERTH_TRY_CTX(ns::CreatePinnedNetns(netns), "create the pod's network namespace");
    r.set_netns_path(netns);
    undo.Push([netns] { (void)ns::RemovePinnedNetns(netns); });
    network =
        std::async(std::launch::async, [this, attached = r]() mutable -> Result<SandboxRecord> {
          BERTH_TRY(SetUpNetwork(attached));
          return attached;
        }).share();
    undo.Push([this, network] {
      Result<SandboxRecord> attached = network.get();  // waits for ADD to end
      if (attached.ok()) (void)TearDownNetwork(*attached);
    });
  }

  r.set_shim_dir(BERTH_TRY(StartShim(r)));
  undo.Push([this, r] {
    (void)oci::KillContainer(OciOptions(), r.id(), SIGKILL, true);
    (void)oci::DeleteContainer(OciOptions(), r.id(), true);
    StopWatcher(r.id());
    if (!shim::Shutdown(r.shim_dir()).ok()) BLOG(kWarn) << "shim of pod " << r.id() << " stays";
    (void)RemoveAll(r.shim_dir());
  });
  BERTH_TRY(StartPause(r, files));
  if (network.valid()) {
    const Result<SandboxRecord>& attached = network.get();
    if (!attached.ok()) return attached.error();
    *r.mutable_pod_ips() = attached->pod_ips();
    r.set_network_attached(attached->network_attached());
  }
  r.set_ready(true);
  BERTH_TRY(store_->Put(r));
  undo.Commit();
  return r.id();
}

Status RuntimeService::DoStopPodSandbox(const std::string& id_in) {
  Result<std::string> id = store_->ResolveSandboxId(id_in);
  if (!id.ok()) {
    if (id.error().code() == Errc::kNotFound) return Ok();  // idempotent, as containerd
    return std::move(id).error();
  }
  for (const ContainerRecord& c : store_->ContainersOf(*id)) {
    BERTH_TRY(DoStopContainer(c.id(), 0));
  }
  auto lock = store_->LockObject(*id);
  std::lock_guard guard(*lock);
  std::optional<SandboxRecord> r = store_->Sandbox(*id);
  if (!r) return Ok();
  BERTH_TRY(StopPause(*r));
  if (r->network_attached()) BERTH_TRY(TearDownNetwork(*r));
  if (!r->netns_path().empty()) BERTH_TRY(ns::RemovePinnedNetns(r->netns_path()));
  r->set_ready(false);
  return store_->Put(*r);
}

Status RuntimeService::DoRemovePodSandbox(const std::string& id_in) {
  Result<std::string> id = store_->ResolveSandboxId(id_in);
  if (!id.ok()) {
    if (id.error().code() == Errc::kNotFound) return Ok();
    return std::move(id).error();
  }
  BERTH_TRY(DoStopPodSandbox(*id));
  for (const ContainerRecord& c : store_->ContainersOf(*id)) {
    BERTH_TRY(DoRemoveContainer(c.id()));
  }
  auto lock = store_->LockObject(*id);
  std::lock_guard guard(*lock);
  std::optional<SandboxRecord> r = store_->Sandbox(*id);
  if (!r) return Ok();
  BERTH_TRY_CTX(oci::DeleteContainer(OciOptions(), r->id(), true), "delete pod sandbox " + *id);
  StopWatcher(r->id());
  if (!r->shim_dir().empty()) {
    berth::Status down = shim::Shutdown(r->shim_dir());
    if (!down.ok() && down.error().code() != Errc::kUnavailable &&
        down.error().sys_errno() != ENOENT && down.error().sys_errno() != ECONNREFUSED) {
      return std::move(down).error();
    }
    BERTH_TRY(RemoveAll(r->shim_dir()));
  }
  BERTH_TRY(ReleaseSandboxShm(r->shm_path()));
  BERTH_TRY(RemoveAll(SandboxStateDir(r->id())));
  return store_->RemoveSandbox(r->id());
}

v1::PodSandboxStatus RuntimeService::SandboxStatusOf(const SandboxRecord& r) const {
  v1::PodSandboxStatus s;
  s.set_id(r.id());
  *s.mutable_metadata() = r.config().metadata();
  s.set_state(r.ready() ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY);
  s.set_created_at(r.created_at());
  if (r.pod_ips_size() > 0) {
    s.mutable_network()->set_ip(r.pod_ips(0));
    for (int i = 1; i < r.pod_ips_size(); ++i) {
      s.mutable_network()->add_additional_ips()->set_ip(r.pod_ips(i));
    }
  }
  auto* nso = s.mutable_linux()->mutable_namespaces()->mutable_options();
  *nso = r.config().linux().security_context().namespace_options();
  *s.mutable_labels() = r.config().labels();
  *s.mutable_annotations() = r.config().annotations();
  s.set_runtime_handler(r.runtime_handler());
  return s;
}

grpc::Status RuntimeService::RunPodSandbox(grpc::ServerContext*,
                                           const v1::RunPodSandboxRequest* req,
                                           v1::RunPodSandboxResponse* resp) {
  Result<std::string> id = DoRunPodSandbox(*req);
  if (!id.ok()) return ToGrpc(std::move(id).error().Wrap("run pod sandbox"));
  resp->set_pod_sandbox_id(*id);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::StopPodSandbox(grpc::ServerContext*,
                                            const v1::StopPodSandboxRequest* req,
                                            v1::StopPodSandboxResponse*) {
  return ToGrpc(DoStopPodSandbox(req->pod_sandbox_id()));
}

grpc::Status RuntimeService::RemovePodSandbox(grpc::ServerContext*,
                                              const v1::RemovePodSandboxRequest* req,
                                              v1::RemovePodSandboxResponse*) {
  return ToGrpc(DoRemovePodSandbox(req->pod_sandbox_id()));
}

grpc::Status RuntimeService::PodSandboxStatus(grpc::ServerContext*,
                                              const v1::PodSandboxStatusRequest* req,
                                              v1::PodSandboxStatusResponse* resp) {
  Result<std::string> id = store_->ResolveSandboxId(req->pod_sandbox_id());
  if (!id.ok()) return ToGrpc(id.error());
  std::optional<SandboxRecord> r = store_->Sandbox(*id);
  if (!r) return ToGrpc(Error(Errc::kNotFound, "pod sandbox `" + *id + "` not found"));
  *resp->mutable_status() = SandboxStatusOf(*r);
  for (const ContainerRecord& c : store_->ContainersOf(*id)) {
    *resp->add_containers_statuses() = ContainerStatusOf(c);
  }
  resp->set_timestamp(NowNs());
  if (req->verbose()) {
    (*resp->mutable_info())["info"] = "{\"pid\":" + std::to_string(r->pause_pid()) +
                                      ",\"netnsPath\":\"" + r->netns_path() + "\"}";
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ListPodSandbox(grpc::ServerContext*,
                                            const v1::ListPodSandboxRequest* req,
                                            v1::ListPodSandboxResponse* resp) {
  const v1::PodSandboxFilter& f = req->filter();
  for (const SandboxRecord& r :
       store_->Sandboxes([&f](const SandboxRecord& r) { return FilterMatches(r, f); })) {
    v1::PodSandbox* s = resp->add_items();
    s->set_id(r.id());
    *s->mutable_metadata() = r.config().metadata();
    s->set_state(r.ready() ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY);
    s->set_created_at(r.created_at());
    *s->mutable_labels() = r.config().labels();
    *s->mutable_annotations() = r.config().annotations();
    s->set_runtime_handler(r.runtime_handler());
  }
  return grpc::Status::OK;
}

}  // namespace berth::cri
