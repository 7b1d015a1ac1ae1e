// CreateContainer / StartContainer / StopContainer / RemoveContainer /
// ContainerStatus / ListContainers / UpdateContainerResources /
// ReopenContainerLog.

#include <signal.h>
#include <sys/mount.h>

#include <cerrno>
#include <chrono>
#include <functional>

#include "cgroups/resources.h"
#include "common/file.h"
#include "common/json.h"
#include "common/log.h"
#include "common/signals.h"
#include "runtime/cri/server/grpc_status.h"
#include "runtime/cri/server/helpers.h"
#include "runtime/cri/server/runtime_service.h"
#include "runtime/cri/server/sandbox_files.h"
#include "runtime/cri/spec/container_spec.h"
#include "runtime/cri/spec/resources.h"
#include "runtime/image/unpack/overlay.h"
#include "runtime/shim/client.h"

namespace berth::cri {

namespace {

Status UnmountRootfs(const std::string& rootfs) {
  if (rootfs.empty()) return Ok();
  if (::umount2(rootfs.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return Error::Sys("umount", rootfs);
  }
  return Ok();
}

}  // namespace

Result<std::string> RuntimeService::DoCreateContainer(const v1::CreateContainerRequest& req) {
  Result<std::string> sandbox_id = store_->ResolveSandboxId(req.pod_sandbox_id());
  if (!sandbox_id.ok()) return std::move(sandbox_id).error();
  auto sandbox_lock = store_->LockObject(*sandbox_id);
  std::lock_guard sandbox_guard(*sandbox_lock);
  std::optional<SandboxRecord> sandbox = store_->Sandbox(*sandbox_id);
  if (!sandbox) return Error(Errc::kNotFound, "pod sandbox `" + *sandbox_id + "` not found");
  if (!sandbox->ready()) {
    return Error(Errc::kFailedPrecondition, "pod sandbox `" + *sandbox_id + "` is not ready");
  }
  const v1::ContainerConfig& config = req.config();
  if (config.metadata().name().empty()) {
    return Error(Errc::kInvalidArgument, "config.metadata.name: required");
  }
  std::string key = ContainerKey(*sandbox_id, config.metadata());
  if (auto taken = store_->ContainerNamed(key)) {
    return Error(Errc::kAlreadyExists, "container name `" + key + "` is reserved for " + *taken);
  }
  if (config.image().image().empty()) {
    return Error(Errc::kInvalidArgument, "config.image.image: required");
  }
  ContainerImage image = BERTH_TRY(images_(config.image().image()));

  ContainerRecord r;
  r.set_id(RandomId());
  r.set_sandbox_id(*sandbox_id);
  *r.mutable_config() = config;
  // The record lives on disk: values from Secrets must not. The
  // environment is needed only now, for the bundle (on the run root).
  r.mutable_config()->clear_envs();
  r.set_image_ref(image.id);
  r.set_image_name(config.image().image());
  r.set_created_at(NowNs());
  r.set_stop_signal(image.config.stop_signal);
  r.set_snapshot_chain_id(image.chain_id);
  r.set_state(v1::CONTAINER_CREATED);

  // Everything below is undone unless the container is fully created.
  std::string dir = store_->ContainerDir(r.id());
  std::string state_dir = ContainerStateDir(r.id());
  bool done = false;
  std::string mounted;
  std::shared_ptr<void> undo(nullptr, [&](void*) {
    if (done) return;
    bool unmounted = UnmountRootfs(mounted).ok();
    (void)oci::DeleteContainer(OciOptions(), r.id(), true);
    (void)shim::Forget(sandbox->shim_dir(), r.id());
    (void)RemoveAll(dir);
    if (unmounted) (void)RemoveAll(state_dir);  // never through a mounted rootfs
  });

  for (const std::string& d :
       {dir + "/upper", dir + "/work", state_dir + "/rootfs", state_dir + "/bundle"}) {
    BERTH_TRY(MkdirAll(d, 0700));
  }
  r.set_rootfs(state_dir + "/rootfs");
  image::OverlayMount overlay = BERTH_TRY_CTX(
      image::MountOverlay(image.lower_dirs, dir + "/upper", dir + "/work", r.rootfs(), false),
      "mount the container's rootfs");
  mounted = overlay.release();

  ContainerSpecInput in;
  in.config = &config;
  in.sandbox = &sandbox->config();
  in.container_id = r.id();
  in.sandbox_id = sandbox->id();
  in.rootfs = r.rootfs();
  in.image = &image.config;
  in.image_ref = config.image().image();
  in.sandbox_pid = sandbox->pause_pid();
  in.netns_path = sandbox->netns_path();
  in.cgroups_path = CgroupsPathFor(sandbox->config().linux().cgroup_parent(), r.id());
  in.hostname_file = sandbox->files_dir() + "/hostname";
  in.hosts_file = sandbox->files_dir() + "/hosts";
  in.resolv_conf = sandbox->files_dir() + "/resolv.conf";
  in.shm_path = sandbox->shm_path();
  boost::json::object spec = BERTH_TRY(BuildContainerSpec(in));
  r.set_bundle(state_dir + "/bundle");
  // Read only when the container is created: after a power loss the
  // container is gone and so is any use for it, so no fsync.
  BERTH_TRY(WriteFileAtomic(r.bundle() + "/config.json", boost::json::serialize(spec), 0600,
                            Durability::kProcessCrash));

  const std::string& log_dir = sandbox->config().log_directory();
  if (!log_dir.empty() && !config.log_path().empty()) {
    r.set_log_path(log_dir + "/" + config.log_path());
    size_t slash = r.log_path().rfind('/');
    BERTH_TRY(MkdirAll(r.log_path().substr(0, slash), 0755));
  }
  shim::CreateRequest create;
  create.id = r.id();
  create.bundle = r.bundle();
  create.stdin = config.stdin();
  create.stdin_once = config.stdin_once();
  create.tty = config.tty();
  create.log_path = r.log_path();
  r.set_pid(BERTH_TRY(shim::Create(sandbox->shim_dir(), create)));
  BERTH_TRY(store_->Put(r));
  done = true;
  Emit(v1::CONTAINER_CREATED_EVENT, r);
  return r.id();
}

Status RuntimeService::DoStartContainer(const std::string& id_in) {
  std::string id = BERTH_TRY(store_->ResolveContainerId(id_in));
  auto lock = store_->LockObject(id);
  std::lock_guard guard(*lock);
  std::optional<ContainerRecord> r = store_->Container(id);
  if (!r) return Error(Errc::kNotFound, "container `" + id + "` not found");
  if (r->state() != v1::CONTAINER_CREATED) {
    return Error(Errc::kFailedPrecondition, "container `" + id + "` is " +
                                                v1::ContainerState_Name(r->state()) +
                                                ", not CONTAINER_CREATED");
  }
  int64_t started_at = NowNs();
  BERTH_TRY_CTX(oci::StartContainer(OciOptions(), id), "start container `" + id + "`");
  // A quick process may have exited already and the watcher applied it:
  // under exit_mu_ the two updates cannot overwrite each other.
  std::optional<ContainerRecord> now;
  {
    std::lock_guard exits(exit_mu_);
    now = store_->Container(id);
    if (!now) return Ok();
    now->set_started_at(started_at);
    if (now->state() == v1::CONTAINER_CREATED) now->set_state(v1::CONTAINER_RUNNING);
    BERTH_TRY(store_->Put(*now, Durability::kProcessCrash));
  }
  Emit(v1::CONTAINER_STARTED_EVENT, *now);
  return Ok();
}

Status RuntimeService::KillAndWait(const ContainerRecord& c, int signal, int64_t timeout_ms) {
  berth::Status killed = oci::KillContainer(OciOptions(), c.id(), signal, false);
  if (!killed.ok() && killed.error().code() != Errc::kFailedPrecondition &&
      killed.error().code() != Errc::kNotFound) {
    return std::move(killed).error();
  }
  if (!killed.ok()) {
    // Already stopped: make sure its exit is applied (it may have happened
    // while no watcher listened).
    std::optional<SandboxRecord> s = store_->Sandbox(c.sandbox_id());
    if (s) {
      auto exit = shim::ReadExitRecord(s->shim_dir(), c.id());
      if (exit.ok() && exit->has_value()) ApplyExit(c.id(), (*exit)->status, (*exit)->finished_ns);
    }
  }
  std::unique_lock lock(exit_mu_);
  auto exited = [&] {
    std::optional<ContainerRecord> r = store_->Container(c.id());
    return !r || r->state() == v1::CONTAINER_EXITED;
  };
  if (timeout_ms < 0) {
    exit_cv_.wait(lock, exited);
    return Ok();
  }
  if (exit_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), exited)) return Ok();
  return Error(Errc::kDeadlineExceeded, "container `" + c.id() + "` did not exit");
}

