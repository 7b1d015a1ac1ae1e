#pragma once
// The agent's only way to the container runtime: CRI runtime.v1 over a
// gRPC channel. The channel is either berth's own runtime in the same
// process (grpc::Server::InProcessChannel, no socket, no copies through the
// kernel) or any CRI socket such as containerd's. Only the RPCs containerd
// 1.6 serves are used, so the agent runs over either.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/error.h"
#include "runtime/cri/proto/api.grpc.pb.h"

namespace berth::agent {

namespace v1 = ::runtime::v1;

class CriClient {
 public:
  // "unix:///run/containerd/containerd.sock" or a bare socket path.
  static Result<std::unique_ptr<CriClient>> Dial(const std::string& endpoint);
  explicit CriClient(std::shared_ptr<grpc::Channel> channel);

  v1::RuntimeService::Stub& runtime() { return *runtime_; }
  v1::ImageService::Stub& images() { return *images_; }

  // One unary call with a deadline; a failed call becomes an Error with the
  // gRPC code as its category and `what` (e.g. "StartContainer abc") as
  // context. Example:
  //   v1::StartContainerResponse out;
  //   BERTH_TRY(cri.Call(&v1::RuntimeService::Stub::StartContainer, req, &out,
  //                      "StartContainer " + id));
  template <class Stub, class Req, class Resp>
  Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*), const Req& req,
              Resp* resp, const std::string& what,
              std::chrono::milliseconds timeout = std::chrono::minutes(2)) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    grpc::Status s = (StubFor<Stub>().*method)(&ctx, req, resp);
    return s.ok() ? Status() : FromGrpc(s, what);
  }

  // ExecSync with the probe's timeout (exec probes, lifecycle hooks).
  Result<v1::ExecSyncResponse> ExecSync(const std::string& container_id,
                                        const std::vector<std::string>& cmd,
                                        std::chrono::seconds timeout);

  static Error FromGrpc(const grpc::Status& s, const std::string& what);

 private:
  template <class Stub>
  Stub& StubFor();

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<v1::ImageService::Stub> images_;
};

template <>
inline v1::RuntimeService::Stub& CriClient::StubFor<v1::RuntimeService::Stub>() {
  return *runtime_;
}
template <>
inline v1::ImageService::Stub& CriClient::StubFor<v1::ImageService::Stub>() {
  return *images_;
}

}  // namespace berth::agent
