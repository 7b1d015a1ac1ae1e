#pragma once
// The CRI RuntimeService: pod sandboxes (berth-pause in its own shim, a
// pinned netns set up through CNI) and their containers, over the records in
// RecordStore and one berth-shim per pod. Every RPC maps berth::Error's
// category to the gRPC status 1:1 (grpc_status.h).
//
// Locking: one mutex per sandbox serializes its lifecycle (run, stop,
// remove, container create/remove); one per container serializes start,
// stop and remove of that container. Reads work on record copies.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cni/client/client.h"
#include "common/error.h"
#include "runtime/cri/proto/api.grpc.pb.h"
#include "runtime/cri/server/event_hub.h"
#include "runtime/cri/server/options.h"
#include "runtime/cri/server/record_store.h"
#include "runtime/cri/server/sandbox_files.h"
#include "runtime/cri/streaming/server.h"
#include "runtime/image/manifest.h"
#include "runtime/oci/container.h"

namespace berth::cri {

namespace v1 = ::runtime::v1;
namespace oci = runtime::oci;

// What CreateContainer needs of an image (the ImageService resolves it).
struct ContainerImage {
  std::string id;    // the config digest, CRI's image id
  std::string name;  // the record's name
  image::ImageConfig config;
  std::vector<std::string> lower_dirs;  // top-most first, for the overlay
  std::string chain_id;                 // the top snapshot, reported in use
  // Keeps image GC from running until the container's record (and so its
  // snapshot's use) is saved; dropped when CreateContainer returns.
  std::shared_ptr<void> gc_hold;
};
using ImageResolver = std::function<Result<ContainerImage>(const std::string& image)>;

class RuntimeService final : public v1::RuntimeService::Service {
 public:
  // Loads the records, re-adopts running shims (their exits while we were
  // away are applied) and prepares the pause rootfs.
  static Result<std::unique_ptr<RuntimeService>> Create(const CriOptions& options,
                                                        ImageResolver images);
  ~RuntimeService() override;

  // Snapshot chain ids of every container (the image GC keeps them).
  std::vector<std::string> SnapshotsInUse() const;

  grpc::Status Version(grpc::ServerContext*, const v1::VersionRequest*,
                       v1::VersionResponse*) override;
  grpc::Status Status(grpc::ServerContext*, const v1::StatusRequest*, v1::StatusResponse*) override;
  grpc::Status RuntimeConfig(grpc::ServerContext*, const v1::RuntimeConfigRequest*,
                             v1::RuntimeConfigResponse*) override;
  grpc::Status UpdateRuntimeConfig(grpc::ServerContext*, const v1::UpdateRuntimeConfigRequest*,
                                   v1::UpdateRuntimeConfigResponse*) override;

  grpc::Status RunPodSandbox(grpc::ServerContext*, const v1::RunPodSandboxRequest*,
                             v1::RunPodSandboxResponse*) override;
  grpc::Status StopPodSandbox(grpc::ServerContext*, const v1::StopPodSandboxRequest*,
                              v1::StopPodSandboxResponse*) override;
  grpc::Status RemovePodSandbox(grpc::ServerContext*, const v1::RemovePodSandboxRequest*,
                                v1::RemovePodSandboxResponse*) override;
  grpc::Status PodSandboxStatus(grpc::ServerContext*, const v1::PodSandboxStatusRequest*,
                                v1::PodSandboxStatusResponse*) override;
  grpc::Status ListPodSandbox(grpc::ServerContext*, const v1::ListPodSandboxRequest*,
                              v1::ListPodSandboxResponse*) override;

