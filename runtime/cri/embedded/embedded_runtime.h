#pragma once
// berth's CRI runtime as a part of a bigger process (`berth cri`, `berth
// agent`, `berth up`): the ImageService and RuntimeService wired together,
// one gRPC server optionally listening on a unix socket (for crictl or a
// stock kubelet), and an in-process channel for the agent in the same
// process, which skips the socket and the kernel altogether.

#include <grpcpp/grpcpp.h>

#include <memory>

#include "common/error.h"
#include "runtime/cri/images/image_service.h"
#include "runtime/cri/server/options.h"
#include "runtime/cri/server/runtime_service.h"

namespace berth::cri {

class EmbeddedRuntime {
 public:
  // `options.listen` empty: no socket, in-process callers only.
  static Result<std::unique_ptr<EmbeddedRuntime>> Start(const CriOptions& options);
  ~EmbeddedRuntime();  // Shutdown()

  std::shared_ptr<grpc::Channel> InProcessChannel();
  // Stops taking requests and finishes the ones in flight; containers and
  // their shims keep running.
  void Shutdown();
  // Blocks until Shutdown() (from another thread).
  void Wait();

 private:
  std::unique_ptr<ImageService> images_;
  std::unique_ptr<RuntimeService> runtime_;
  std::unique_ptr<grpc::Server> server_;
  bool shut_down_ = false;
};

}  // namespace berth::cri