Status RuntimeService::DoStopContainer(const std::string& id_in, int64_t timeout_s) {
  std::string id = BERTH_TRY(store_->ResolveContainerId(id_in));
  auto lock = store_->LockObject(id);
  std::lock_guard guard(*lock);
  std::optional<ContainerRecord> r = store_->Container(id);
  if (!r) return Error(Errc::kNotFound, "container `" + id + "` not found");
  if (r->state() == v1::CONTAINER_EXITED) return Ok();
  if (r->state() == v1::CONTAINER_CREATED) {
    // Never started: nothing to signal gracefully.
    return KillAndWait(*r, SIGKILL, 10000);
  }
  if (timeout_s > 0) {
    int signal = SIGTERM;
    if (!r->stop_signal().empty()) {
      Result<int> parsed = ParseSignal(r->stop_signal());
      if (parsed.ok()) signal = *parsed;
    }
    if (KillAndWait(*r, signal, timeout_s * 1000).ok()) return Ok();
  }
  return KillAndWait(*r, SIGKILL, 30000);
}

Status RuntimeService::DoRemoveContainer(const std::string& id_in) {
  Result<std::string> resolved = store_->ResolveContainerId(id_in);
  if (!resolved.ok()) {
    if (resolved.error().code() == Errc::kNotFound) return Ok();  // idempotent
    return std::move(resolved).error();
  }
  std::string id = *resolved;
  BERTH_TRY(DoStopContainer(id, 0));
  auto lock = store_->LockObject(id);
  std::lock_guard guard(*lock);
  std::optional<ContainerRecord> r = store_->Container(id);
  if (!r) return Ok();
  berth::Status deleted = oci::DeleteContainer(OciOptions(), id, true);
  if (!deleted.ok() && deleted.error().code() != Errc::kNotFound) {
    return std::move(deleted).error().Wrap("remove container `" + id + "`");
  }
  if (std::optional<SandboxRecord> s = store_->Sandbox(r->sandbox_id())) {
    berth::Status forgot = shim::Forget(s->shim_dir(), id);
    if (!forgot.ok()) BLOG(kWarn) << "container " << id << ": " << forgot.error().str();
  }
  BERTH_TRY(UnmountRootfs(r->rootfs()));
  BERTH_TRY(RemoveAll(ContainerStateDir(id)));
  BERTH_TRY(store_->RemoveContainer(id));
  Emit(v1::CONTAINER_DELETED_EVENT, *r);
  return Ok();
}

