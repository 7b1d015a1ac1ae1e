#pragma once
// A CRI RuntimeService for the kubelet API's tests, in process: sandboxes
// and containers the test declares (with log files it writes), stats it
// sets, ExecSync answered by echoing, and Exec/Attach/PortForward URLs
// from a real streaming server whose backend runs host processes.

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/cri/cri_client.h"
#include "runtime/cri/streaming/server.h"

namespace berth::agent::kubelet::testing {

struct FakeContainer {
  std::string id;
  std::string sandbox_id;
  std::string name;
  v1::ContainerState state = v1::CONTAINER_RUNNING;
  int64_t created_at = 0;
  int restart_count = 0;
  int exit_code = 0;
  std::string log_path;
  // Stats; none when cpu_nanos is 0.
  uint64_t cpu_nanos = 0;
  uint64_t working_set = 0;
};

struct FakeSandbox {
  std::string id;
  std::string ns;
  std::string name;
  std::string uid;
  bool ready = true;
  int64_t created_at = 0;
};

class FakeRuntime final : public v1::RuntimeService::Service {
 public:
  explicit FakeRuntime(cri::streaming::Server* streaming) : streaming_(streaming) {}

  void AddSandbox(FakeSandbox s);
  void AddContainer(FakeContainer c);
  void SetState(const std::string& id, v1::ContainerState state, int exit_code = 0);
  std::vector<std::vector<std::string>> exec_syncs();
  bool pod_stats_unimplemented = false;

  grpc::Status ListPodSandbox(grpc::ServerContext*, const v1::ListPodSandboxRequest* req,
                              v1::ListPodSandboxResponse* resp) override;
  grpc::Status ListContainers(grpc::ServerContext*, const v1::ListContainersRequest* req,
                              v1::ListContainersResponse* resp) override;
  grpc::Status ContainerStatus(grpc::ServerContext*, const v1::ContainerStatusRequest* req,
                               v1::ContainerStatusResponse* resp) override;
  grpc::Status ExecSync(grpc::ServerContext*, const v1::ExecSyncRequest* req,
                        v1::ExecSyncResponse* resp) override;
  grpc::Status Exec(grpc::ServerContext*, const v1::ExecRequest* req,
                    v1::ExecResponse* resp) override;
  grpc::Status Attach(grpc::ServerContext*, const v1::AttachRequest* req,
                      v1::AttachResponse* resp) override;
  grpc::Status PortForward(grpc::ServerContext*, const v1::PortForwardRequest* req,
                           v1::PortForwardResponse* resp) override;
  grpc::Status ListContainerStats(grpc::ServerContext*, const v1::ListContainerStatsRequest* req,
                                  v1::ListContainerStatsResponse* resp) override;
  grpc::Status ListPodSandboxStats(grpc::ServerContext*, const v1::ListPodSandboxStatsRequest* req,
                                   v1::ListPodSandboxStatsResponse* resp) override;

 private:
  v1::Container ToCri(const FakeContainer& c) const;
  v1::ContainerStats StatsOf(const FakeContainer& c) const;

  cri::streaming::Server* streaming_;
  std::mutex mu_;
  std::map<std::string, FakeSandbox> sandboxes_;
  std::map<std::string, FakeContainer> containers_;
  std::vector<std::vector<std::string>> exec_syncs_;
};

// The fake served over an in-process gRPC channel, and a CriClient on it.
class InProcessCri {
 public:
  explicit InProcessCri(FakeRuntime& runtime);
  ~InProcessCri();
  CriClient& client() { return *client_; }

 private:
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<CriClient> client_;
};

}  // namespace berth::agent::kubelet::testing
