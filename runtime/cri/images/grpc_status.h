#pragma once
// berth::Error -> grpc::Status at the CRI edge. berth's Errc values equal
// gRPC's status codes, so the category maps 1:1 and the message is the
// error's full text (context, operation, object, strerror). Header-only:
// any gRPC service in berth may include it (link gRPC::grpc++).

#include <grpcpp/support/status.h>

#include "common/error.h"

namespace berth::cri {

inline grpc::Status ToGrpcStatus(const Error& error) {
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(error.code())), error.str());
}

inline grpc::Status ToGrpcStatus(const Status& status) {
  return status.ok() ? grpc::Status::OK : ToGrpcStatus(status.error());
}

}  // namespace berth::cri