std::vector<std::string> RuntimeService::SnapshotsInUse() const {
  std::vector<std::string> out;
  for (const ContainerRecord& r : store_->Containers()) {
    if (!r.snapshot_chain_id().empty()) out.push_back(r.snapshot_chain_id());
  }
  return out;
}

v1::ContainerStatus RuntimeService::ContainerStatusOf(const ContainerRecord& r) const {
  v1::ContainerStatus s;
  s.set_id(r.id());
  *s.mutable_metadata() = r.config().metadata();
  s.set_state(r.state());
  s.set_created_at(r.created_at());
  s.set_started_at(r.started_at());
  s.set_finished_at(r.finished_at());
  s.set_exit_code(r.exit_code());
  *s.mutable_image() = r.config().image();
  s.set_image_ref(r.image_ref());
  s.set_reason(r.reason());
  s.set_message(r.message());
  *s.mutable_labels() = r.config().labels();
  *s.mutable_annotations() = r.config().annotations();
  *s.mutable_mounts() = r.config().mounts();
  s.set_log_path(r.log_path());
  s.set_image_id(r.image_ref());
  return s;
}

grpc::Status RuntimeService::CreateContainer(grpc::ServerContext*,
                                             const v1::CreateContainerRequest* req,
                                             v1::CreateContainerResponse* resp) {
  Result<std::string> id = DoCreateContainer(*req);
  if (!id.ok()) return ToGrpc(std::move(id).error().Wrap("create container"));
  resp->set_container_id(*id);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::StartContainer(grpc::ServerContext*,
                                            const v1::StartContainerRequest* req,
                                            v1::StartContainerResponse*) {
  return ToGrpc(DoStartContainer(req->container_id()));
}

grpc::Status RuntimeService::StopContainer(grpc::ServerContext*,
                                           const v1::StopContainerRequest* req,
                                           v1::StopContainerResponse*) {
  return ToGrpc(DoStopContainer(req->container_id(), req->timeout()));
}

grpc::Status RuntimeService::RemoveContainer(grpc::ServerContext*,
                                             const v1::RemoveContainerRequest* req,
                                             v1::RemoveContainerResponse*) {
  return ToGrpc(DoRemoveContainer(req->container_id()));
}

grpc::Status RuntimeService::ContainerStatus(grpc::ServerContext*,
                                             const v1::ContainerStatusRequest* req,
                                             v1::ContainerStatusResponse* resp) {
  Result<std::string> id = store_->ResolveContainerId(req->container_id());
  if (!id.ok()) return ToGrpc(id.error());
  std::optional<ContainerRecord> r = store_->Container(*id);
  if (!r) return ToGrpc(Error(Errc::kNotFound, "container `" + *id + "` not found"));
  *resp->mutable_status() = ContainerStatusOf(*r);
  if (req->verbose()) {
    (*resp->mutable_info())["info"] =
        "{\"pid\":" + std::to_string(r->pid()) + ",\"sandboxID\":\"" + r->sandbox_id() + "\"}";
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ListContainers(grpc::ServerContext*,
                                            const v1::ListContainersRequest* req,
                                            v1::ListContainersResponse* resp) {
  const v1::ContainerFilter& f = req->filter();
  for (const ContainerRecord& r :
       store_->Containers([&f](const ContainerRecord& r) { return FilterMatches(r, f); })) {
    v1::Container* c = resp->add_containers();
    c->set_id(r.id());
    c->set_pod_sandbox_id(r.sandbox_id());
    *c->mutable_metadata() = r.config().metadata();
    *c->mutable_image() = r.config().image();
    c->set_image_ref(r.image_ref());
    c->set_state(r.state());
    c->set_created_at(r.created_at());
    *c->mutable_labels() = r.config().labels();
    *c->mutable_annotations() = r.config().annotations();
    c->set_image_id(r.image_ref());
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::UpdateContainerResources(
    grpc::ServerContext*, const v1::UpdateContainerResourcesRequest* req,
    v1::UpdateContainerResourcesResponse*) {
  Result<std::string> id = store_->ResolveContainerId(req->container_id());
  if (!id.ok()) return ToGrpc(id.error());
  // Through the OCI form, as the spec builder writes it at create.
  boost::json::value oci_resources = boost::json::object();
  AddContainerResources(req->linux(), false, oci_resources.as_object());
  Result<cgroups::Resources> resources =
      cgroups::ParseResources(json::Field(&oci_resources, "linux.resources"));
  if (!resources.ok()) return ToGrpc(resources.error());
  berth::Status updated = oci::UpdateContainer(OciOptions(), *id, *resources);
  if (!updated.ok())
    return ToGrpc(std::move(updated).error().Wrap("update container `" + *id + "`"));
  std::optional<ContainerRecord> r = store_->Container(*id);
  if (r) {
    *r->mutable_config()->mutable_linux()->mutable_resources() = req->linux();
    (void)store_->Put(*r);
  }
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ReopenContainerLog(grpc::ServerContext*,
                                                const v1::ReopenContainerLogRequest* req,
                                                v1::ReopenContainerLogResponse*) {
  Result<std::string> id = store_->ResolveContainerId(req->container_id());
  if (!id.ok()) return ToGrpc(id.error());
  std::optional<ContainerRecord> r = store_->Container(*id);
  if (!r) return ToGrpc(Error(Errc::kNotFound, "container `" + *id + "` not found"));
  if (r->state() != v1::CONTAINER_RUNNING) {
    return ToGrpc(Error(Errc::kFailedPrecondition, "container `" + *id + "` is not running"));
  }
  std::optional<SandboxRecord> s = store_->Sandbox(r->sandbox_id());
  if (!s) return ToGrpc(Error(Errc::kNotFound, "pod sandbox of `" + *id + "` not found"));
  return ToGrpc(shim::Reopen(s->shim_dir(), *id));
}

}  // namespace berth::cri