  grpc::Status CreateContainer(grpc::ServerContext*, const v1::CreateContainerRequest*,
                               v1::CreateContainerResponse*) override;
  grpc::Status StartContainer(grpc::ServerContext*, const v1::StartContainerRequest*,
                              v1::StartContainerResponse*) override;
  grpc::Status StopContainer(grpc::ServerContext*, const v1::StopContainerRequest*,
                             v1::StopContainerResponse*) override;
  grpc::Status RemoveContainer(grpc::ServerContext*, const v1::RemoveContainerRequest*,
                               v1::RemoveContainerResponse*) override;
  grpc::Status ListContainers(grpc::ServerContext*, const v1::ListContainersRequest*,
                              v1::ListContainersResponse*) override;
  grpc::Status ContainerStatus(grpc::ServerContext*, const v1::ContainerStatusRequest*,
                               v1::ContainerStatusResponse*) override;
  grpc::Status UpdateContainerResources(grpc::ServerContext*,
                                        const v1::UpdateContainerResourcesRequest*,
                                        v1::UpdateContainerResourcesResponse*) override;
  grpc::Status ReopenContainerLog(grpc::ServerContext*, const v1::ReopenContainerLogRequest*,
                                  v1::ReopenContainerLogResponse*) override;
  grpc::Status ExecSync(grpc::ServerContext*, const v1::ExecSyncRequest*,
                        v1::ExecSyncResponse*) override;
  grpc::Status Exec(grpc::ServerContext*, const v1::ExecRequest*, v1::ExecResponse*) override;
  grpc::Status Attach(grpc::ServerContext*, const v1::AttachRequest*, v1::AttachResponse*) override;
  grpc::Status PortForward(grpc::ServerContext*, const v1::PortForwardRequest*,
                           v1::PortForwardResponse*) override;
  grpc::Status ContainerStats(grpc::ServerContext*, const v1::ContainerStatsRequest*,
                              v1::ContainerStatsResponse*) override;
  grpc::Status ListContainerStats(grpc::ServerContext*, const v1::ListContainerStatsRequest*,
                                  v1::ListContainerStatsResponse*) override;
  grpc::Status PodSandboxStats(grpc::ServerContext*, const v1::PodSandboxStatsRequest*,
                               v1::PodSandboxStatsResponse*) override;
  grpc::Status ListPodSandboxStats(grpc::ServerContext*, const v1::ListPodSandboxStatsRequest*,
                                   v1::ListPodSandboxStatsResponse*) override;
  grpc::Status GetContainerEvents(grpc::ServerContext*, const v1::GetEventsRequest*,
                                  grpc::ServerWriter<v1::ContainerEventResponse>*) override;

 private:
  RuntimeService(CriOptions options, ImageResolver images);

  // Business logic, one Result per RPC; the overrides convert.
  Result<std::string> DoRunPodSandbox(const v1::RunPodSandboxRequest& req);
  berth::Status DoStopPodSandbox(const std::string& id);
  berth::Status DoRemovePodSandbox(const std::string& id);
  Result<std::string> DoCreateContainer(const v1::CreateContainerRequest& req);
  berth::Status DoStartContainer(const std::string& id);
  berth::Status DoStopContainer(const std::string& id, int64_t timeout_s);
  berth::Status DoRemoveContainer(const std::string& id);
  Result<v1::ExecSyncResponse> DoExecSync(const v1::ExecSyncRequest& req);

  // Sandbox pieces (sandbox_setup.cc).
  berth::Status SetUpNetwork(SandboxRecord& record);
  berth::Status TearDownNetwork(SandboxRecord& record);
  Result<std::string> StartShim(const SandboxRecord& record);
  berth::Status StartPause(SandboxRecord& record, const SandboxFiles& files);
  berth::Status StopPause(const SandboxRecord& record);
  berth::Status KillAndWait(const ContainerRecord& c, int signal, int64_t timeout_ms);

  // Exit monitoring (exits.cc): one subscription per shim.
  void WatchShim(const std::string& sandbox_id, const std::string& shim_dir);
  void ApplyExit(const std::string& container_id, int wait_status, int64_t finished_ns);
  berth::Status Readopt();
  void StopWatcher(const std::string& sandbox_id);
  void StopWatchers();

  // Fills the CRI views from records.
  v1::PodSandboxStatus SandboxStatusOf(const SandboxRecord& r) const;
  v1::ContainerStatus ContainerStatusOf(const ContainerRecord& r) const;
  void Emit(v1::ContainerEventType type, const ContainerRecord& c);
  Result<v1::ContainerStats> StatsOf(const ContainerRecord& r) const;
  Result<v1::PodSandboxStats> PodStatsOf(const SandboxRecord& s) const;

  oci::RuntimeOptions OciOptions() const;
  std::string PauseRootfs() const { return options_.root + "/cri/pause-rootfs"; }
  // What a reboot ends along with the processes (bundles, rootfs mount
  // points, hostname/hosts/resolv.conf, /dev/shm) lives on the run root, a
  // tmpfs in practice, as containerd keeps its bundles under /run; the
  // records and writable layers stay on the root.
  std::string SandboxStateDir(const std::string& id) const {
    return options_.run_root + "/sandboxes/" + id;
  }
  std::string ContainerStateDir(const std::string& id) const {
    return options_.run_root + "/containers/" + id;
  }

  CriOptions options_;
  ImageResolver images_;
  std::unique_ptr<RecordStore> store_;
  std::unique_ptr<cni::Client> cni_;
  EventHub events_;
  std::unique_ptr<streaming::Server> streaming_;

  std::mutex watchers_mu_;
  std::map<std::string, std::thread> watchers_;  // by sandbox id
  std::map<std::string, int> watcher_fds_;       // shutdown() ends a watcher
  std::atomic<bool> stopping_{false};

  // Waiters for container exits (StopContainer, ExecSync).
  std::mutex exit_mu_;
  std::condition_variable exit_cv_;
};

}  // namespace berth::cri
