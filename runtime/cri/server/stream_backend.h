#pragma once
// What the streaming server (runtime/cri/streaming) asks of berth: exec
// processes and attach sessions through the pod's shim, and connections to
// ports inside a pod's network namespace.

#include <string>

#include "runtime/cri/server/record_store.h"
#include "runtime/cri/streaming/backend.h"

namespace berth::cri {

class StreamBackend final : public streaming::Backend {
 public:
  explicit StreamBackend(RecordStore* store) : store_(store) {}

  Result<streaming::ProcessStreams> Exec(const streaming::ExecRequest& req,
                                         streaming::ExitHandler on_exit) override;
  Result<streaming::ProcessStreams> Attach(const streaming::AttachRequest& req,
                                           streaming::ExitHandler on_exit) override;
  Result<UniqueFd> PortForward(const std::string& pod_sandbox_id, int32_t port) override;

 private:
  struct Target {
    ContainerRecord container;
    SandboxRecord sandbox;
  };
  Result<Target> Running(const std::string& container_id) const;

  RecordStore* store_;
};

// The container's process settings with `cmd` as args, in a file for the
// shim (exec_rpc.cc).
Result<std::string> WriteExecProcess(const ContainerRecord& r,
                                     const google::protobuf::RepeatedPtrField<std::string>& cmd,
                                     bool tty);

}  // namespace berth::cri
